"""The evidence base counted once: reports, studies and samples, and the PRISMA flow they give.

One vocabulary for the index, the PRISMA diagram, the study tables and the claims check:

- **report**: one document (article, abstract, poster, thesis, registry record), whatever the
  number of addresses it was found at; ``study_id`` in ``data/studies.csv``, a report key in
  ``data/search.md``.
- **study**: one trial or cohort, i.e. the patients it enrolled, whatever the number of its
  reports; ``cohort_id`` (Guedj 2007a and 2007b are one study). PRISMA's "studies included"
  counts these.
- **sample**: the group of patients of a study whose counts enter a pooled analysis. Every
  analysis takes at most one sample per study (``analysis.review.selection``), so a pooled result's
  ``k`` counts studies, and its patients are those of the samples' rows (``ketamine_n``, plus
  ``control_n`` in controlled comparisons).

A study of ``data/studies.csv`` is *included* unless it is a registered trial without results
(*ongoing*) or its report is listed in ``data/excluded_studies.csv`` (*excluded*) or
``data/awaiting_classification.csv`` (*awaiting classification*): those two files say why such a
report is in the study table at all. The PRISMA flow counts the records screened, excluded at
screening and sought from ``data/screening.csv``, the reports not retrieved and excluded after
assessment from the same two files, and checks that the counts typed in ``data/prisma.csv`` for
the included and ongoing studies are the data's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.engine._errors import AnalysisError
from analysis.data import (DATA_DIR, DataDictionary, DataValidationError, Problem, load_dictionary,
                           load_references, load_studies, load_table)
from analysis.review.selection import as_flag

#: Review status of a report, in the order tables list them.
STATUSES = ("included", "ongoing", "excluded", "awaiting_classification")

#: Stages the flow counts from the data (never typed in data/prisma.csv for the databases'
#: column; reports sought via other methods stay typed).
COUNTED_STAGES = ("records_screened", "excluded_at_screening", "reports_sought_for_retrieval",
                  "reports_not_retrieved", "reports_excluded", "included_reports")

#: Every stage of the flow, in the order of the PRISMA 2020 diagram.
STAGES = ("identified_databases", "identified_other_sources", "duplicates_removed", "records_screened",
          "excluded_at_screening", "reports_sought_for_retrieval", "reports_not_retrieved",
          "reports_assessed_for_eligibility", "reports_excluded", "registered_studies_without_results",
          "included_qualitative_synthesis", "included_reports", "included_quantitative_synthesis",
          "included_quantitative_controlled")

_DATABASES = "databases_registers"
_FROM_SCREENING = ("records_screened", "excluded_at_screening", "reports_sought_for_retrieval")


@dataclass(frozen=True)
class EvidenceCounts:
    """Reports and studies of the review, counted from the data.

    Attributes
    ----------
    reports, studies : int
        Reports and studies (trials or cohorts) included in the review.
    pooled_studies : int
        Included studies with a sample in a pooled response rate (``include_in_pooling``).
    controlled_studies : int
        Of those, studies whose pooled sample counts responders in a control arm too.
    ongoing_studies : int
        Registered trials without results.
    excluded_reports, awaiting_reports : int
        Reports excluded after assessment, and reports awaiting classification.
    """

    reports: int
    studies: int
    pooled_studies: int
    controlled_studies: int
    ongoing_studies: int
    excluded_reports: int
    awaiting_reports: int


@dataclass(frozen=True)
class EvidenceBase:
    """The study table with the search's decisions about its reports.

    Attributes
    ----------
    studies : DataFrame
        ``data/studies.csv``.
    excluded, awaiting : DataFrame
        ``data/excluded_studies.csv`` and ``data/awaiting_classification.csv``.
    screening : DataFrame
        ``data/screening.csv``: the decision on every report screened.
    prisma : DataFrame
        ``data/prisma.csv``: the typed stages of the flow.
    dictionaries : dict
        Dictionary of each table by file stem (reader labels of reasons).
    """

    studies: pd.DataFrame
    excluded: pd.DataFrame
    awaiting: pd.DataFrame
    screening: pd.DataFrame
    prisma: pd.DataFrame
    dictionaries: dict[str, DataDictionary]

    def status(self) -> pd.Series:
        """Review status of each row of ``studies`` (one of :data:`STATUSES`)."""
        ids = self.studies["study_id"]
        status = pd.Series("included", index=self.studies.index, dtype=object)
        status[self.studies["design"].astype(str) == "registered_trial"] = "ongoing"
        status[ids.isin(self.excluded["study_id"].dropna())] = "excluded"
        status[ids.isin(self.awaiting["study_id"].dropna())] = "awaiting_classification"
        return status

    def included(self, studies: pd.DataFrame | None = None) -> pd.DataFrame:
        """Rows of the included studies (of ``studies``, a subset of the table, if given)."""
        rows = self.studies if studies is None else studies
        return rows[self.status().reindex(rows.index).eq("included").to_numpy()]

    def counts(self) -> EvidenceCounts:
        """The review's reports and studies, counted from the data."""
        included = self.included()
        pooled = included[as_flag(included["include_in_pooling"])]
        controlled = pooled[pooled["control_events"].notna()]
        ongoing = self.studies[self.status() == "ongoing"]
        return EvidenceCounts(
            reports=included["study_id"].nunique(), studies=included["cohort_id"].nunique(),
            pooled_studies=pooled["cohort_id"].nunique(),
            controlled_studies=controlled["cohort_id"].nunique(),
            ongoing_studies=ongoing["cohort_id"].nunique(),
            excluded_reports=len(self.excluded), awaiting_reports=len(self.awaiting))

    def flow(self) -> pd.DataFrame:
        """The PRISMA flow: ``data/prisma.csv`` and the stages counted from the data.

        Returns
        -------
        DataFrame
            Columns ``stage, route, count, unit, reason, reason_label, detail``: the typed
            rows; records screened, excluded at screening (per reason) and reports sought in the
            databases' column; reports not retrieved and reports excluded per route and reason
            (a route with none gets a row of 0); the reports of the included studies.

        Raises
        ------
        AnalysisError
            When a count typed in ``data/prisma.csv`` for the included or ongoing studies
            differs from the data's (naming both numbers), or ``data/prisma.csv`` types a stage
            the data count.
        """
        wrong = self.problems()
        if wrong:
            raise AnalysisError("the PRISMA counts disagree with the data (see analysis.review.evidence_base):\n"
                                + "\n".join(map(str, wrong)))
        screening = self._screening_rows()
        typed = self.prisma.assign(
            route=self.prisma["route"].astype(object).where(self.prisma["route"].notna(), ""),
            reason=self.prisma["reason"].astype(object).where(self.prisma["reason"].notna(), ""),
            reason_label=[_label(self.dictionaries["prisma"], "reason", r) for r in self.prisma["reason"]])
        routes = [r for r in dict.fromkeys(typed["route"]) if r]
        counted = [*screening, *_per_reason(self.awaiting, "reports_not_retrieved", routes,
                                self.dictionaries["awaiting_classification"]),
                   *_per_reason(self.excluded, "reports_excluded", routes,
                                self.dictionaries["excluded_studies"])]
        counts = self.counts()
        counted.append({"stage": "included_reports", "route": "", "count": counts.reports,
                        "unit": "reports", "reason": "", "reason_label": "",
                        "detail": "Reports of the included studies (data/studies.csv)"})
        columns = ["stage", "route", "count", "unit", "reason", "reason_label", "detail"]
        flow = pd.concat([typed[columns], pd.DataFrame(counted, columns=columns)], ignore_index=True)
        order = flow["stage"].astype(str).map({stage: i for i, stage in enumerate(STAGES)})
        return flow.iloc[order.argsort(kind="stable")].reset_index(drop=True)

    def _screening_rows(self) -> list[dict]:
        """Records screened, excluded at screening per reason, and reports sought (databases)."""
        decisions = self.screening["decision"].astype(str)
        spec = self.dictionaries["screening"]["decision"]
        rows = [{"stage": "records_screened", "route": _DATABASES, "count": len(decisions), "unit": "reports",
                 "reason": "", "reason_label": "", "detail": "data/screening.csv"}]
        for decision in spec.allowed:
            count = int((decisions == decision).sum())
            if decision != "sought_for_retrieval" and count:
                rows.append({"stage": "excluded_at_screening", "route": _DATABASES, "count": int(count),
                             "unit": "reports", "reason": decision, "reason_label": spec.value_label(decision),
                             "detail": "data/screening.csv"})
        rows.append({"stage": "reports_sought_for_retrieval", "route": _DATABASES,
                     "count": int((decisions == "sought_for_retrieval").sum()), "unit": "reports",
                     "reason": "", "reason_label": "", "detail": "data/screening.csv"})
        return rows

    def problems(self) -> list[Problem]:
        """Where ``data/prisma.csv`` disagrees with the data, each with the row to change.

        The typed counts of included, pooled, controlled and ongoing studies must be the data's
        (studies are ``cohort_id`` values); a stage the flow counts from the data files must not
        be typed; the records screened must be those identified minus the duplicates removed,
        and the reports assessed those sought minus those not retrieved, per route.
        """
        counts = self.counts()
        expected = {"included_qualitative_synthesis": (counts.studies, "included studies"),
                    "included_quantitative_synthesis": (counts.pooled_studies, "studies with a pooled sample"),
                    "included_quantitative_controlled": (counts.controlled_studies,
                                                         "pooled studies with control-arm responders"),
                    "registered_studies_without_results": (counts.ongoing_studies, "registered trials without results")}
        problems = []
        for stage, (count, what) in expected.items():
            rows = self._typed(stage)
            typed = sum(int(self.prisma.at[i, "count"]) for i in rows)
            if rows and typed != count:
                problems.append(self._problem(rows[0], "count", typed,
                                              f"{stage}: data/prisma.csv says {typed}, the data count {count} "
                                              f"({what} in studies.csv); write {count - typed + int(self.prisma.at[rows[0], 'count'])}"))
        for stage in COUNTED_STAGES:
            # the screening table counts the databases' column only; the others every route
            for i in self._typed(stage, _DATABASES if stage in _FROM_SCREENING else None):
                route = self.prisma.at[i, "route"]
                problems.append(self._problem(i, "stage", stage,
                                              f"types {stage} ({route if pd.notna(route) else 'included'}), "
                                              "which the flow counts from the data files; delete this row"))
        screened = len(self.screening)
        identified = self._sum("identified_databases", _DATABASES)
        duplicates = self._sum("duplicates_removed", _DATABASES)
        if identified is not None and screened != identified - (duplicates or 0):
            first = self._typed("identified_databases", _DATABASES)[0]
            problems.append(self._problem(
                first, "count", int(self.prisma.at[first, "count"]),
                f"records identified ({identified}) minus duplicates removed ({duplicates or 0}) should be "
                f"the records screened, the {screened} rows of screening.csv: add the new search's records "
                "here and its duplicates to duplicates_removed (data/search.md counts them)"))
        not_retrieved = self.awaiting["identified_via"].astype(str).value_counts()
        sought = {_DATABASES: int((self.screening["decision"].astype(str) == "sought_for_retrieval").sum())}
        for i in self._typed("reports_sought_for_retrieval"):
            sought[str(self.prisma.at[i, "route"])] = int(self.prisma.at[i, "count"])
        for i in self._typed("reports_assessed_for_eligibility"):
            route = str(self.prisma.at[i, "route"])
            if route in sought:
                count = sought[route] - int(not_retrieved.get(route, 0))
                typed = int(self.prisma.at[i, "count"])
                if typed != count:
                    problems.append(self._problem(
                        i, "count", typed,
                        f"reports assessed ({route}) should be those sought ({sought[route]}) minus those not "
                        f"retrieved ({int(not_retrieved.get(route, 0))}, awaiting_classification.csv): write {count}"))
        return sorted(problems, key=lambda problem: problem.line)

    def _typed(self, stage: str, route: str | None = None) -> list:
        """Index labels of the rows of ``data/prisma.csv`` typing ``stage`` (on ``route``)."""
        rows = self.prisma["stage"].astype(str) == stage
        if route is not None:
            rows &= self.prisma["route"].astype(str) == route
        return list(self.prisma.index[rows])

    def _sum(self, stage: str, route: str) -> int | None:
        rows = self._typed(stage, route)
        return sum(int(self.prisma.at[i, "count"]) for i in rows) if rows else None

    def _problem(self, index, column: str, value, rule: str) -> Problem:
        """A problem located in ``data/prisma.csv`` (the line where the loader read the row)."""
        lines = self.prisma.attrs.get("lines")
        position = self.prisma.index.get_loc(index)
        line = lines[position] if lines and position < len(lines) else position + 2
        row_id = self.prisma.at[index, "row_id"] if "row_id" in self.prisma else None
        where = f"row {row_id}: " if row_id is not None and pd.notna(row_id) else ""
        return Problem(self.prisma.attrs.get("file", "data/prisma.csv"), line, column, str(value), where + rule)


