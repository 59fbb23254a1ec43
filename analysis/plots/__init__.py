"""Publication figures drawn from result objects (never recomputing a statistic).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`save_figure`
writes it as SVG and 200-dpi PNG.
"""

from analysis.plots._style import PALETTE, overlapping_texts, save_figure
from analysis.plots.forest import forest_plot, heterogeneity_text

__all__ = ["PALETTE", "forest_plot", "heterogeneity_text", "overlapping_texts", "save_figure"]
