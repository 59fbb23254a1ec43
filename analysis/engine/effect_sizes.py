"""Effect sizes and sampling variances per study, as metafor's ``escalc()``.

:func:`effect_sizes` takes a study table (one row per study or comparison)
and returns a copy with ``yi`` (the effect size on its analysis scale) and
``vi`` (its sampling variance) added, plus two columns a reader can see in
the table: ``es_correction`` (what was done to the row's data before the
computation, e.g. the zero-cell correction) and ``es_note`` (why ``yi`` is
missing, when it is). Back-transformations, axis scales and labels per
measure live in :mod:`analysis.engine.transforms`.

Measure codes, input names and defaults are metafor's (Viechtbauer 2010), so
``effect_sizes(df, "RR")`` gives the same numbers as
``escalc(measure="RR", ai=ai, bi=bi, ci=ci, di=di, data=df)`` in R.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln

from analysis.engine._errors import AnalysisError, check_option

__all__ = ["MEASURES", "ZERO_CELL_OPTIONS", "effect_sizes"]

#: Values of ``to`` (when to add ``add`` to the cells), as in metafor.
ZERO_CELL_OPTIONS = ("only0", "all", "if0all", "none")

#: Names added to the returned table.
_OUTPUT_COLUMNS = ("yi", "vi", "es_correction", "es_note")

# Count designs: per group (events, non-events, group size) in metafor's names.
_COUNT_GROUPS = {
    "two_group_binary": (("ai", "bi", "n1i"), ("ci", "di", "n2i")),
    "single_proportion": (("xi", "mi", "ni"),),
}

# Every metafor input name a ``columns`` mapping may use.
_INPUT_NAMES = (
    "ai", "bi", "ci", "di", "n1i", "n2i", "xi", "mi", "ni",
    "m1i", "m2i", "sd1i", "sd2i", "ri",
)  # fmt: skip

_CONTINUOUS_INPUTS = {
    "two_group_continuous": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "paired_continuous": ("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"),
}


def _hedges_j(m: np.ndarray) -> np.ndarray:
    """Exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)); NaN for m <= 1."""
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, j)


# --------------------------------------------------------------- formulas
# Each takes the prepared (corrected) inputs and returns (yi, vi). They mirror
# escalc()'s expressions term for term so that rounding agrees with metafor.


def _rr(v):
    p1, p2 = v["ai"] / v["n1i"], v["ci"] / v["n2i"]
    return np.log(p1) - np.log(p2), 1 / v["ai"] - 1 / v["n1i"] + 1 / v["ci"] - 1 / v["n2i"]


def _or(v):
    p1, p2 = v["ai"] / v["n1i"], v["ci"] / v["n2i"]
    yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
    return yi, 1 / v["ai"] + 1 / v["bi"] + 1 / v["ci"] + 1 / v["di"]


def _rd(v):
    p1, p2 = v["ai"] / v["n1i"], v["ci"] / v["n2i"]
    return p1 - p2, p1 * (1 - p1) / v["n1i"] + p2 * (1 - p2) / v["n2i"]


def _pr(v):
    p = v["xi"] / v["ni"]
    return p, p * (1 - p) / v["ni"]


def _plo(v):
    p = v["xi"] / v["ni"]
    return np.log(p / (1 - p)), 1 / v["xi"] + 1 / v["mi"]


def _pft(v):
    x, n = v["xi"], v["ni"]
    yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    return yi, 1 / (4 * n + 2)


def _pas(v):
    return np.arcsin(np.sqrt(v["xi"] / v["ni"])), 1 / (4 * v["ni"])


def _md(v):
    return v["m1i"] - v["m2i"], v["sd1i"] ** 2 / v["n1i"] + v["sd2i"] ** 2 / v["n2i"]


def _smd(v):
    n1, n2 = v["n1i"], v["n2i"]
    m = n1 + n2 - 2
    sd_pooled = np.sqrt(((n1 - 1) * v["sd1i"] ** 2 + (n2 - 1) * v["sd2i"] ** 2) / m)
    yi = _hedges_j(m) * (v["m1i"] - v["m2i"]) / sd_pooled
    return yi, 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))


def _mc(v):
    vi = (v["sd1i"] ** 2 + v["sd2i"] ** 2 - 2 * v["ri"] * v["sd1i"] * v["sd2i"]) / v["ni"]
    return v["m1i"] - v["m2i"], vi


def _smcr(v):
    n = v["ni"]
    yi = _hedges_j(n - 1) * (v["m1i"] - v["m2i"]) / v["sd1i"]
    return yi, 2 * (1 - v["ri"]) / n + yi**2 / (2 * n)


@dataclass(frozen=True)
class _Measure:
    """One row of the dispatch table."""

    design: str
    formula: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]
    default_add: float  # metafor: 1/2, but 0 for PAS and PFT
    inputs: tuple[str, ...] = ()  # continuous designs: the required inputs
    correction: str = "none"  # what every computed row gets (besides zero cells)
    unestimable: str = "division by zero"


_J = "Hedges' exact small-sample correction J"

#: The dispatch table: measure code -> design, formula and metafor's defaults.
MEASURES: dict[str, _Measure] = {
    "RR": _Measure("two_group_binary", _rr, 0.5, unestimable="a zero cell without correction"),
    "OR": _Measure("two_group_binary", _or, 0.5, unestimable="a zero cell without correction"),
    "RD": _Measure("two_group_binary", _rd, 0.5),
    "PR": _Measure("single_proportion", _pr, 0.5),
    "PLO": _Measure("single_proportion", _plo, 0.5, unestimable="0 or n events without correction"),
    "PFT": _Measure("single_proportion", _pft, 0.0),
    "PAS": _Measure("single_proportion", _pas, 0.0),
    "MD": _Measure("two_group_continuous", _md, 0.0, _CONTINUOUS_INPUTS["two_group_continuous"]),
    "SMD": _Measure(
        "two_group_continuous", _smd, 0.0, _CONTINUOUS_INPUTS["two_group_continuous"],
        correction=_J, unestimable="n1i + n2i <= 3 (J undefined) or both SDs zero",
    ),
    "MC": _Measure("paired_continuous", _mc, 0.0, _CONTINUOUS_INPUTS["paired_continuous"]),
    "SMCR": _Measure(
        "paired_continuous", _smcr, 0.0, ("m1i", "m2i", "sd1i", "ni", "ri"),
        correction=_J, unestimable="ni <= 2 (J undefined)",
    ),
}  # fmt: skip


# --------------------------------------------------------------- helpers


class _Problems:
    """Collects invalid cells so one error lists all of them."""

    def __init__(self, data: pd.DataFrame, columns: Mapping[str, str]):
        self._index = data.index
        self._columns = columns
        self.messages: list[str] = []

    def check(self, bad: np.ndarray, name: str, values: np.ndarray, rule: str) -> None:
        for pos in np.flatnonzero(bad):
            self.messages.append(
                f"row at index {self._index[pos]!r}, column {self._columns[name]!r} ({name}) "
                f"= {values[pos]:g}: {rule}"
            )

    def raise_if_any(self, measure: str) -> None:
        if self.messages:
            shown = self.messages[:20]
            more = len(self.messages) - len(shown)
            raise AnalysisError(
                f"invalid input for measure={measure!r}:\n  "
                + "\n  ".join(shown)
                + (f"\n  ... and {more} more" if more else "")
            )


def _column(data: pd.DataFrame, columns: Mapping[str, str], name: str) -> np.ndarray | None:
    """The input ``name`` as a float array (NaN where missing), or None if absent."""
    col = columns[name]
    if col not in data.columns:
        return None
    try:
        values = pd.to_numeric(data[col], errors="raise")
    except (ValueError, TypeError) as err:
        raise AnalysisError(f"column {col!r} ({name}) must be numeric: {err}") from None
    return values.to_numpy(dtype=float, na_value=np.nan)


def _require(data, columns, names, measure):
    missing = [f"{n} (column {columns[n]!r})" for n in names if columns[n] not in data.columns]
    if missing:
        raise AnalysisError(
            f"measure={measure!r} needs column(s) not in data: {', '.join(missing)}; "
            "map other names with columns={'<metafor name>': '<your column>'}"
        )


def _count_inputs(data, columns, spec: _Measure, measure, problems):
    """Events, non-events and sizes per group, validated; NaN where not given."""
    values: dict[str, np.ndarray] = {}
    for events, nonevents, size in _COUNT_GROUPS[spec.design]:
        _require(data, columns, [events], measure)
        e = _column(data, columns, events)
        ne = _column(data, columns, nonevents)
        n = _column(data, columns, size)
        if ne is None and n is None:
            raise AnalysisError(
                f"measure={measure!r} needs {nonevents} (column {columns[nonevents]!r}) "
                f"or {size} (column {columns[size]!r}) in data"
            )
        nan = np.full(len(e), np.nan)
        ne = nan if ne is None else ne
        n = nan if n is None else n
        with np.errstate(invalid="ignore"):
            problems.check(e < 0, events, e, "event counts must be >= 0")
            problems.check(ne < 0, nonevents, ne, "non-event counts must be >= 0")
            problems.check(n <= 0, size, n, "group sizes must be > 0")
            problems.check((e > n) & (n > 0), events, e, f"more events than {size}")
            both = ~np.isnan(ne) & ~np.isnan(n) & ~np.isnan(e)
            problems.check(both & (e + ne != n), size, n, f"differs from {events} + {nonevents}")
        ne = np.where(np.isnan(ne), n - e, ne)
        with np.errstate(invalid="ignore"):
            # a size derived from events + non-events (n itself was checked above)
            problems.check(
                (e + ne == 0) & np.isnan(n), nonevents, ne,
                f"group size {events} + {nonevents} must be > 0",
            )  # fmt: skip
        values[events], values[nonevents], values[size] = e, ne, e + ne
    return values


def _continuous_inputs(data, columns, spec: _Measure, measure, problems):
    _require(data, columns, spec.inputs, measure)
    values = {name: _column(data, columns, name) for name in spec.inputs}
    # MC accepts metafor's idiom for a reported SD of change scores:
    # sd1i = that SD, sd2i = 0, ri = 0.
    change_sd_idiom = (
        (values["sd2i"] == 0) & (values["ri"] == 0) if measure == "MC" else False
    )
    with np.errstate(invalid="ignore"):
        for name, x in values.items():
            if name.startswith("sd"):
                ok = change_sd_idiom if name == "sd2i" else False
                problems.check((x <= 0) & ~ok, name, x, "standard deviations must be > 0")
            elif name.startswith("n"):
                problems.check(x <= 0, name, x, "sample sizes must be > 0")
            elif name == "ri":
                problems.check(np.abs(x) > 1, name, x, "correlations must be in [-1, 1]")
    return values


def _zero_cell_correction(values, spec, add, to, drop00):
    """Apply metafor's add/to/drop00 in place; return (correction per row, dropped mask)."""
    groups = _COUNT_GROUPS[spec.design]
    cells = [name for group in groups for name in group[:2]]
    k = len(values[cells[0]])
    dropped = np.zeros(k, dtype=bool)
    if drop00:
        no_events = np.logical_and.reduce([values[g[0]] == 0 for g in groups])
        all_events = np.logical_and.reduce([values[g[1]] == 0 for g in groups])
        dropped = no_events | all_events
        for name in cells:
            values[name] = np.where(dropped, np.nan, values[name])
    has_zero = np.logical_or.reduce([values[name] == 0 for name in cells])
    if to == "all":
        corrected = np.ones(k, dtype=bool)
    elif to == "only0":
        corrected = has_zero
    elif to == "if0all":
        corrected = np.full(k, bool(has_zero.any()))
    else:
        corrected = np.zeros(k, dtype=bool)
    if add == 0:
        corrected = np.zeros(k, dtype=bool)
    for name in cells:
        values[name] = np.where(corrected, values[name] + add, values[name])
    for events, nonevents, size in groups:
        values[size] = values[events] + values[nonevents]
    what = "each cell" if spec.design == "two_group_binary" else "events and non-events"
    reason = {"only0": "zero cell", "all": "all rows", "if0all": "some row has a zero cell"}
    label = f"add {add:g} to {what} ({reason.get(to, '')}; to={to!r})"
    correction = np.where(corrected, label, "none").astype(object)
    return correction, dropped