def _label(dictionary: DataDictionary, column: str, value) -> str:
    return "" if pd.isna(value) or value == "" else dictionary[column].value_label(value)


def _per_reason(table: pd.DataFrame, stage: str, routes: list[str], dictionary: DataDictionary) -> list[dict]:
    """One flow row per route and reason of ``table``; a route without any gets a row of 0."""
    rows = []
    for route in routes:
        here = table[table["identified_via"].astype(str) == route]
        if here.empty:
            rows.append({"stage": stage, "route": route, "count": 0, "unit": "reports",
                         "reason": "", "reason_label": "", "detail": "none"})
        for reason, group in here.groupby("reason", observed=True, sort=False):
            rows.append({"stage": stage, "route": route, "count": len(group), "unit": "reports",
                         "reason": str(reason), "reason_label": _label(dictionary, "reason", reason),
                         "detail": ", ".join(group["study_label"])})
    return rows


def load_evidence_base(data_dir: str | Path | None = None) -> EvidenceBase:
    """Load and validate the tables of the evidence base from ``data_dir`` (default ``data/``)."""
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    names = ("studies", "excluded_studies", "awaiting_classification", "screening", "prisma")
    dictionaries = {name: load_dictionary(folder / f"{name}.dictionary.csv") for name in names}
    return EvidenceBase(studies=load_studies(folder / "studies.csv"),
                        excluded=load_table(folder / "excluded_studies.csv"),
                        awaiting=load_table(folder / "awaiting_classification.csv"),
                        screening=load_table(folder / "screening.csv"),
                        prisma=load_table(folder / "prisma.csv"), dictionaries=dictionaries)


