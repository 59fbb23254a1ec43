"""Cochrane-style study tables and the reference list, from the data and their dictionaries.

- :func:`characteristics_of_included_studies`: one row per study report with its methods,
  participants, interventions, comparator, outcomes and what of it could be read;
- :func:`ongoing_studies`: registered trials without results;
- :func:`characteristics_of_excluded_studies` and :func:`studies_awaiting_classification`:
  the reports the search set aside, with their reasons (``data/excluded_studies.csv``,
  ``data/awaiting_classification.csv``);
- :func:`harms`: what each patient sample reports about adverse events and withdrawals;
- :func:`reference_list`: every study, review and popular article with its DOI, PMID or
  address (``data/references.csv``).

Text cells are built from labelled values (:meth:`analysis.data.ColumnSpec.value_label`),
so no code such as ``rct_crossover`` reaches a reader, and a value the source does not give
reads "not reported".
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from analysis.engine._summary import wald_interval
from analysis.data import DataDictionary
from analysis.engine.effect_sizes import effect_sizes
from analysis.review.evidence_base import EvidenceBase
from analysis.engine.formatting import format_count, format_effect, format_interval, is_missing
from analysis.review.plan import RESPONDER_COUNTS
from analysis.engine.transforms import measure_scale
from analysis.present.safe_html import escape_markdown, markdown_link
from analysis.present.tables import reader_table

NOT_REPORTED = "not reported"


def _given(value) -> bool:
    return not is_missing(value) and str(value).strip() != ""


def _label(dictionary: DataDictionary, column: str, value) -> str:
    return dictionary[column].value_label(value) if _given(value) else NOT_REPORTED


def _methods(row, d) -> str:
    return (f"{_label(d, 'design', row['design'])}; {_label(d, 'blinding', row['blinding']).lower()}; "
            f"{row['country'] if _given(row['country']) else 'country not reported'}")


def _participants(row, d) -> str:
    parts = [f"{format_count(row['n_enrolled'])} enrolled" if _given(row["n_enrolled"]) else "number not reported"]
    if _given(row.get("n_analysed")) and row["n_analysed"] != row["n_enrolled"]:
        parts.append(f"{format_count(row['n_analysed'])} analysed")
    if _given(row.get("female_n")):
        parts.append(f"{format_count(row['female_n'])} women")
    if _given(row.get("age_detail")):
        parts.append(f"age {row['age_detail']}")
    parts.append(f"criteria: {row['diagnostic_criteria'] if _given(row['diagnostic_criteria']) else NOT_REPORTED}")
    return "; ".join(parts)


def _intervention(row, d) -> str:
    dose = row["dose_detail"] if _given(row["dose_detail"]) else "dose not reported"
    sessions = f"{format_count(row['sessions'])} session{'s' if row['sessions'] != 1 else ''}" \
        if _given(row["sessions"]) else "sessions not reported"
    form = ("ketamine (form not reported)" if row["ketamine_form"] in ("not_reported", None)
            else _label(d, "ketamine_form", row["ketamine_form"]))
    route = ("route not reported" if row["route"] == "not_reported" else _label(d, "route", row["route"]).lower())
    return f"{form[0].upper()}{form[1:]}, {route}; {dose}; {sessions}"


def _comparator(row, d) -> str:
    control = _label(d, "control", row["control"])
    return f"{control}: {row['control_detail']}" if _given(row["control_detail"]) else control


def _outcomes(rows: pd.DataFrame, d) -> str:
    seen = []
    for _, row in rows.iterrows():
        text = _label(d, "outcome", row["outcome"])
        if _given(row["timepoint_label"]):
            text += f" ({row['timepoint_label']})"
        if text not in seen:
            seen.append(text)
    return "; ".join(seen)


def characteristics_of_included_studies(studies: pd.DataFrame, dictionary: DataDictionary, *,
                                        caption: str = "Characteristics of included studies"):
    """One row per included study report (registered trials without results are listed apart)."""
    included = studies[studies["design"] != "registered_trial"]
    rows = []
    for study_id, group in included.groupby("study_id", sort=False):
        first = group.iloc[0]
        rows.append({
            "Study": first["study_label"],
            "Methods": _methods(first, dictionary),
            "Participants": _participants(first, dictionary),
            "Interventions": _intervention(first, dictionary),
            "Comparator": _comparator(first, dictionary),
            "Outcomes": _outcomes(group, dictionary),
            "What was read": _label(dictionary, "source_access", first["source_access"]),
            "_year": first["year"],
        })
    frame = pd.DataFrame(rows).sort_values(["_year", "Study"]) if rows else pd.DataFrame()
    columns = ["Study", "Methods", "Participants", "Interventions", "Comparator", "Outcomes", "What was read"]
    return reader_table(frame, caption=caption, columns=columns, empty="No study is included.")


def ongoing_studies(studies: pd.DataFrame, dictionary: DataDictionary, *, trials: pd.DataFrame | None = None,
                    trial_dictionary: DataDictionary | None = None,
                    caption: str = "Registered trials without results: status, completion and results"):
    """Registered trials without results: registry number, design as registered, comparator, and,
    given ``trials`` (:func:`analysis.review.registrations.trial_registrations`) with their
    dictionary (``data/registrations.dictionary.csv``), the status (a terminated trial says so;
    other copies' statuses beside it), completion date, results posted and results overdue."""
    registered = studies[studies["design"] == "registered_trial"].drop_duplicates("study_id")
    frame = pd.DataFrame({
        "Study": registered["study_label"],
        "Registry record": registered["source_id"],
        "Interventions": [_intervention(row, dictionary) for _, row in registered.iterrows()],
        "Comparator": [_comparator(row, dictionary) for _, row in registered.iterrows()],
    })
    if trials is not None and trial_dictionary is not None:
        by_study = trials.set_index("study_id")
        status = trial_dictionary["status"]
        known = [by_study.loc[s] if s in by_study.index else None for s in registered["study_id"]]
        frame["Status"] = [NOT_REPORTED if t is None else status.value_label(t["status"]) + (
            f" (other copies: {', '.join(status.value_label(o).lower() for o in t['other_statuses'])})"
            if t["other_statuses"] else "") for t in known]
        frame["Completion"] = [NOT_REPORTED if t is None or t["completion"] is None else
                               f"{t['completion']:%B %Y}" for t in known]
        frame["Results posted"] = ["–" if t is None else "Yes" if t["results_posted"] else "No" for t in known]
        frame["Results overdue"] = ["–" if t is None or t["overdue"] is None else "Yes" if t["overdue"] else "No"
                                    for t in known]
        as_of = trials["as_of"].max()
        caption = (f"{caption}. Results are overdue when the completion date (the latest any registry copy "
                   f"gives) lies more than 12 months before this data version ({as_of:%-d %B %Y}) and no results "
                   "are posted; '–' where no completion date is given.")
    frame["Note"] = [row["note"] if _given(row["note"]) else "–" for _, row in registered.iterrows()]
    return reader_table(frame, caption=caption, columns=list(frame.columns), empty="None found.")


def characteristics_of_excluded_studies(evidence: EvidenceBase, *,
                                        caption: str = "Characteristics of excluded studies"):
    """Reports excluded after assessment for eligibility, each with its reason (Cochrane layout)."""
    excluded = evidence.excluded
    spec = evidence.dictionaries["excluded_studies"]["reason"]
    frame = pd.DataFrame({
        "Study": excluded["study_label"],
        "Reason for exclusion": [spec.value_label(reason) + (f". {note}" if _given(note) else "")
                                 for reason, note in zip(excluded["reason"], excluded["note"])],
    })
    return reader_table(frame, caption=caption, columns=list(frame.columns),
                        empty="No report was excluded after assessment.")


def studies_awaiting_classification(evidence: EvidenceBase, *,
                                    caption: str = "Characteristics of studies awaiting classification"):
    """Reports that could not be assessed: what is known, what is needed, and why (Cochrane layout).

    What is known comes from ``data/studies.csv`` (with its provenance) when the report is
    extracted there, else from the ``known`` column of ``data/awaiting_classification.csv``.
    """
    awaiting = evidence.awaiting
    d = evidence.dictionaries["studies"]
    first = evidence.studies.drop_duplicates("study_id").set_index("study_id")
    known = []
    for _, row in awaiting.iterrows():
        if _given(row["study_id"]):
            study = first.loc[row["study_id"]]
            known.append(f"{_methods(study, d)}; {_participants(study, d)}; {_intervention(study, d)}")
        else:
            known.append(row["known"] if _given(row["known"]) else NOT_REPORTED)
    spec = evidence.dictionaries["awaiting_classification"]["reason"]
    frame = pd.DataFrame({
        "Study": awaiting["study_label"],
        "What is known": known,
        "Information needed": awaiting["missing"],
        "Why awaiting classification": [spec.value_label(r) for r in awaiting["reason"]],
    })
    return reader_table(frame, caption=caption, columns=list(frame.columns),
                        empty="No study is awaiting classification.")


def harms(studies: pd.DataFrame, *, caption: str = "Adverse events and withdrawals, as each study reports them"):
    """Each study's description of adverse events and its withdrawals per arm (reports of one study together)."""
    reported = studies[studies["adverse_events"].apply(_given)
                       | studies["ketamine_withdrawals"].notna() | studies["control_withdrawals"].notna()]
    samples = []
    for cohort, group in reported.groupby("cohort_id", sort=False):
        texts = [t for t in group["adverse_events"] if _given(t)]
        withdrawals = group[["ketamine_withdrawals", "control_withdrawals"]].max()
        samples.append({
            "Study": group["study_label"].iloc[0],
            "Adverse events (as reported)": max(set(texts), key=len) if texts else NOT_REPORTED,
            "Withdrawals, ketamine": format_count(withdrawals["ketamine_withdrawals"]) or NOT_REPORTED,
            "Withdrawals, control": format_count(withdrawals["control_withdrawals"]) or NOT_REPORTED,
            "_year": group["year"].min(),
        })
    frame = pd.DataFrame(samples).sort_values(["_year", "Study"]) if samples else pd.DataFrame()
    columns = ["Study", "Adverse events (as reported)", "Withdrawals, ketamine", "Withdrawals, control"]
    return reader_table(frame, caption=caption, columns=columns, empty="No sample reports harms.")


_KIND_HEADINGS = {
    "study_report": "Included and registered studies", "registry_record": "Included and registered studies",
    "protocol": "Included and registered studies", "excluded": "Excluded studies",
    "awaiting_classification": "Studies awaiting classification", "review": "Reviews and guidelines",
    "guideline": "Reviews and guidelines", "popular_article": "Popular articles checked",
}


def _with_set_aside(references: pd.DataFrame, evidence: EvidenceBase) -> pd.DataFrame:
    """References with the search's excluded and not-retrieved reports in their own groups.

    A report cited in ``references`` moves to its group; one that is not (only its label and
    address are known) is added from ``data/excluded_studies.csv`` or
    ``data/awaiting_classification.csv``.
    """
    references = references.assign(kind=references["kind"].astype(str))
    for kind, table in (("excluded", evidence.excluded), ("awaiting_classification", evidence.awaiting)):
        cited = references["study_id"].isin(table["study_id"].dropna())
        references.loc[cited, "kind"] = kind
        new = table[~table["study_id"].isin(references["study_id"].dropna())]
        references = pd.concat([references, pd.DataFrame(
            {"kind": kind, "citation": new["study_label"], "url": new["url"]})], ignore_index=True)
    return references


def reference_list(references: pd.DataFrame, evidence: EvidenceBase | None = None) -> Markdown:
    """The references, grouped (studies, reviews, popular articles), each with its identifiers.

    With ``evidence``, the reports the search excluded or could not retrieve are listed in
    their own groups ("Excluded studies", "Studies awaiting classification"), as a Cochrane
    review lists them.

    >>> refs = pd.DataFrame({"kind": ["review"], "citation": ["Pastrak M et al. Ochsner J 2021"],
    ...     "doi": ["10.31486/toj.20.0073"], "pmid": [None], "pmcid": ["PMC8675611"], "registry_id": [None],
    ...     "url": [None], "published": [None], "accessed": [None]})
    >>> print(reference_list(refs).data)
    **Reviews and guidelines**
    <BLANKLINE>
    1. Pastrak M et al. Ochsner J 2021. DOI: [10.31486/toj.20.0073](https://doi.org/10.31486/toj.20.0073); PMCID: PMC8675611
    """
    if evidence is not None:
        references = _with_set_aside(references, evidence)
    lines, number = [], 0
    for heading in dict.fromkeys(_KIND_HEADINGS.values()):
        group = references[references["kind"].map(_KIND_HEADINGS) == heading]
        if group.empty:
            continue
        lines += [f"**{heading}**", ""]
        for _, ref in group.iterrows():
            number += 1
            ids = []
            if _given(ref["doi"]):
                ids.append(f"DOI: {markdown_link(ref['doi'], 'https://doi.org/' + str(ref['doi']))}")
            if _given(ref["pmid"]):
                ids.append(f"PMID: {escape_markdown(ref['pmid'])}")
            if _given(ref["pmcid"]):
                ids.append(f"PMCID: {escape_markdown(ref['pmcid'])}")
            if _given(ref["registry_id"]):
                ids.append(f"registry: {escape_markdown(ref['registry_id'])}")
            if _given(ref["url"]) and not ids:
                ids.append(markdown_link(ref["url"], str(ref["url"])))
            if _given(ref["published"]):
                ids.append(f"published {pd.Timestamp(ref['published']).date()}")
            if _given(ref["accessed"]):
                ids.append(f"accessed {pd.Timestamp(ref['accessed']).date()}")
            citation = escape_markdown(str(ref["citation"]).rstrip("."))
            lines.append(f"{number}. {citation}." + (f" {'; '.join(ids)}" if ids else " No identifier found."))
        lines.append("")
    return Markdown("\n".join(lines).rstrip())


def design_counts(studies: pd.DataFrame, dictionary: DataDictionary, *,
                  caption: str = "Reports and studies, by design"):
    """Reports and studies (trials or cohorts) per design (a study reported twice counts once)."""
    counts = (studies.groupby("design", observed=True)
              .agg(reports=("study_id", "nunique"), samples=("cohort_id", "nunique")).reset_index())
    order = {code: i for i, code in enumerate(dictionary["design"].allowed)}
    counts = counts.sort_values("design", key=lambda s: s.map(order))
    return reader_table(counts, caption=caption, dictionary=dictionary,
                        columns={"design": "Design", "reports": "Reports", "samples": "Studies"},
                        formats={"reports": "count", "samples": "count"})


def risk_of_bias_overall(studies: pd.DataFrame, dictionary: DataDictionary, *,
                         caption: str = "Overall risk of bias per study, with the reason"):
    """One row per study report: the tool, the overall judgement and its reason."""
    reports = studies[studies["design"] != "registered_trial"].drop_duplicates("study_id")
    return reader_table(reports, caption=caption, dictionary=dictionary,
                        columns=["study_label", "rob_tool", "rob_overall", "rob_overall_reason"])


def risk_of_bias_domains(studies: pd.DataFrame, dictionary: DataDictionary, *,
                         caption: str = "Risk of bias per domain, with the reason for each judgement"):
    """Every assessed domain of every study, with its judgement and reason (all rows, never cut)."""
    reports = studies[studies["design"] != "registered_trial"].drop_duplicates("study_id")
    domains = [spec.column for spec in dictionary.columns
               if spec.column.startswith("rob_") and spec.type == "category"
               and spec.column not in ("rob_tool", "rob_overall")]
    rows = []
    for _, report in reports.iterrows():
        for domain in domains:
            judgement = report[domain]
            if not _given(judgement) or judgement == "not_applicable":
                continue
            reason = report[f"{domain}_reason"]
            rows.append({"Study": report["study_label"], "Domain": dictionary[domain].label,
                         "Judgement": dictionary[domain].value_label(judgement),
                         "Reason": reason if _given(reason) else NOT_REPORTED})
    frame = pd.DataFrame(rows)
    return reader_table(frame, caption=caption, columns=["Study", "Domain", "Judgement", "Reason"],
                        empty="No domain was assessed.")


def ratios_at_time_points(rows: pd.DataFrame, measure: str = "RR", confidence_level: float = 0.95, *,
                          caption: str = "Ketamine against control at each reported time point"):
    """One row per time point with both arms counted: the counts and the ratio with its Wald CI
    (as metafor's ``forest()`` draws a study; not pooled)."""
    both = rows[rows["control_events"].notna() & rows["ketamine_events"].notna()]
    table = []
    if not both.empty:
        es = effect_sizes(both, measure, columns=RESPONDER_COUNTS)
        scale = measure_scale(measure)
        lower, upper = wald_interval(es["yi"].to_numpy(float), es["vi"].to_numpy(float), confidence_level)
        for (_, row), yi, lb, ub in zip(both.iterrows(), es["yi"], lower, upper):
            estimate, lb, ub = (float(v) for v in scale.back_transform([yi, lb, ub]))
            table.append({
                "Study": row["study_label"], "Time point": row["timepoint_label"],
                "Ketamine: responders / patients": f"{int(row['ketamine_events'])}/{int(row['ketamine_n'])}",
                "Control: responders / patients": f"{int(row['control_events'])}/{int(row['control_n'])}",
                f"{scale.label} ({100 * confidence_level:g}% CI)":
                    f"{format_effect(estimate)} ({format_interval(lb, ub)})",
            })
    frame = pd.DataFrame(table)
    return reader_table(frame, caption=caption, columns=list(frame.columns) or ["Study"],
                        empty="No study counts responders in both arms at a stated time.")
