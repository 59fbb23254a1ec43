"""Every documented report parameter works in every page, and the index agrees with the pages.

Each parameter of the analysis plan (the report's vocabulary) is given a non-default value in
exactly one of two builds (a build takes 15-60 s here, so each override is built once): every
notebook under the inverse-variance comparison with studies left out, and the notebooks that
carry the headline numbers plus the sensitivity page under another response-rate model, prior
and time window. Both run on a copy of ``data/`` with a synthetic randomised trial added
(``tests/synthetic_trial.py``), so that every window an override picks holds at least two
studies: with one, a leave-one-out or a Freeman-Tukey back-transformation of a refit never runs
(issue 23: '-p proportion_model PFT' stopped notebook 05, unseen). The sentences the index
shows for the response rate, the controlled comparison, the claims check and the multiverse
must be those of their own pages, and those the library gives in-process for the same plan; the
index's counts must agree with themselves. The builds are module fixtures (:data:`BUILDS`), so
further checks of the same builds cost no build.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

from analysis.apps.report import main
from analysis.data import load_claims, load_studies
from analysis.present.narrative import describe_claim_counts, describe_estimate, describe_multiverse
from analysis.review.claims import check_claims
from analysis.review.evidence_base import load_evidence_base
from analysis.review.multiverse import multiverse
from analysis.review.plan import AnalysisPlan
from tests.one_answer import answer_fragment, check_one_answer, page_text
from tests.synthetic_trial import add_synthetic_trial, copy_data

ROOT = Path(__file__).resolve().parent.parent

#: The notebooks whose numbers the index repeats, and the duration page that answers the same
#: questions per window (issue 22: one question, one answer).
AGREEMENT_NOTEBOOKS = ("00_summary", "02_response_rates", "03_controlled_trials", "04_duration_of_relief",
                       "06_claims_check")

#: Every notebook of the report.
EVERY_NOTEBOOK = tuple(sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))

#: The builds: non-default values and the notebooks run; together they override every
#: parameter of the plan, each in one build.
BUILDS = {
    "frequentist comparison and study selection, every notebook": ({
        "comparison_model": "IV", "measure": "OR", "test": "z", "method": "DL", "confidence_level": 0.9,
        "responder_threshold": 50, "exclude": ["cohen2006"], "include_inferred": False,
    }, EVERY_NOTEBOOK),
    "response-rate model, prior and time window": ({
        "proportion_model": "PFT", "proportion_test": "knha", "response_rate_threshold": 0.6,
        "tau_prior_scale": 0.5, "time_window": "short_term", "include_unstated_time": False,
    }, (*AGREEMENT_NOTEBOOKS, "05_sensitivity_and_bias")),
}


def test_every_parameter_of_the_plan_is_overridden_in_one_build():
    overridden = [name for parameters, _ in BUILDS.values() for name in parameters]
    assert sorted(overridden) == sorted(AnalysisPlan.parameter_names())
    for parameters, _ in BUILDS.values():
        plan = AnalysisPlan(**parameters)
        assert all(getattr(plan, name) != getattr(AnalysisPlan(), name) for name in parameters)


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory) -> Path:
    """A copy of data/ with the synthetic trial: two studies in every window an override picks."""
    data = copy_data(tmp_path_factory.mktemp("overrides") / "data")
    add_synthetic_trial(data)
    return data


def test_every_window_an_override_picks_holds_two_studies(synthetic_data):
    studies = load_studies(synthetic_data / "studies.csv")
    for parameters, _ in BUILDS.values():
        plan = AnalysisPlan(**parameters)
        assert plan.response_rate(studies).k >= 2, parameters
        assert plan.controlled(studies).primary.k >= 2, parameters


@pytest.fixture(scope="module", params=list(BUILDS))
def override_build(request, tmp_path_factory, synthetic_data) -> tuple[Path, AnalysisPlan]:
    """One build per entry of :data:`BUILDS`: its report folder and its plan."""
    parameters, notebooks = BUILDS[request.param]
    output = _build(tmp_path_factory.mktemp("overrides"), synthetic_data, parameters, notebooks)
    return output, AnalysisPlan(**parameters)


def _build(tmp_path: Path, data: Path, parameters: dict, notebooks) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in notebooks:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", folder / f"{name}.ipynb")
    output = tmp_path / "reports"
    argv = ["--notebooks", str(folder), "--data", str(data), "--output", str(output)]
    for name, value in parameters.items():
        argv += ["-p", name, repr(value) if not isinstance(value, str) else value]
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
        status = main(argv)
    assert status == 0, out.getvalue() + err.getvalue()
    return output


def _expected_sentences(plan: AnalysisPlan, data: Path) -> dict[str, str]:
    studies = load_studies(data / "studies.csv")
    return {
        "02_response_rates": describe_estimate(plan.response_rate(studies)),
        "03_controlled_trials": describe_estimate(plan.controlled(studies).primary),
        "06_claims_check": describe_claim_counts(check_claims(
            load_claims(data / "claims.csv"), load_evidence_base(data).in_review(studies), plan).counts()),
        "00_summary": describe_multiverse(multiverse(studies, "response_rate", plan=plan).summary()),
    }


def test_index_and_pages_agree_under_the_overrides(override_build, synthetic_data):
    output, plan = override_build
    index = page_text(output / "index.html")
    for page, sentence in _expected_sentences(plan, synthetic_data).items():
        assert sentence in page_text(output / f"{page}.html"), (page, sentence)
        assert sentence in index, ("index", page, sentence)
    check_one_answer(output, plan, synthetic_data)


def test_the_explorers_default_view_gives_the_plans_answer():
    """The explorer's primary analysis is the report's: the same number, interval and model."""
    from analysis.apps.explorer.choices import ExplorerState
    from analysis.apps.explorer.compute import explore

    studies = load_studies()
    for outcome in ("response_rate", "controlled"):
        shown = explore(ExplorerState.primary(outcome), studies)
        answer = AnalysisPlan().answer(studies, outcome)
        assert answer_fragment(answer) in shown.sentence, (outcome, shown.sentence)
        assert shown.result.model_description == answer.fit.model_description


def test_the_index_counts_agree_with_themselves_under_the_overrides(override_build):
    """Issue 23: under -p exclude the index said '12 studies ... (14 reports)' and then
    '13 of the 13 reports'."""
    index = page_text(override_build[0] / "index.html")
    (reports,) = re.findall(r"The review includes \d+ studies of ketamine for fibromyalgia \((\d+) reports\)", index)
    (of,) = re.findall(r"\d+ of the (\d+) reports of included studies", index)
    assert of == reports


def test_a_study_left_out_by_an_unknown_name_stops_before_any_notebook(tmp_path, capsys):
    """Issue 19: -p exclude "['Nobody 1999']" built the whole report, leaving nothing out."""
    status = main(["--notebooks", str(ROOT / "notebooks"), "--output", str(tmp_path / "reports"),
                   "-p", "exclude", "['Nobody 1999']"])
    err = capsys.readouterr().err
    assert status != 0
    assert "parameters refused before any notebook ran: exclude: 'Nobody 1999' matches no study" in err
    assert "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def test_a_combination_the_plan_refuses_stops_before_any_notebook(tmp_path, capsys):
    """Issue 9: -p proportion_test knha with the GLMM used to stop at notebook 02."""
    status = main(["--notebooks", str(ROOT / "notebooks"), "--output", str(tmp_path / "reports"),
                   "-p", "proportion_model", "GLMM", "-p", "proportion_test", "knha"])
    err = capsys.readouterr().err
    assert status != 0
    assert "parameters refused before any notebook ran" in err and "GLMM" in err
    assert "Traceback" not in err
    assert not (tmp_path / "reports").exists()
