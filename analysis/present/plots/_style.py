"""House style for every figure: palette, fonts, text measurement and saving.

The palette is Okabe & Ito's colour-blind safe set; every categorical meaning
that a colour carries is also carried by a symbol or a text label, so the
figures survive greyscale printing. Fonts are at least 8 pt at the printed
size (figures are laid out in inches and saved at 200 dpi).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis.engine._errors import AnalysisError, check_option

#: Okabe & Ito (2008) colour-blind safe palette.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#7F7F7F",
    "light_grey": "#D9D9D9",
}

#: Body text size in points at print size.
FONT_SIZE = 9.0
#: The smallest text any figure uses (tick labels, footnotes), in points.
MIN_FONT_SIZE = 8.0
#: Resolution of saved PNG files.
PNG_DPI = 200
#: Resolution used while laying out; text extents are converted to inches.
LAYOUT_DPI = 100


def new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    """Return a Figure with an Agg canvas, outside pyplot's global state.

    Jupyter's inline backend displays a returned Figure once; scripts call
    :func:`save_figure`. Keeping figures out of pyplot avoids the "too many
    open figures" warnings when a notebook draws dozens of them.

    Examples
    --------
    >>> fig = new_figure(3, 2)
    >>> [round(float(v), 1) for v in fig.get_size_inches()]
    [3.0, 2.0]
    """
    fig = Figure(figsize=(width, height), dpi=LAYOUT_DPI)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    return fig


def text_size(fig: Figure, text: str, fontsize: float = FONT_SIZE, weight: str = "normal",
              style: str = "normal") -> tuple[float, float]:
    """Width and height in inches of ``text`` as the figure's renderer draws it.

    Layout is measured, never guessed from character counts, so long labels
    widen their column instead of running into the next one.

    Examples
    --------
    >>> fig = new_figure()
    >>> w1, _ = text_size(fig, "Noppers 2011")
    >>> w2, _ = text_size(fig, "Noppers 2011, S(+)-ketamine versus midazolam")
    >>> bool(w2 > w1 > 0)
    True
    """
    width, height = _measure(text, float(fontsize), weight, style)
    return width, height


@functools.lru_cache(maxsize=8192)
def _measure(text: str, fontsize: float, weight: str, style: str) -> tuple[float, float]:
    if text == "":
        return 0.0, 0.0
    scratch = _scratch_figure()
    probe = Text(0, 0, text, fontsize=fontsize, fontweight=weight, fontstyle=style)
    probe.set_parse_math(False)
    probe.set_figure(scratch)
    box = probe.get_window_extent(scratch.canvas.get_renderer())
    return float(box.width / scratch.dpi), float(box.height / scratch.dpi)


@functools.lru_cache(maxsize=1)
def _scratch_figure() -> Figure:
    return new_figure(1, 1)


def visible_texts(fig: Figure) -> list[Text]:
    """Every visible, non-empty Text artist of ``fig``, tick labels included."""
    found = []
    for artist in fig.findobj(Text):
        if artist.get_visible() and artist.get_text().strip() and artist.figure is fig:
            found.append(artist)
    return found


def overlapping_texts(fig: Figure, tolerance: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of visible texts whose drawn bounding boxes overlap.

    ``tolerance`` is in pixels at the figure's dpi: boxes that merely touch
    (glyph padding) are not counted. Used by the tests and handy when adding a
    figure. Texts outside the figure are reported against ``"<figure edge>"``.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in visible_texts(fig) if t.get_window_extent(renderer).width > 0]
    boxes = [t.get_window_extent(renderer) for t in texts]
    width, height = fig.bbox.width, fig.bbox.height
    clashes = []
    for i, box in enumerate(boxes):
        if (box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > width + tolerance
                or box.y1 > height + tolerance):
            clashes.append((texts[i].get_text(), "<figure edge>"))
        for j in range(i + 1, len(boxes)):
            other = boxes[j]
            overlap_x = min(box.x1, other.x1) - max(box.x0, other.x0)
            overlap_y = min(box.y1, other.y1) - max(box.y0, other.y0)
            if overlap_x > tolerance and overlap_y > tolerance:
                clashes.append((texts[i].get_text(), texts[j].get_text()))
    return clashes


def as_plain_text(fig: Figure) -> Figure:
    """Every text of ``fig`` drawn as written: no ``$...$`` mathtext, which would turn data text
    (a study label with two dollar signs) into formulas, or fail on one it cannot parse.

    >>> fig = new_figure(2, 1)
    >>> text = fig.text(0.1, 0.5, "Noppers $x$ 2011")
    >>> as_plain_text(fig) is fig, text.get_parse_math()
    (True, False)
    """
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


def save_figure(fig: Figure, stem: str | Path, *, formats: Iterable[str] = ("svg", "png"),
                dpi: int = PNG_DPI) -> tuple[Path, ...]:
    """Write ``fig`` as ``<stem>.svg`` and ``<stem>.png`` (200 dpi); return the paths.

    The parent folder is created if needed. SVG output carries no date and a
    fixed hash salt, so re-running the report on unchanged data gives
    byte-identical SVG files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : str or pathlib.Path
        Path without suffix, e.g. ``reports/figures/forest_responders``.
    formats : iterable of str
        Any of ``"svg"``, ``"png"``, ``"pdf"``.
    dpi : int
        Resolution of raster output.

    Returns
    -------
    tuple of pathlib.Path
        The files written, in the order of ``formats``.

    Examples
    --------
    >>> import tempfile
    >>> fig = new_figure(2, 1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save_figure(fig, Path(folder) / "empty")
    ...     [p.suffix for p in paths], all(p.stat().st_size > 0 for p in paths)
    (['.svg', '.png'], True)
    """
    import matplotlib

    as_plain_text(fig)
    stem = Path(stem)
    if stem.suffix.lower() in {".svg", ".png", ".pdf"}:
        raise AnalysisError(f"save_figure takes a path without suffix, got {str(stem)!r}")
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        check_option("format", fmt, ("svg", "png", "pdf"))
        path = stem.with_name(stem.name + "." + fmt)
        metadata = {"svg": {"Date": None}, "png": {"Software": None},
                    "pdf": {"CreationDate": None}}[fmt]
        with matplotlib.rc_context({"svg.hashsalt": "analysis.present.plots", "svg.fonttype": "path"}):
            fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
        written.append(path)
    return tuple(written)
