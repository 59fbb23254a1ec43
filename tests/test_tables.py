"""Tables for readers (analysis.tables, analysis.study_tables): no code, NaN or bare DataFrame reaches a reader."""

import re

import pytest
from IPython.display import Markdown

from analysis import AnalysisError, pool_proportions
from analysis.data import DATA_DIR, load_dictionary, load_references, load_studies
from analysis.study_tables import (
    characteristics_of_included_studies,
    harms,
    ongoing_studies,
    reference_list,
)
from analysis.tables import MISSING, notes_list, reader_table, results_table

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
    assert table.caption == "Outcome rows."
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


def test_characteristics_list_every_included_report_once(studies, dictionary):
    table = characteristics_of_included_studies(studies, dictionary)
    included = studies[studies["design"] != "registered_trial"]
    assert sorted(table.data["Study"]) == sorted(included.drop_duplicates("study_id")["study_label"])
    assert set(table.data["What was read"]) <= set(dictionary["source_access"].category_labels)


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
