"""What changed since the previous data version: the report's memory of its headline numbers.

Each ``make report`` records, in ``reports/history.json``, the headline numbers of the data
version it was built from: which studies the data hold, which patient samples are pooled, the
pooled response rate and the controlled comparison (with their intervals) and the verdict on
every claim. The file is carried over from the previous report when the new build swaps in, so
the index can say what changed since the previous data version: studies added or removed,
estimates and intervals that moved, claim verdicts that changed.

The numbers are those of the primary analyses of the analysis plan with its defaults
(:class:`analysis.plan.AnalysisPlan`; claims checked under the same plan), whatever parameters a
build was given: they describe the data version, not one build's options. Each number is
recorded with the model, window and interval that gave it, taken from the plan's result, so the
index names them as the plan had them when the number was computed. Code never writes to
``data/``; the history lives beside the report it describes.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path


from analysis.engine._errors import AnalysisError
from analysis.review.protocol import WINDOW

#: File name of the history inside the report folder.
HISTORY_FILE = "history.json"

#: Version of the file layout (bumped if the fields of an entry change).
SCHEMA = 1

#: Relative change below which a stored number counts as unchanged (floating-point noise of a
#: re-run on other hardware, far below the 3 significant digits the report prints).
RELATIVE_TOLERANCE = 1e-6

#: The headline analyses recorded per data version, with what they measure on the index (the
#: model, window and interval come from the plan's result, see :class:`Headline`).
HEADLINES = {
    "response_rate": "Pooled response rate in ketamine arms",
    "controlled_rr": "Responders, ketamine vs control",
}


@dataclass(frozen=True)
class Headline:
    """One pooled number of a data version, on its natural scale.

    Attributes
    ----------
    estimate, ci_lb, ci_ub : float
        Point estimate and confidence interval (proportion, or risk ratio); NaN when the data
        hold no study for the analysis.
    k : int
        Number of patient samples pooled.
    model : str
        The plan's measure, model and window, e.g. ``"risk ratio, Bayesian RE (half-normal 1), ≤ 4 h"``
        (empty in entries written before it was recorded).
    interval : str
        The interval's level and kind, e.g. ``"95% CrI"`` or ``"95% CI"``.
    """

    estimate: float
    ci_lb: float
    ci_ub: float
    k: int
    model: str = ""
    interval: str = "95% CI"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (NaN written as null)."""
        return {name: _json_number(getattr(self, name)) for name in ("estimate", "ci_lb", "ci_ub")} | {
            "k": int(self.k), "model": self.model, "interval": self.interval}

    @classmethod
    def from_dict(cls, values: dict) -> "Headline":
        """Inverse of :meth:`to_dict`."""
        return cls(*(_number(values.get(name)) for name in ("estimate", "ci_lb", "ci_ub")),
                   int(values.get("k", 0)), str(values.get("model", "")),
                   str(values.get("interval", "95% CI")))

    @classmethod
    def of(cls, result, k: int, window: str) -> "Headline":
        """The headline of a pooled result (any model of the contract) of ``k`` samples."""
        natural = result.natural()
        what = "" if natural.is_proportion else f"{natural.label.lower()}, "
        return cls(natural.estimate, natural.ci_lb, natural.ci_ub, k,
                   f"{what}{result.model_label}, {WINDOW[window].axis_label}",
                   f"{100 * result.confidence_level:g}% {result.interval_name}")


