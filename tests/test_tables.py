"""Tables for readers (analysis.present.tables, analysis.present.study_tables): no code, NaN or bare DataFrame reaches a reader."""

import html
import re

import pytest
from IPython.display import Markdown

from analysis import AnalysisError, pool_proportions
from analysis.data import DATA_DIR, load_dictionary, load_references, load_studies
from analysis.review.evidence_base import load_evidence_base
from analysis.present.study_tables import (
    characteristics_of_excluded_studies,
    characteristics_of_included_studies,
    harms,
    ongoing_studies,
    reference_list,
    studies_awaiting_classification,
)
from analysis.present.tables import (
    INFERRED_MARK,
    INFERRED_NOTE,
    MISSING,
    notes_list,
    reader_table,
    results_table,
    study_table,
)

#: A value that looks like a code (snake_case) or a missing value leaking through.
LEAKS = re.compile(r"\b[a-z]+_[a-z_]+\b|\bnan\b|\bNaT\b|\bNone\b|<NA>")


@pytest.fixture(scope="module")
def studies():
    return load_studies()


@pytest.fixture(scope="module")
def dictionary():
    return load_dictionary(DATA_DIR / "studies.dictionary.csv")


def _cells(table) -> list[str]:
    return [str(v) for v in table.data.to_numpy().ravel()] + [str(c) for c in table.data.columns]


def test_reader_table_labels_headers_and_values(studies, dictionary):
    table = reader_table(studies, caption="Outcome rows.", dictionary=dictionary,
                         columns=["study_label", "design", "time_window", "include_in_pooling", "ketamine_n",
                                  "timepoint_hours", "responder_threshold_percent"])
    assert html.unescape(table.caption) == f"Outcome rows. {INFERRED_NOTE}"  # the real data hold inferred values
    assert list(table.data.columns) == ["Study", "Design", "Time window", "Pooled", "Ketamine: patients",
                                        "Time after infusion (hours)", "Responder threshold (percent)"]
    cells = _cells(table)
    assert not [cell for cell in cells if LEAKS.search(cell)]
    assert MISSING in cells and "Yes" in cells and "No" in cells
    assert "<th " in table.to_html() and 'class="reader-table"' in table.to_html()


def test_reader_table_never_shows_an_empty_table_and_needs_a_caption(studies, dictionary):
    empty = reader_table(studies.iloc[0:0], caption="Rows.", columns=["study_label"], dictionary=dictionary)
    assert isinstance(empty, Markdown) and "No rows." in empty.data
    with pytest.raises(AnalysisError, match="caption"):
        reader_table(studies, caption="", columns=["study_label"])
    with pytest.raises(AnalysisError, match="no column nope"):
        reader_table(studies, caption="Rows.", columns=["nope"])


def test_inferred_values_are_marked_and_explained(dictionary):
    """Issue 20: a value inferred from wording carries a mark, and the caption says what it means."""
    import pandas as pd
    rows = pd.DataFrame({"study_label": ["A 2000", "B 2001"], "ketamine_events": [8, 5], "ketamine_n": [11, 10],
                         "inferred_values": ["ketamine_events|time_window", ""]})
    table = reader_table(rows, caption="Pooled rows.", columns=["study_label", "ketamine_events", "ketamine_n"],
                         dictionary=dictionary)
    assert table.data.iloc[:, 1].tolist() == [f"8{INFERRED_MARK}", "5"]
    assert table.data.iloc[:, 2].tolist() == ["11", "10"]
    assert html.unescape(table.caption) == f"Pooled rows. {INFERRED_NOTE}"
    # a table that shows no inferred value says nothing about them
    plain = reader_table(rows, caption="Sizes.", columns=["study_label", "ketamine_n"], dictionary=dictionary)
    assert plain.caption == "Sizes."
    fit = pool_proportions([8, 5], [11, 10], labels=["A 2000", "B 2001"])
    forest = study_table(fit, caption="Per study.", rows=rows)
    assert forest.data.iloc[:2, 1].tolist() == [f"8/11{INFERRED_MARK}", "5/10"]
    assert html.unescape(forest.caption).endswith(INFERRED_NOTE)
    assert study_table(fit, caption="Per study.").caption == "Per study."