def check_data_folder(data_dir: str | Path | None = None) -> list[Problem]:
    """What ``python -m analysis validate`` checks beyond each table: the review as a whole.

    The PRISMA counts of ``data/prisma.csv`` against the data (:meth:`EvidenceBase.problems`),
    and a reference in ``data/references.csv`` for every report of ``data/studies.csv`` (the
    report's reference list is built from it). Tables that do not validate are left to their
    own messages: nothing here is checked until every table reads.

    Returns
    -------
    list of Problem
        Empty when the data folder is consistent.
    """
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    try:
        evidence = load_evidence_base(folder)
        references = load_references(folder / "references.csv")
    except DataValidationError:
        return []
    problems = evidence.problems()
    cited = set(references["study_id"].dropna())
    studies = evidence.studies
    lines = studies.attrs.get("lines", [])
    for position, (study_id, label) in enumerate(zip(studies["study_id"], studies["study_label"])):
        if study_id in cited:
            continue
        cited.add(study_id)  # one message per report, at its first row
        line = lines[position] if position < len(lines) else position + 2
        problems.append(Problem(studies.attrs.get("file", "data/studies.csv"), line, "study_id", study_id,
                                f"no reference in references.csv for this report ({label}): add a row with "
                                f"ref_id and study_id {study_id}, kind study_report (or registry_record) "
                                "and its citation, or the reference list leaves it out"))
    return problems