def _missing_notes(values, spec: _Measure, columns, present, k) -> np.ndarray:
    """Per row, "" or a note naming the inputs (and their columns) that are missing."""
    if spec.design in _COUNT_GROUPS:
        needed = {}
        for events, nonevents, size in _COUNT_GROUPS[spec.design]:
            needed[events] = f"{events} (column {columns[events]!r})"
            given = [name for name in (nonevents, size) if name in present]
            needed[nonevents] = " or ".join(f"{n} (column {columns[n]!r})" for n in given)
    else:
        needed = {name: f"{name} (column {columns[name]!r})" for name in spec.inputs}
    missing = {name: np.isnan(values[name]) for name in needed}
    notes = np.full(k, "", dtype=object)
    for pos in range(k):
        names = [needed[name] for name in needed if missing[name][pos]]
        if names:
            notes[pos] = "not computed: missing " + ", ".join(names)
    return notes


def _escalc_call(measure, columns, used, add, to, drop00, default_add) -> str:
    args = [f'measure="{measure}"'] + [f"{n}={columns[n]}" for n in used]
    if default_add != add:
        args.append(f"add={add:g}")
    if to != "only0":
        args.append(f'to="{to}"')
    if drop00:
        args.append("drop00=TRUE")
    return f"escalc({', '.join(args)}, data=data)"


