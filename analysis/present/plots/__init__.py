"""Publication figures drawn from result objects (never recomputing a statistic).

Every function returns a :class:`matplotlib.figure.Figure` (outside pyplot's
global state; Jupyter displays it once); :func:`save_figure` writes it as SVG
and 200-dpi PNG; :func:`show_figure` saves it and shows it on the page with the
caption and alt text that the matching ``describe_*`` function writes from the same
result. Colours are Okabe & Ito's colour-blind safe palette, text is
at least 8 pt at print size, and layouts are measured so that no text
overlaps (:func:`overlapping_texts` checks it).
"""

from analysis.present.plots._style import PALETTE, as_plain_text, overlapping_texts, save_figure
from analysis.present.plots.describe import (
    FigureDescription,
    comparison_legend,
    describe_comparison_icon_array,
    describe_cumulative_plot,
    describe_duration_plot,
    describe_forest_plot,
    describe_funnel_plot,
    describe_leave_one_out_plot,
    describe_posterior_plot,
    describe_prisma_plot,
    describe_response_icon_array,
    describe_risk_of_bias_plot,
    describe_specification_curve,
    describe_trials_icon_array,
    icon_array_legend,
)
from analysis.present.plots.display import FigureDisplay, show_figure
from analysis.present.plots.duration import duration_plot
from analysis.present.plots.forest import forest_plot, heterogeneity_text, subgroup_difference_text
from analysis.present.plots.funnel import funnel_plot
from analysis.present.plots.icon_array import (
    comparison_icon_array,
    comparison_pictures,
    response_icon_array,
    trials_icon_array,
)
from analysis.present.plots.posterior import posterior_plot
from analysis.present.plots.prisma import prisma_plot
from analysis.present.plots.risk_of_bias import risk_of_bias_plot
from analysis.present.plots.sensitivity import cumulative_plot, leave_one_out_plot
from analysis.present.plots.specification_curve import specification_curve_plot

__all__ = [
    "as_plain_text",
    "PALETTE",
    "FigureDescription",
    "FigureDisplay",
    "comparison_icon_array",
    "comparison_legend",
    "comparison_pictures",
    "trials_icon_array",
    "describe_trials_icon_array",
    "describe_comparison_icon_array",
    "describe_response_icon_array",
    "icon_array_legend",
    "response_icon_array",
    "cumulative_plot",
    "describe_cumulative_plot",
    "describe_duration_plot",
    "describe_forest_plot",
    "describe_funnel_plot",
    "describe_leave_one_out_plot",
    "describe_posterior_plot",
    "describe_prisma_plot",
    "describe_risk_of_bias_plot",
    "describe_specification_curve",
    "duration_plot",
    "forest_plot",
    "funnel_plot",
    "heterogeneity_text",
    "leave_one_out_plot",
    "overlapping_texts",
    "posterior_plot",
    "prisma_plot",
    "risk_of_bias_plot",
    "save_figure",
    "show_figure",
    "specification_curve_plot",
    "subgroup_difference_text",
]
