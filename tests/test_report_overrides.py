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
import html
import io
import re
import shutil
from pathlib import Path

import pytest

from analysis import AnalysisError
from analysis.apps.report import main
from analysis.data import load_claims, load_studies
from analysis.present.narrative import describe_claim_counts, describe_estimate, describe_multiverse
from analysis.review.claims import check_claims
from analysis.review.evidence_base import load_evidence_base
from analysis.review.findings import CONTROLLED_OUTCOMES
from analysis.review.multiverse import multiverse
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import PRIMARY_WINDOW, TIME_WINDOWS
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


def _text(page: Path) -> str:
    """The visible text of a page, tags removed, entities decoded, whitespace collapsed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


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


def _fragment(answer) -> str:
    """How every page writes an answer's number: ``"2.67 (95% CrI 0.25 to 28.27"`` (estimate, level,
    the interval's true name, bounds); sentences and table cells go on differently after it."""
    return f"{answer.estimate_text()} ({answer.interval_text()}"


def _expected_answers(plan: AnalysisPlan, data: Path) -> dict[str, list]:
    """Page -> the answers (analysis.review.answer.Answer) that page must give, each exactly as answered."""
    studies = load_studies(data / "studies.csv")

    def answer(outcome, window):
        try:
            return plan.answer(studies, outcome, window)
        except AnalysisError:  # nothing to answer in that window with these choices
            return None

    rate = answer("response_rate", plan.time_window)
    controlled = {window: answer("controlled", window) for window in TIME_WINDOWS}
    per_window_rates = [answer("response_rate", window) for window in TIME_WINDOWS]
    one_row = [a for a in controlled.values() if a is not None and len(a.rows) == 1]
    pages = {
        "02_response_rates": [rate],
        "03_controlled_trials": [controlled[plan.time_window]],
        # the duration page: every window's response rate, and each time point's comparison
        "04_duration_of_relief": per_window_rates + one_row,
        # the summary of findings: the response rate and the three follow-ups against control
        "00_summary": [rate] + [controlled[window] for _, _, window, _ in CONTROLLED_OUTCOMES],
        # claims about the pooled rate (C06) and short-term efficacy against control (C10)
        "06_claims_check": [rate, controlled[PRIMARY_WINDOW]],
    }
    return {page: [a for a in answers if a is not None] for page, answers in pages.items()}


def _check_one_answer(output: Path, plan: AnalysisPlan, data: Path) -> None:
    """Issue 22: each question's number, interval, interval name and model are the same on every
    page that gives it: the pages, the summary of findings, the claims verdicts."""
    for page, answers in _expected_answers(plan, data).items():
        if not (output / f"{page}.html").exists():
            continue  # a build of some notebooks only
        text = _text(output / f"{page}.html")
        for answer in answers:
            assert _fragment(answer) in text, (page, answer.outcome, answer.time_window, _fragment(answer))
            # the same interval under the other name (sensitivity models give other intervals, named)
            wrong = "CI" if answer.interval_type == "CrI" else "CrI"
            misnamed = f"{answer.estimate_text()} ({100 * plan.confidence_level:g}% {wrong} {answer.natural.interval_text()}"
            assert misnamed not in text, (page, "interval misnamed", misnamed)
    studies = load_studies(data / "studies.csv")
    models = {"02_response_rates": plan.answer(studies, "response_rate").fit.model_description,
              "03_controlled_trials": plan.answer(studies, "controlled").fit.model_description}
    for page, model in models.items():
        assert model in _text(output / f"{page}.html"), (page, model)


def test_index_and_pages_agree_under_the_overrides(override_build, synthetic_data):
    output, plan = override_build
    index = _text(output / "index.html")
    for page, sentence in _expected_sentences(plan, synthetic_data).items():
        assert sentence in _text(output / f"{page}.html"), (page, sentence)
        assert sentence in index, ("index", page, sentence)
    _check_one_answer(output, plan, synthetic_data)


def test_the_default_build_gives_one_answer_per_question(built_report):
    """The shared real build (tests/report_build.py: -p method DL; one label carries markup, so
    only the numbers are compared, on the committed data): one answer per question on every page."""
    assert built_report["status"] == 0
    _check_one_answer(built_report["output"], AnalysisPlan(method="DL"), ROOT / "data")


def test_the_explorers_default_view_gives_the_plans_answer():
    """The explorer's primary analysis is the report's: the same number, interval and model."""
    from analysis.apps.explorer.choices import ExplorerState
    from analysis.apps.explorer.compute import explore

    studies = load_studies()
    for outcome in ("response_rate", "controlled"):
        shown = explore(ExplorerState.primary(outcome), studies)
        answer = AnalysisPlan().answer(studies, outcome)
        assert _fragment(answer) in shown.sentence, (outcome, shown.sentence)
        assert shown.result.model_description == answer.fit.model_description


def test_the_index_counts_agree_with_themselves_under_the_overrides(override_build):
    """Issue 23: under -p exclude the index said '12 studies ... (14 reports)' and then
    '13 of the 13 reports'."""
    index = _text(override_build[0] / "index.html")
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
