"""How numbers are written for readers: one rule for text, tables and figures.

Every sentence (``analysis.present.narrative``), table (``analysis.review.grade``,
``analysis.review.claims``) and figure (``analysis.present.plots``) formats through these
functions, so the same p-value or proportion reads the same everywhere.
Nothing is rounded inside a computation; only here, for display.

Rules
-----
- Proportions as whole percentages (one decimal below 1 % or above 99 %).
- Ratios, differences and other effects with two decimals.
- p-values: ``p < 0.001``; three decimals below 0.1 (so 0.047 never reads "0.05");
  otherwise two decimals.
- tau² with two significant digits (0 as ``0``).
- I² as a whole percentage.
- Missing values as an empty string in figures; never ``nan`` or ``None``.
"""

from __future__ import annotations

import math


def is_missing(value) -> bool:
    """None, NaN or pandas' NA (whose comparisons are neither true nor false)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:
        return True


def format_percent(proportion: float) -> str:
    """A proportion as a percentage.

    Examples
    --------
    >>> format_percent(0.5710), format_percent(0.004), format_percent(1.0)
    ('57%', '0.4%', '100%')
    """
    value = 100.0 * float(proportion)
    if value in (0.0, 100.0) or 1.0 <= value <= 99.0:
        return f"{value:.0f}%"
    return f"{value:.1f}%"


def format_p(p: float | None) -> str:
    """A p-value: ``"p < 0.001"``, three decimals below 0.1, two otherwise; ``""`` if missing.

    Examples
    --------
    >>> format_p(0.2821), format_p(0.0042), format_p(2e-5), format_p(0.0469)
    ('p = 0.28', 'p = 0.004', 'p < 0.001', 'p = 0.047')
    """
    if is_missing(p) or not math.isfinite(float(p)):
        return ""
    if p < 0.001:
        return "p < 0.001"
    if p < 0.1:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def format_tau2(tau2: float) -> str:
    """tau² with two significant digits (0 as ``0``).

    Examples
    --------
    >>> format_tau2(0.0993), format_tau2(0.0), format_tau2(1.234)
    ('0.099', '0', '1.2')
    """
    if tau2 == 0:
        return "0"
    return f"{tau2:.2g}"


def format_number(value: float | None, digits: int = 2) -> str:
    """Fixed-point text; ``""`` for missing, ``"∞"`` for infinity, never ``"-0.00"``.

    Examples
    --------
    >>> format_number(1.23456), format_number(-0.0001), format_number(float("nan"))
    ('1.23', '0.00', '')
    """
    if is_missing(value):
        return ""
    value = float(value)
    if not math.isfinite(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def format_effect(value: float) -> str:
    """A ratio or difference on its natural scale: two decimals.

    >>> format_effect(0.8132)
    '0.81'
    """
    return format_number(value, 2)


def format_interval(lower: float, upper: float, *, percent: bool = False) -> str:
    """``"44% to 69%"`` (proportions) or ``"0.81 to 1.52"`` (effects).

    >>> format_interval(0.44, 0.69, percent=True), format_interval(0.8, 1.524)
    ('44% to 69%', '0.80 to 1.52')
    """
    fmt = format_percent if percent else format_effect
    return f"{fmt(lower)} to {fmt(upper)}"


def format_count(value) -> str:
    """A count of people or studies as a whole number (``""`` if missing).

    >>> format_count(115.0), format_count(None)
    ('115', '')
    """
    if is_missing(value):
        return ""
    return f"{int(round(float(value)))}"


def plain(value) -> str:
    """A value as a reader (or an error message) should see it: no numpy reprs.

    >>> import numpy as np
    >>> plain(np.float64(0.2)), plain(np.int64(3)), plain("abc"), plain(1e200)
    ('0.2', '3', "'abc'", '1e+200')
    """
    if isinstance(value, str):
        return repr(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:g}"
