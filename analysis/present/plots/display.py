"""Show a figure in a notebook as an HTML ``<figure>``: saved files, alt text, caption.

:func:`show_figure` replaces the ``save_figure(...)`` + ``fig`` pair at the end of a
notebook's figure cell. In the report build (``figures_dir`` set) it saves the figure as
SVG and PNG and shows the SVG, sharp at any screen density, linked to itself so that a tap
opens it full size; in an interactive session (``figures_dir`` None) it shows the PNG
inline. Either way the image carries the alt text and the caption of a
:class:`~analysis.present.plots.describe.FigureDescription`; the report numbers the captions.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from analysis.engine._errors import AnalysisError
from analysis.present.plots._style import PNG_DPI, as_plain_text, save_figure
from analysis.present.plots.describe import FigureDescription

#: File names of saved figures: lower case, digits and underscores (e.g. ``02_forest``).
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")

#: CSS pixels per inch: the size at which a figure is laid out on a page.
_CSS_PX_PER_INCH = 96

#: The widest figure a 390 px phone shows whole (its column, less the page's 1rem margins and
#: the panel's border): a wider one scrolls sideways, and says so.
PHONE_COLUMN_PX = 356


@dataclass(frozen=True)
class FigureDisplay:
    """A figure as the notebook shows it (Jupyter renders :meth:`_repr_html_`).

    Attributes
    ----------
    name : str
        File stem, e.g. ``"02_forest_response_rates"``.
    description : FigureDescription
        Caption and alt text.
    src : str
        Image source: ``figures/<name>.svg`` (relative to the report page) when saved,
        else a ``data:`` URI of the PNG.
    width, height : int
        Layout size in CSS pixels (the figure's size at 96 per inch).
    files : tuple of pathlib.Path
        Files written (empty when nothing was saved).
    """

    name: str
    description: FigureDescription
    src: str
    width: int
    height: int
    files: tuple[Path, ...] = ()

    def _repr_html_(self) -> str:
        src = html.escape(self.src)
        img = (f'<img src="{src}" alt="{html.escape(self.description.alt)}" '
               f'width="{self.width}" height="{self.height}">')
        files = ""
        if self.files:  # saved: the image opens the full-size SVG; the PNG is linked too
            img = f'<a class="kfm-figure-link" href="{src}">{img}</a>'
            png = html.escape(self.src.rsplit(".", 1)[0] + ".png")
            files = (f' <span class="kfm-figure-files">Full size: <a href="{src}">SVG</a>'
                     f' &middot; <a href="{png}">PNG</a></span>')
        # On a phone a wide figure keeps its own size in a panel that scrolls sideways (a readable
        # crop; report.css), rather than shrinking until its text cannot be read; one that fits
        # needs no hint.
        if self.width > PHONE_COLUMN_PX:
            pan = (f'<div class="kfm-figure-pan" tabindex="0" role="group" aria-label="Figure: scroll sideways '
                   f'to see all of it">{img}</div><p class="kfm-figure-hint">Scroll the figure sideways to see '
                   "all of it, or open it full size.</p>")
        else:
            pan = f'<div class="kfm-figure-pan">{img}</div>'
        return (f'<figure class="kfm-figure">{pan}<figcaption><span class="kfm-caption-text">'
                f"{html.escape(self.description.caption)}</span>{files}</figcaption></figure>")

    def __repr__(self) -> str:
        return f"Figure {self.name}: {self.description.caption} ({self.description.alt})"


def show_figure(fig: Figure, name: str, description: FigureDescription, *,
                figures_dir: str | Path | None = None) -> FigureDisplay:
    """Save ``fig`` (when ``figures_dir`` is set) and return it as a captioned figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        File stem, lower case with digits and underscores, e.g. ``"02_forest_response_rates"``.
    description : FigureDescription
        From the ``describe_*`` function matching the plot (e.g.
        :func:`analysis.present.plots.describe_forest_plot`).
    figures_dir : path or None
        Where to save ``<name>.svg`` and ``<name>.png``; the page that shows the figure
        is expected one level above it (the report's ``figures/`` folder). None saves
        nothing and embeds the PNG.

    Returns
    -------
    FigureDisplay
        Make it the cell's last expression: Jupyter shows its HTML.

    Raises
    ------
    AnalysisError
        If the name is not a plain file stem or the alt text or caption is empty.

    Examples
    --------
    >>> from analysis.present.plots._style import new_figure
    >>> shown = show_figure(new_figure(2, 1), "demo", FigureDescription("A caption.", "Alt."))
    >>> shown.src.startswith("data:image/png;base64,"), shown.width, shown.height
    (True, 192, 96)
    >>> 'alt="Alt."' in shown._repr_html_()
    True
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise AnalysisError(f"figure name {name!r}: use lower-case letters, digits and "
                            "underscores, without a suffix (e.g. '02_forest_response_rates')")
    if not isinstance(description, FigureDescription):
        raise AnalysisError(f"figure {name}: description must be a FigureDescription from "
                            "an analysis.present.plots.describe_* function")
    if not description.alt.strip() or not description.caption.strip():
        raise AnalysisError(f"figure {name}: alt text and caption must not be empty")
    width_in, height_in = fig.get_size_inches()
    size = (round(width_in * _CSS_PX_PER_INCH), round(height_in * _CSS_PX_PER_INCH))
    if figures_dir is None:
        buffer = io.BytesIO()
        as_plain_text(fig).savefig(buffer, format="png", dpi=PNG_DPI, facecolor="white")
        src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        return FigureDisplay(name, description, src, *size)
    files = save_figure(fig, Path(figures_dir) / name)
    src = f"{Path(figures_dir).name}/{name}.svg"
    return FigureDisplay(name, description, src, *size, files=files)