@dataclass(frozen=True)
class Snapshot:
    """Headline numbers of one data version (one entry of ``history.json``).

    Attributes
    ----------
    data_version : str
        Checksum of the data files (``analysis.apps.report.data_version``).
    built : str
        When the report was built (UTC, as on the banner).
    code : str
        ``git describe`` of the code that built it.
    studies : dict of str to str
        Every report in ``studies.csv``: ``study_id`` -> ``study_label``.
    pooled : tuple of str
        ``cohort_id`` of the patient samples with ``include_in_pooling = true``.
    headlines : dict of str to Headline
        Keys of :data:`HEADLINES`.
    verdicts : dict of str to str
        ``claim_id`` -> verdict of ``analysis.review.claims.check_claims``.
    """

    data_version: str
    built: str
    code: str
    studies: dict[str, str]
    pooled: tuple[str, ...]
    headlines: dict[str, Headline]
    verdicts: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready entry."""
        return {
            "data_version": self.data_version, "built": self.built, "code": self.code,
            "studies": dict(sorted(self.studies.items())), "pooled": sorted(self.pooled),
            "headlines": {name: h.to_dict() for name, h in self.headlines.items()},
            "verdicts": dict(sorted(self.verdicts.items())),
        }

    @classmethod
    def from_dict(cls, values: dict) -> "Snapshot":
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                data_version=str(values["data_version"]), built=str(values.get("built", "")),
                code=str(values.get("code", "")), studies=dict(values["studies"]),
                pooled=tuple(values["pooled"]),
                headlines={name: Headline.from_dict(h) for name, h in values["headlines"].items()},
                verdicts=dict(values.get("verdicts", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AnalysisError(f"a history entry lacks or garbles a field ({exc}); "
                                f"delete {HISTORY_FILE} to start a new history") from exc


@dataclass(frozen=True)
class Changes:
    """What differs between two data versions.

    Attributes
    ----------
    previous, current : Snapshot or None
        The entries compared (``previous`` is None for the first recorded version).
    studies_added, studies_removed : tuple of (study_id, label)
    pooled_added, pooled_removed : tuple of str
        Patient samples that entered or left the pooled analyses.
    moved : tuple of (headline key, previous Headline, current Headline)
        Headlines whose estimate, interval or k changed.
    verdicts_changed : tuple of (claim_id, previous verdict, current verdict)
        Verdicts that changed; a claim new to the data has previous verdict ``None``, a claim
        gone from it current verdict ``None``.
    """

    previous: Snapshot | None
    current: Snapshot
    studies_added: tuple[tuple[str, str], ...] = ()
    studies_removed: tuple[tuple[str, str], ...] = ()
    pooled_added: tuple[str, ...] = ()
    pooled_removed: tuple[str, ...] = ()
    moved: tuple[tuple[str, Headline, Headline], ...] = ()
    verdicts_changed: tuple[tuple[str, str | None, str | None], ...] = ()

    @property
    def any(self) -> bool:
        """True when anything listed changed."""
        return bool(self.studies_added or self.studies_removed or self.pooled_added
                    or self.pooled_removed or self.moved or self.verdicts_changed)


# ------------------------------------------------------------------ computing a snapshot


def snapshot(data_dir: Path | str, *, data_version: str, built: str = "", code: str = "") -> Snapshot:
    """Compute the headline numbers of the data in ``data_dir``.

    Parameters
    ----------
    data_dir : path
        Folder with ``studies.csv``, ``provenance.csv`` and ``claims.csv`` (validated on load).
    data_version, built, code : str
        Recorded with the numbers (see :class:`Snapshot`).

    Returns
    -------
    Snapshot

    Notes
    -----
    The analyses are the protocol's primary ones (:class:`analysis.review.plan.AnalysisPlan` with
    its defaults), whatever parameters the build had, so that versions compare like with like;
    the claims are checked under the same plan.
    """
    from analysis.review.claims import check_claims
    from analysis.data import load_claims, load_studies
    from analysis.review.plan import AnalysisPlan
    from analysis.review.selection import as_flag

    data_dir = Path(data_dir)
    studies = load_studies(data_dir / "studies.csv")
    plan = AnalysisPlan()
    headlines = {name: Headline(math.nan, math.nan, math.nan, 0) for name in HEADLINES}
    with contextlib.suppress(AnalysisError):  # nothing to pool: recorded as missing
        headlines["response_rate"] = Headline.of(plan.response_rate(studies),
                                                 len(plan.response_rate_rows(studies)), plan.time_window)
    with contextlib.suppress(AnalysisError):
        controlled = plan.controlled(studies)
        headlines["controlled_rr"] = Headline.of(controlled.primary, len(controlled.rows), plan.time_window)

    verdicts = {}
    claims_path = data_dir / "claims.csv"
    if claims_path.is_file():
        frame = check_claims(load_claims(claims_path), studies, plan).to_frame()
        verdicts = dict(zip(frame["claim_id"].astype(str), frame["verdict"].astype(str)))

    labels = studies.drop_duplicates("study_id").set_index("study_id")["study_label"]
    pooled = studies.loc[as_flag(studies["include_in_pooling"]), "cohort_id"].unique()
    return Snapshot(
        data_version=data_version, built=built, code=code,
        studies={str(k): str(v) for k, v in labels.items()},
        pooled=tuple(sorted(str(c) for c in pooled)),
        headlines={name: headlines[name] for name in HEADLINES},
        verdicts=verdicts,
    )


# ------------------------------------------------------------------ the history file


def read_history(report_dir: Path | str) -> list[Snapshot]:
    """Entries of ``report_dir/history.json``, oldest first ([] when there is none).

    Raises
    ------
    AnalysisError
        The file exists but is not a history written by this module (the message names it).
    """
    path = Path(report_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise AnalysisError(f"{path.name} in the previous report cannot be read ({exc}); "
                            "delete it to start a new history") from exc
    if not isinstance(content, dict) or content.get("schema") != SCHEMA:
        raise AnalysisError(f"{path.name} in the previous report is not a history of schema "
                            f"{SCHEMA}; delete it to start a new history")
    return [Snapshot.from_dict(entry) for entry in content.get("entries", [])]


def write_history(report_dir: Path | str, entries: list[Snapshot]) -> Path:
    """Write ``entries`` to ``report_dir/history.json`` and return its path."""
    path = Path(report_dir) / HISTORY_FILE
    text = json.dumps({"schema": SCHEMA, "entries": [e.to_dict() for e in entries]},
                      indent=1, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def append(entries: list[Snapshot], current: Snapshot) -> list[Snapshot]:
    """The history with ``current`` recorded.

    A rebuild of the data version last recorded replaces that entry (its numbers are those of
    the newest code); a new data version is appended. Earlier entries are kept as they are.
    """
    kept = list(entries)
    if kept and kept[-1].data_version == current.data_version:
        kept.pop()
    return kept + [current]


def previous_version(entries: list[Snapshot], current: Snapshot) -> Snapshot | None:
    """The newest entry of another data version than ``current`` (None if there is none)."""
    for entry in reversed(entries):
        if entry.data_version != current.data_version:
            return entry
    return None


# ------------------------------------------------------------------ comparing two versions


def compare(previous: Snapshot | None, current: Snapshot) -> Changes:
    """What changed from ``previous`` to ``current`` (everything is new when previous is None).

    Examples
    --------
    >>> a = Snapshot("sha256:a", "", "", {"s1": "S 1"}, ("s1",),
    ...              {"response_rate": Headline(0.5, 0.3, 0.7, 1)}, {"C01": "supported"})
    >>> b = Snapshot("sha256:b", "", "", {"s1": "S 1", "s2": "S 2"}, ("s1", "s2"),
    ...              {"response_rate": Headline(0.6, 0.4, 0.8, 2)}, {"C01": "not supported"})
    >>> c = compare(a, b)
    >>> c.studies_added, c.pooled_added, c.verdicts_changed
    ((('s2', 'S 2'),), ('s2',), (('C01', 'supported', 'not supported'),))
    >>> [key for key, _, _ in c.moved]
    ['response_rate']
    """
    if previous is None:
        return Changes(previous=None, current=current)
    added = tuple((s, current.studies[s]) for s in sorted(set(current.studies) - set(previous.studies)))
    removed = tuple((s, previous.studies[s]) for s in sorted(set(previous.studies) - set(current.studies)))
    moved = tuple(
        (key, previous.headlines.get(key, _EMPTY), current.headlines.get(key, _EMPTY))
        for key in sorted(set(previous.headlines) | set(current.headlines), key=_headline_order)
        if not _same(previous.headlines.get(key, _EMPTY), current.headlines.get(key, _EMPTY))
    )
    verdicts = tuple(
        (claim, previous.verdicts.get(claim), current.verdicts.get(claim))
        for claim in sorted(set(previous.verdicts) | set(current.verdicts))
        if previous.verdicts.get(claim) != current.verdicts.get(claim)
    )
    return Changes(
        previous=previous, current=current, studies_added=added, studies_removed=removed,
        pooled_added=tuple(sorted(set(current.pooled) - set(previous.pooled))),
        pooled_removed=tuple(sorted(set(previous.pooled) - set(current.pooled))),
        moved=moved, verdicts_changed=verdicts,
    )


def render_changes(changes: Changes) -> str:
    """The index section "What changed since the previous data version" (escaped HTML)."""
    esc = html.escape
    current = changes.current
    parts = ["<h2>What changed since the previous data version</h2>"]
    if changes.previous is None:
        parts.append(f"<p>Data version {esc(current.data_version)} is the first one recorded "
                     f"in this report's history ({HISTORY_FILE}): there is no earlier version "
                     "to compare with.</p>")
        return "\n".join(parts)
    previous = changes.previous
    built = f", built {esc(previous.built)}" if previous.built else ""
    parts.append(f"<p>Data version {esc(current.data_version)} compared with "
                 f"{esc(previous.data_version)}{built}. The numbers are those of the primary "
                 "analyses with the default options.</p>")
    if not changes.any:
        parts.append("<p>No study was added or removed, no headline estimate or interval moved "
                     "and no claim verdict changed.</p>")
        return "\n".join(parts)
    items = []
    items += [f"Study added: {esc(label)} ({esc(sid)})" for sid, label in changes.studies_added]
    items += [f"Study removed: {esc(label)} ({esc(sid)})" for sid, label in changes.studies_removed]
    if changes.pooled_added:
        items.append("Now in the pooled analyses: " + esc(", ".join(changes.pooled_added)))
    if changes.pooled_removed:
        items.append("No longer in the pooled analyses: " + esc(", ".join(changes.pooled_removed)))
    items += [f"{esc(_headline_label(key, after if after.model else before))}: "
              f"{esc(_describe(before, after))} &rarr; {esc(_describe(after))}"
              for key, before, after in changes.moved]
    items += [f"Claim {esc(claim)}: {esc(before or 'not in the data')} &rarr; "
              f"{esc(after or 'not in the data')}" for claim, before, after in changes.verdicts_changed]
    parts.append('<ul class="kfm-changes">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    return "\n".join(parts)


def record_build(data_dir: Path | str, previous_report: Path | str, new_report: Path | str, *,
                 data_version: str, built: str = "", code: str = "") -> Changes:
    """The history step of a build: snapshot, carry the history over, compare.

    Reads the history of ``previous_report`` (the report being replaced), records the
    snapshot of ``data_dir`` and writes the updated history into ``new_report`` (the build
    folder that will replace it).

    Returns
    -------
    Changes
        Against the previous data version; :func:`render_changes` makes the index section.
    """
    entries = read_history(previous_report)
    current = snapshot(data_dir, data_version=data_version, built=built, code=code)
    entries = append(entries, current)
    write_history(new_report, entries)
    return compare(previous_version(entries, current), current)


# ------------------------------------------------------------------ helpers

_EMPTY = Headline(math.nan, math.nan, math.nan, 0)


def _headline_order(key: str) -> tuple[int, str]:
    order = list(HEADLINES)
    return (order.index(key) if key in order else len(order), key)


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


def _same(a: Headline, b: Headline) -> bool:
    return a.k == b.k and all(_close(getattr(a, n), getattr(b, n)) for n in ("estimate", "ci_lb", "ci_ub"))


def _headline_label(key: str, headline: Headline) -> str:
    name = HEADLINES.get(key, key)
    return f"{name} ({headline.model})" if headline.model else name


def _describe(h: Headline, then: Headline | None = None) -> str:
    """The number in words; ``then`` (the newer headline) adds ``h``'s model if they differ."""
    if h.k == 0 or math.isnan(h.estimate):
        return "no studies"
    other = f"; {h.model}" if then is not None and then.model and h.model and h.model != then.model else ""
    return f"{h.estimate:.3g} ({h.interval} {h.ci_lb:.3g} to {h.ci_ub:.3g}; k = {h.k}{other})"


def _json_number(x: float) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _number(x) -> float:
    return math.nan if x is None else float(x)