def test_results_table_is_on_the_natural_scale_with_labelled_intervals():
    fit = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])
    table = results_table({"Primary": fit}, caption="Models.")
    row = table.data.iloc[0]
    natural = fit.natural()
    assert row["Proportion"] == "57%" and row["95% CI"] == natural.interval_text()
    assert row["Prediction interval"] == natural.interval_text(prediction=True)
    assert row["Patients"] == "103"


def test_results_table_names_primary_and_sensitivity_rows_and_credible_intervals():
    events, n = [8, 17, 8, 13, 11], [12, 29, 11, 34, 17]
    fits = {"BAYES": pool_proportions(events, n, method="BAYES", tau_prior_scale=1.0),
            "GLMM": pool_proportions(events, n)}
    mixed = results_table(fits, caption="Models.", primary="BAYES").data
    assert mixed["Analysis"].tolist() == ["Primary analysis", "Sensitivity analysis"]
    assert "95% CI or CrI" in mixed.columns
    bayesian = results_table({"BAYES": fits["BAYES"]}, caption="Models.").data
    assert bayesian["Analysis"].tolist() == ["BAYES"] and "95% CrI" in bayesian.columns


def test_notes_are_a_list_or_a_sentence_never_an_empty_table():
    assert notes_list(()).data.startswith("*No notes")
    assert notes_list(("tau² is estimated on the boundary",)).data == "- Tau² is estimated on the boundary"


@pytest.mark.parametrize("build", [characteristics_of_included_studies, ongoing_studies])
def test_study_tables_show_labels_not_codes(studies, dictionary, build):
    table = build(studies, dictionary)
    leaks = [cell for cell in _cells(table) if LEAKS.search(cell)]
    assert not leaks, leaks[:5]
    assert len(table.data) > 0


@pytest.fixture(scope="module")
def evidence():
    return load_evidence_base()


@pytest.mark.parametrize("build", [characteristics_of_excluded_studies, studies_awaiting_classification])
def test_tables_of_set_aside_studies_show_labels_not_codes(evidence, build):
    table = build(evidence)
    assert table.caption.startswith("Characteristics of")
    leaks = [cell for cell in _cells(table) if LEAKS.search(cell) or cell.strip() in ("", MISSING)]
    assert not leaks, leaks[:5]
    assert len(table.data) > 0


def test_characteristics_list_every_included_report_once(evidence, dictionary):
    included = evidence.included()
    table = characteristics_of_included_studies(included, dictionary)
    assert sorted(table.data["Study"]) == sorted(included.drop_duplicates("study_id")["study_label"])
    assert len(table.data) == evidence.counts().reports
    set_aside = set(evidence.excluded["study_label"]) | set(evidence.awaiting["study_label"])
    assert not set(table.data["Study"]) & set_aside
    assert set(table.data["What was read"]) <= set(dictionary["source_access"].category_labels)


def test_excluded_studies_give_each_report_its_reason_with_punctuation(evidence):
    table = characteristics_of_excluded_studies(evidence)
    assert list(table.data.columns) == ["Study", "Reason for exclusion"]
    assert list(table.data["Study"]) == list(evidence.excluded["study_label"])
    okapi = table.data.set_index("Study").loc["Corriger 2022 (OKAPI)", "Reason for exclusion"]
    assert okapi.startswith("Mixed chronic-pain population: no fibromyalgia-only data") and "data/studies.csv" in okapi


def test_awaiting_classification_says_what_is_known_and_needed(evidence):
    table = studies_awaiting_classification(evidence)
    rows = table.data.set_index("Study")
    assert list(table.data.columns) == ["Study", "What is known", "Information needed", "Why awaiting classification"]
    # Sörensen 1997 is described from data/studies.csv (its cells carry provenance), Metayer 2018 from its own row
    assert "18 enrolled" in rows.loc["Sörensen 1997", "What is known"]
    assert rows.loc["Metayer 2018", "What is known"].startswith("Rheumatology DES thesis slides")
    assert rows.loc["Sörensen 1997", "Why awaiting classification"] == "Not held in the searched corpora"


def test_harms_one_row_per_sample_that_reports_them(studies):
    table = harms(studies)
    reporting = studies[studies["adverse_events"].notna()]["cohort_id"].nunique()
    assert len(table.data) >= reporting
    assert not [cell for cell in _cells(table) if re.search(r"\bnan\b|<NA>|NaT", cell)]