# --------------------------------------------------------------- public


def effect_sizes(
    data: pd.DataFrame,
    measure: str,
    *,
    columns: Mapping[str, str] | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    ri: float | None = None,
) -> pd.DataFrame:
    """Add effect sizes ``yi`` and sampling variances ``vi`` to a study table.

    The numbers are those of metafor's ``escalc()`` with its defaults
    (``add=1/2``, or 0 for PAS and PFT; ``to="only0"``; ``drop00=FALSE``;
    ``vtype="LS"``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per study (or comparison). It is not modified.
    measure : str
        One of ``MEASURES``: ``RR, OR, RD`` (two groups, binary outcome),
        ``PR, PLO, PFT, PAS`` (one group, proportion), ``MD, SMD`` (two
        groups, continuous outcome), ``MC, SMCR`` (one group measured twice:
        pre-post or crossover). Direction and scale of each are in Notes.
    columns : mapping of str to str, optional
        ``{metafor name: column in data}`` for inputs whose column is not
        named as in metafor, e.g. ``{"ai": "ketamine_responders",
        "n1i": "ketamine_n"}``. Unmapped inputs are looked up under their
        metafor name. Inputs by design:

        - RR, OR, RD: ``ai`` and ``ci`` (events in groups 1 and 2) with
          either ``bi`` and ``di`` (non-events) or ``n1i`` and ``n2i``
          (group sizes); if both are given they must agree.
        - PR, PLO, PFT, PAS: ``xi`` (events) with ``ni`` (size) or ``mi``
          (non-events).
        - MD, SMD: ``m1i, sd1i, n1i, m2i, sd2i, n2i``.
        - MC: ``m1i, m2i, sd1i, sd2i, ni, ri``; SMCR the same without
          ``sd2i``. ``m1i``/``sd1i`` are the first occasion (or arm 1 of a
          crossover), ``ri`` the within-patient correlation.
    add : float, optional
        Amount added to the cells of a table (binary measures) or to events
        and non-events (proportions) when ``to`` says so. Default: metafor's,
        1/2, and 0 for PAS and PFT. Not used by continuous measures.
    to : {"only0", "all", "if0all", "none"}
        ``"only0"``: add to rows with a zero cell; ``"all"``: to every row;
        ``"if0all"``: to every row if any row has a zero cell; ``"none"``:
        never (zero cells may then make ``yi`` undefined, which is reported).
    drop00 : bool
        Two-group binary measures: set ``yi``/``vi`` to NaN for rows with no
        events in either group (or only events in both), as metafor's
        ``drop00=TRUE``.
    ri : float, optional
        MC and SMCR: one stated within-patient correlation for every row,
        instead of an ``ri`` column (give one or the other). It is written
        to an ``ri`` column of the output, so the table shows it.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` (same index and columns; existing ``yi``/``vi``
        are replaced, as metafor does) with

        - ``yi``: effect size on the analysis scale (see Notes);
        - ``vi``: its sampling variance;
        - ``es_correction``: what was applied to the row before computing,
          e.g. ``"add 0.5 to each cell (zero cell; to='only0')"``,
          ``"Hedges' exact small-sample correction J"`` or ``"none"``;
        - ``es_note``: empty when ``yi`` was computed, otherwise why not
          (missing input, dropped by ``drop00``, not estimable).

        ``attrs`` holds ``measure``, ``add``, ``to``, ``drop00``,
        ``vtype`` ("LS"), ``columns`` (the mapping used), ``ri`` (when
        given) and ``escalc_call`` (the equivalent R call).

    Raises
    ------
    AnalysisError
        Unknown measure or option; a needed column absent or not numeric;
        invalid values (negative counts, group size <= 0, more events than
        patients, SD <= 0, ``|ri| > 1``, ``n1i != ai + bi``): the message
        names every offending row (by index label) and column. Missing
        values are not an error: that row gets NaN and a note.

    Notes
    -----
    Groups: 1 is the experimental arm (ketamine), 2 the comparator; for MC
    and SMCR, 1 and 2 are the two occasions. With ``p1 = ai/n1i``,
    ``p2 = ci/n2i`` after any zero-cell correction:

    ======  =============================  ========  ==========================================
    code    yi                             scale     direction / variance
    ======  =============================  ========  ==========================================
    RR      log(p1 / p2)                   log       > 0 (RR > 1): more events in group 1;
                                                     vi = 1/ai - 1/n1i + 1/ci - 1/n2i
    OR      log odds(p1) - log odds(p2)    log       > 0 (OR > 1): higher odds in group 1;
                                                     vi = 1/ai + 1/bi + 1/ci + 1/di
    RD      p1 - p2                        linear    > 0: more events in group 1;
                                                     vi = p1(1-p1)/n1i + p2(1-p2)/n2i
    PR      p = xi/ni                      linear    proportion of events; vi = p(1-p)/ni
    PLO     log(p / (1-p))                 logit     > 0: p > 1/2; vi = 1/xi + 1/mi
    PFT     (asin√(xi/(ni+1)) +            double    increases with p; vi = 1/(4ni + 2)
            asin√((xi+1)/(ni+1))) / 2      arcsine
    PAS     asin√p                         arcsine   increases with p; vi = 1/(4ni)
    MD      m1i - m2i                      linear    > 0: higher mean in group 1 (outcome
                                                     units); vi = sd1i²/n1i + sd2i²/n2i
    SMD     J(m)(m1i - m2i)/s_pooled,      linear    > 0: higher mean in group 1 (SD units,
            m = n1i + n2i - 2                        Hedges' g); vi = 1/n1i + 1/n2i +
                                                     yi²/(2(n1i + n2i))
    MC      m1i - m2i                      linear    > 0: occasion 1 higher; vi = (sd1i² +
                                                     sd2i² - 2 ri sd1i sd2i)/ni
    SMCR    J(ni-1)(m1i - m2i)/sd1i        linear    > 0: occasion 1 higher (units of sd1i);
                                                     vi = 2(1 - ri)/ni + yi²/(2ni)
    ======  =============================  ========  ==========================================

    ``J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2))`` is the exact small-sample
    correction (Hedges 1981), undefined for m <= 1. For pain scores where a
    lower score is better, a negative MD/SMD favours group 1; for MC with
    ``m1i`` = baseline, a positive value is a reduction.

    Zero cells follow metafor: with the defaults, 1/2 is added to all four
    cells of any table with a zero cell, for RR, OR **and RD** (metafor's
    ``escalc()`` applies ``add`` to RD too), and to events and non-events of
    a proportion with 0 or all events for PR and PLO. PFT and PAS need no
    correction (``add`` defaults to 0). Rows whose ``yi`` or ``vi`` comes
    out infinite or undefined get NaN and a note (metafor recodes them to
    NA with a warning).

    MC also accepts metafor's idiom for a reported SD of the change scores:
    ``sd1i`` = that SD, ``sd2i = 0`` and ``ri = 0``.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
    package. J Stat Softw 36(3):1-48. (``escalc()``, metafor 3.8-1.)
    Hedges LV (1981). Distribution theory for Glass's estimator of effect
    size and related estimators. J Educ Stat 6(2):107-128.
    Becker BJ (1988). Synthesizing standardized mean-change measures.
    Br J Math Stat Psychol 41(2):257-278.

    Examples
    --------
    >>> import pandas as pd
    >>> trials = pd.DataFrame({"ai": [4, 0], "n1i": [10, 12], "ci": [2, 3], "n2i": [11, 12]},
    ...                       index=["trial A", "trial B"])
    >>> out = effect_sizes(trials, "RR")
    >>> out[["yi", "vi"]].round(4)
                 yi      vi
    trial A  0.7885  0.5591
    trial B -1.9459  2.1319
    >>> out.loc["trial B", "es_correction"]
    "add 0.5 to each cell (zero cell; to='only0')"
    >>> out.attrs["measure"]
    'RR'
    """
    check_option("measure", measure, tuple(MEASURES))
    check_option("to", to, ZERO_CELL_OPTIONS)
    spec = MEASURES[measure]
    counts = spec.design in _COUNT_GROUPS
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    if not isinstance(drop00, (bool, np.bool_)):
        raise AnalysisError(f"drop00 must be True or False, not {drop00!r}")
    if not counts and (add is not None or to != "only0" or drop00):
        raise AnalysisError(
            f"add, to and drop00 are zero-cell options for count measures; "
            f"measure={measure!r} takes none of them"
        )
    if drop00 and spec.design != "two_group_binary":
        raise AnalysisError("drop00 applies to two-group binary measures (RR, OR, RD) only")
    if add is None:
        add = spec.default_add
    if not isinstance(add, (int, float, np.number)) or not np.isfinite(add) or add < 0:
        raise AnalysisError(f"add must be a finite number >= 0, not {add!r}")

    mapping = dict(columns or {})
    unknown = sorted(set(mapping) - set(_INPUT_NAMES))
    if unknown:
        raise AnalysisError(
            f"columns has unknown input name(s) {unknown}; "
            f"metafor's input names are: {', '.join(_INPUT_NAMES)}"
        )
    resolved = {name: mapping.get(name, name) for name in _INPUT_NAMES}

    out = data.copy()
    if ri is not None:
        if spec.design != "paired_continuous":
            raise AnalysisError(f"ri is for MC and SMCR only, not measure={measure!r}")
        if resolved["ri"] in data.columns:
            raise AnalysisError(
                f"give the correlation either as column {resolved['ri']!r} or as ri=, not both"
            )
        out[resolved["ri"]] = float(ri)

    problems = _Problems(out, resolved)
    if counts:
        values = _count_inputs(out, resolved, spec, measure, problems)
    else:
        values = _continuous_inputs(out, resolved, spec, measure, problems)
    problems.raise_if_any(measure)

    k = len(out)
    used = [n for n in _INPUT_NAMES if n in values and resolved[n] in out.columns]
    notes = _missing_notes(values, spec, resolved, set(used), k)

    correction = np.full(k, spec.correction, dtype=object)
    if counts:
        correction, dropped = _zero_cell_correction(values, spec, add, to, drop00)
        notes[dropped & (notes == "")] = (
            "dropped: no events in either group, or only events (drop00=True)"
        )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        yi, vi = spec.formula(values)
    yi = np.asarray(yi, dtype=float) + np.zeros(k)
    vi = np.asarray(vi, dtype=float) + np.zeros(k)
    unestimable = (~np.isfinite(yi) | ~np.isfinite(vi) | (vi < 0)) & (notes == "")
    notes[unestimable] = f"not estimable: yi or vi undefined ({spec.unestimable})"
    failed = notes != ""
    yi[failed] = np.nan
    vi[failed] = np.nan
    correction[failed] = "none"

    out["yi"], out["vi"] = yi, vi
    out["es_correction"], out["es_note"] = correction, notes
    out.attrs = {
        "measure": measure,
        "add": add if counts else None,
        "to": to if counts else None,
        "drop00": bool(drop00) if counts else None,
        "vtype": "LS",
        "columns": {n: resolved[n] for n in used},
        "ri": None if ri is None else float(ri),
        "escalc_call": _escalc_call(measure, resolved, used, add, to, drop00, spec.default_add),
    }
    return out
