"""One definition of report, study and sample (issue 10): the index, the PRISMA diagram, the study
tables and the claims check count the same things from the data, and PRISMA's exclusions are the
rows of data/excluded_studies.csv and data/awaiting_classification.csv (issue 14)."""

import dataclasses

import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.review.claims import check_claims
from analysis.data import DATA_DIR, load_claims, load_dictionary
from analysis.review.evidence_base import COUNTED_STAGES, STAGES, load_evidence_base
from analysis.present.narrative import describe_evidence_base
from analysis.review.plan import AnalysisPlan
from analysis.present.plots import prisma_plot
from analysis.present.plots.prisma import STAGE_TEXT
from analysis.review.selection import as_flag
from analysis.present.study_tables import characteristics_of_included_studies, design_counts


@pytest.fixture(scope="module")
def evidence():
    return load_evidence_base()


def _total(flow, stage, route=None):
    rows = flow[(flow["stage"] == stage) & ((flow["route"] == route) if route is not None else True)]
    return int(rows["count"].sum())


def test_counts_are_the_data_counted_by_hand(evidence):
    """Counted here from the raw columns, not through the module under test."""
    studies = evidence.studies
    set_aside = set(evidence.excluded["study_id"].dropna()) | set(evidence.awaiting["study_id"].dropna())
    included = studies[(studies["design"] != "registered_trial") & ~studies["study_id"].isin(set_aside)]
    counts = evidence.counts()
    assert counts.studies == included["cohort_id"].nunique()
    assert counts.reports == included["study_id"].nunique()
    assert counts.pooled_studies == included.loc[as_flag(included["include_in_pooling"]), "cohort_id"].nunique()
    assert counts.ongoing_studies == studies.loc[studies["design"] == "registered_trial", "cohort_id"].nunique()
    assert counts.excluded_reports == len(evidence.excluded)
    assert counts.awaiting_reports == len(evidence.awaiting)
    # every cohort of the study table is included, ongoing, excluded or awaiting classification
    assert set(evidence.status().unique()) <= {"included", "ongoing", "excluded", "awaiting_classification"}
    # a report set aside by the search is never pooled
    assert not as_flag(studies.loc[studies["study_id"].isin(set_aside), "include_in_pooling"]).any()


def test_prisma_exclusions_are_the_rows_of_their_data_files(evidence):
    flow = evidence.flow()
    for stage, table in (("reports_excluded", evidence.excluded), ("reports_not_retrieved", evidence.awaiting)):
        assert _total(flow, stage) == len(table)
        for route in ("databases_registers", "other_methods"):
            assert _total(flow, stage, route) == int((table["identified_via"] == route).sum()), (stage, route)
        per_reason = flow[(flow["stage"] == stage) & (flow["count"] > 0)].groupby("reason")["count"].sum()
        assert per_reason.to_dict() == table["reason"].astype(str).value_counts().to_dict()
    screening = evidence.screening["decision"].astype(str)
    assert _total(flow, "records_screened") == len(screening)
    assert _total(flow, "reports_sought_for_retrieval", "databases_registers") == (screening == "sought_for_retrieval").sum()
    excluded = flow[flow["stage"] == "excluded_at_screening"].set_index("reason")["count"].to_dict()
    assert excluded == screening[screening != "sought_for_retrieval"].value_counts().to_dict()
    # never typed twice: data/prisma.csv does not even allow these stages (reports sought via
    # other methods stay typed: they are not in the screening table)
    allowed = load_dictionary(DATA_DIR / "prisma.dictionary.csv")["stage"].allowed
    assert set(COUNTED_STAGES) & set(allowed) == {"reports_sought_for_retrieval"}
    typed_twice = pd.concat([evidence.prisma, evidence.prisma[evidence.prisma["stage"] == "reports_sought_for_retrieval"]
                             .assign(route="databases_registers")], ignore_index=True)
    with pytest.raises(AnalysisError, match=r"types reports_sought_for_retrieval \(databases_registers\), which"):
        dataclasses.replace(evidence, prisma=typed_twice).flow()


def test_the_flow_and_the_figure_know_the_same_stages():
    assert STAGES == tuple(STAGE_TEXT)


def test_prisma_flow_adds_up_in_each_column(evidence):
    flow = evidence.flow()
    db, other = "databases_registers", "other_methods"
    assert _total(flow, "records_screened", db) == (_total(flow, "identified_databases", db)
                                                    - _total(flow, "duplicates_removed", db))
    assert _total(flow, "reports_sought_for_retrieval", db) == (_total(flow, "records_screened", db)
                                                                - _total(flow, "excluded_at_screening", db))
    assert _total(flow, "reports_sought_for_retrieval", other) == _total(flow, "identified_other_sources", other)
    for route in (db, other):
        assert _total(flow, "reports_assessed_for_eligibility", route) == (
            _total(flow, "reports_sought_for_retrieval", route) - _total(flow, "reports_not_retrieved", route))
    # every assessed report is excluded, a registry record or protocol of an ongoing study, or a
    # report of an included study
    from analysis.data import load_references
    refs = load_references()
    ongoing_ids = set(evidence.studies.loc[evidence.status() == "ongoing", "study_id"])
    ongoing_reports = int(refs["study_id"].isin(ongoing_ids).sum())
    assessed = _total(flow, "reports_assessed_for_eligibility")
    assert assessed == _total(flow, "reports_excluded") + ongoing_reports + _total(flow, "included_reports")