def test_reference_list_gives_identifiers_and_no_missing_markers():
    text = reference_list(load_references()).data
    assert "DOI: [10." in text and "https://doi.org/10." in text
    assert not re.search(r"\bnan\b|\bNaT\b|\bNone\b", text)
    assert text.count("\n1. ") + text.startswith("1. ") <= 1  # numbered once through the groups


def test_reference_list_groups_the_excluded_and_awaiting_reports_with_an_address(evidence):
    text = reference_list(load_references(), evidence).data

    def group(heading):
        return [line for line in text.split(f"**{heading}**")[1].split("**")[0].splitlines() if line.strip()]

    excluded, awaiting = group("Excluded studies"), group("Studies awaiting classification")
    assert len(excluded) == len(evidence.excluded) and len(awaiting) == len(evidence.awaiting)
    assert all("](https://" in line for line in excluded), excluded  # a link: the address or a DOI
    # Sörensen 1997's report was not found: its reference says so rather than inventing an identifier
    address = "https://pdfslide.fr/documents/prise-en-charge-de-la-fibromyalgie-par-des-perfusions-de-.html"
    assert any(line.endswith(f"Metayer 2018. [{address.replace('://', chr(92) + '://')}]({address})")
               for line in awaiting)
    included = " ".join(group("Included and registered studies"))
    assert "Corriger" not in included and "J Rheumatol 1997" not in included


def test_each_time_point_is_compared_by_the_plans_model_with_its_interval_named():
    """Issue 22, finding 4: page 04 gave Noppers' week-1 RR a Wald CI (0.27 to 94.34) while the
    summary of findings and the claims check gave the plan's CrI (0.14 to 174.65), both "95% CI"."""
    from frozen_data import frozen_studies
    from analysis.review.plan import AnalysisPlan
    from analysis.present.study_tables import ratios_at_time_points

    studies = frozen_studies()
    plan = AnalysisPlan()
    rows = studies[(studies["outcome"] == "responders") & studies["timepoint_hours"].notna()]
    table = ratios_at_time_points(rows, plan).data.set_index("Time point")
    week = plan.answer(studies, "controlled", "short_term")
    assert table.loc["at the end of week-1", "Risk ratio"] == week.text().removeprefix("RR ")
    assert table.loc["at the end of week-1", "Zero-cell correction"] == "add 0.5 to each cell"
    assert table.loc["at the end of week-1", "Model"] == week.model
    iv = ratios_at_time_points(rows, AnalysisPlan(comparison_model="IV")).data
    assert iv["Risk ratio"].str.contains(r"\(95% CI ").all()


def test_one_study_shows_no_i2_and_no_hartung_knapp_label():
    """Issue 22, finding 8: "I² = 0 %" for one study, and "Hartung-Knapp" on a normal-theory interval."""
    from frozen_data import frozen_studies
    from analysis.review.plan import AnalysisPlan

    analysis = AnalysisPlan().controlled(frozen_studies())
    table = results_table(analysis.models(), caption="c").data.set_index("Model")
    assert (table["I²"] == "–").all()
    assert "Hartung-Knapp" not in " ".join(table.index) + " ".join(table.iloc[:, 0].astype(str))
    assert "one study: its own estimate with a normal-theory CI" in analysis.random_effects.model_description


def test_ongoing_studies_show_status_completion_and_overdue(studies, dictionary):
    """Issue 20: a terminated trial says so (with the other copies' statuses); overdue is computed."""
    from analysis.data import DATA_DIR, load_dictionary, load_registrations
    from analysis.present.study_tables import ongoing_studies
    from analysis.review.registrations import trial_registrations
    trials = trial_registrations(load_registrations())
    table = ongoing_studies(studies, dictionary, trials=trials,
                            trial_dictionary=load_dictionary(DATA_DIR / "registrations.dictionary.csv"))
    rows = table.data.set_index("Registry record")
    assert rows.loc["NCT04436250", "Status"] == "Terminated (other copies: not yet recruiting, recruiting)"
    assert rows.loc["NCT04436250", "Results overdue"] == "Yes"
    assert rows.loc["NCT07230171", "Results overdue"] == "–"
    assert "more than 12 months before this data version (6 December 2026)" in table.caption