def test_index_prisma_tables_and_claims_count_the_same_studies(evidence):
    counts = evidence.counts()
    # index (00_summary's headline)
    sentence = describe_evidence_base(evidence)
    assert sentence.startswith(f"The review includes {counts.studies} studies of ketamine for fibromyalgia "
                               f"({counts.reports} reports); in {counts.pooled_studies} of them")
    assert f"of the {counts.reports} reports of included studies" in sentence
    # PRISMA: the typed counts agree with the data, and the figure shows them
    flow = evidence.flow()
    assert _total(flow, "included_qualitative_synthesis") == counts.studies
    assert _total(flow, "included_reports") == counts.reports
    assert _total(flow, "included_quantitative_synthesis") == counts.pooled_studies
    assert _total(flow, "registered_studies_without_results") == counts.ongoing_studies
    shown = " ".join(" ".join(t.get_text().split()) for t in prisma_plot(flow).texts)
    assert f"Studies included in review (n = {counts.studies} studies)" in shown
    assert f"Reports of included studies (n = {counts.reports} reports)" in shown
    # tables (01_evidence_overview)
    dictionary = evidence.dictionaries["studies"]
    included = evidence.included()
    assert len(characteristics_of_included_studies(included, dictionary).data) == counts.reports
    by_design = design_counts(included, dictionary).data
    assert sum(int(n) for n in by_design["Studies"]) == counts.studies
    assert sum(int(n) for n in by_design["Reports"]) == counts.reports
    # claims: a number of studies is checked against the studies with a pooled sample (those
    # published by the year of the document a claim describes, when it names one: as_of_year)
    claims = load_claims()
    frame = check_claims(claims, evidence.studies, AnalysisPlan()).to_frame()
    as_of = dict(zip(claims["claim_id"], claims["as_of_year"]))
    studies_claims = frame[frame["scale"] == "studies"]
    assert len(studies_claims) > 0
    pooled = included[as_flag(included["include_in_pooling"])]
    for claim, estimate in zip(studies_claims["claim_id"], studies_claims["estimate"]):
        year = as_of[claim]
        counted = pooled if pd.isna(year) else pooled[pooled["year"].isna() | (pooled["year"] <= year)]
        assert estimate == counted["cohort_id"].nunique(), claim


def test_a_typed_count_that_disagrees_with_the_data_is_refused(evidence):
    prisma = evidence.prisma.copy()
    wrong_count = evidence.counts().studies + 2  # whatever the data hold
    prisma.loc[prisma["stage"] == "included_qualitative_synthesis", "count"] = wrong_count
    wrong = dataclasses.replace(evidence, prisma=prisma)
    with pytest.raises(AnalysisError, match=f"included_qualitative_synthesis: data/prisma.csv says {wrong_count}, "
                                            f"the data count {evidence.counts().studies}"):
        wrong.flow()


def test_excluding_a_report_moves_it_out_of_every_count(evidence):
    """Excluding one more included report changes the tables, the flow and the index together."""
    extra = pd.DataFrame([{**{c: pd.NA for c in evidence.excluded.columns}, "report_id": "hanna2016",
                           "study_label": "Hanna 2016", "study_id": "hanna2016",
                           "identified_via": "databases_registers",
                           "reason": "mixed_chronic_pain_population_no_fibromyalgia_data"}])
    more = dataclasses.replace(evidence, excluded=pd.concat([evidence.excluded, extra], ignore_index=True))
    before, after = evidence.counts(), more.counts()
    assert (after.studies, after.reports, after.excluded_reports) == (
        before.studies - 1, before.reports - 1, before.excluded_reports + 1)
    assert "Hanna 2016" not in set(characteristics_of_included_studies(
        more.included(), more.dictionaries["studies"]).data["Study"])
    with pytest.raises(AnalysisError, match="data/prisma.csv says"):
        more.flow()  # the search log must be corrected too


def test_the_index_harms_note_and_the_harms_table_count_the_same_studies(evidence):
    from analysis.review.findings import summary_of_findings
    from analysis.present.study_tables import harms

    included = evidence.included()
    rows = {row.key: row for row in summary_of_findings(AnalysisPlan(), included)}
    table = harms(included).data
    describing = table[table["Adverse events (as reported)"] != "not reported"]
    assert f" {len(describing)} studies describe adverse events in words only" in rows["adverse_events"].comment


def test_the_evidence_sentence_counts_the_same_reports_under_exclude(evidence):
    """Issue 23: with -p exclude the index said '12 studies ... (14 reports)' and then
    '... of the 13 reports': every count is the review's; the left-out report is named."""
    counts = evidence.counts()
    left_out = evidence.included().drop_duplicates("study_id").iloc[0]
    plan = AnalysisPlan(exclude=[left_out["study_id"]])
    sentence = describe_evidence_base(evidence, plan.included(evidence.studies))
    assert f"({counts.reports} reports)" in sentence
    assert f"of the {counts.reports} reports of included studies" in sentence
    assert sentence.endswith(f"leave out 1 of these reports from every analysis: {left_out['study_label']}.")
    assert "leave out" not in describe_evidence_base(evidence, evidence.studies)
