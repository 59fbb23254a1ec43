"""Every documented report parameter works in every page, and the index agrees with the pages.

Each parameter of the analysis plan (the report's vocabulary) is given a non-default value in
one of three builds (grouped so that the suite stays within minutes: a build takes 20-60 s
here), each running every notebook on a copy of ``data/`` with a synthetic randomised trial
added (``tests/synthetic_trial.py``), so that every window an override picks holds at least two
studies (with one, a leave-one-out or a Freeman-Tukey back-transformation is never exercised:
issue 23's '-p proportion_model PFT' crash in notebook 05 went unseen). The sentences the index
shows for the response rate, the controlled comparison, the claims check and the multiverse must
be those of their own pages, and those the library gives in-process for the same plan; the
index's counts must agree with themselves.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
from pathlib import Path

import pytest

from analysis.claims import check_claims
from analysis.data import load_claims, load_studies
from analysis.multiverse import multiverse
from analysis.narrative import describe_claim_counts, describe_estimate, describe_multiverse
from analysis.plan import AnalysisPlan
from analysis.report import main
from tests.synthetic_trial import add_synthetic_trial, copy_data

ROOT = Path(__file__).resolve().parent.parent

#: Builds, each a set of non-default values; together they cover every parameter of the plan.
OVERRIDE_GROUPS = {
    "response-rate model and prior": {"proportion_model": "PFT", "proportion_test": "knha", "method": "DL",
                                      "response_rate_threshold": 0.6, "tau_prior_scale": 0.5},
    "controlled comparison and window": {"comparison_model": "IV", "measure": "OR", "test": "z",
                                         "confidence_level": 0.9, "time_window": "short_term",
                                         "include_unstated_time": False},
    "study selection": {"responder_threshold": 50, "exclude": ["cohen2006"]},
}

#: The notebooks whose numbers the index repeats.
AGREEMENT_NOTEBOOKS = ("00_summary", "02_response_rates", "03_controlled_trials", "06_claims_check")


def test_every_parameter_of_the_plan_is_overridden_in_some_build():
    overridden = [name for group in OVERRIDE_GROUPS.values() for name in group]
    assert sorted(overridden) == sorted(AnalysisPlan.parameter_names())
    for group in OVERRIDE_GROUPS.values():
        plan = AnalysisPlan(**group)
        assert all(getattr(plan, name) != getattr(AnalysisPlan(), name) for name in group)


def _text(page: Path) -> str:
    """The visible text of a page, tags removed, entities decoded, whitespace collapsed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory) -> Path:
    """A copy of data/ with the synthetic trial: two studies in every window an override picks."""
    data = copy_data(tmp_path_factory.mktemp("overrides") / "data")
    add_synthetic_trial(data)
    return data


@pytest.fixture(scope="module")
def built(tmp_path_factory, synthetic_data):
    """The report of each override group, built once (every notebook) and shared by the tests."""
    outputs: dict[str, Path] = {}

    def build(group: str) -> Path:
        if group not in outputs:
            output = tmp_path_factory.mktemp("override") / "reports"
            argv = ["--data", str(synthetic_data), "--output", str(output)]
            for name, value in OVERRIDE_GROUPS[group].items():
                argv += ["-p", name, repr(value) if not isinstance(value, str) else value]
            with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
                status = main(argv)
            assert status == 0, out.getvalue() + err.getvalue()
            outputs[group] = output
        return outputs[group]

    return build


def _expected_sentences(plan: AnalysisPlan, data: Path) -> dict[str, str]:
    studies = load_studies(data / "studies.csv")
    return {
        "02_response_rates": describe_estimate(plan.response_rate(studies)),
        "03_controlled_trials": describe_estimate(plan.controlled(studies).primary),
        "06_claims_check": describe_claim_counts(check_claims(load_claims(data / "claims.csv"), studies, plan).counts()),
        "00_summary": describe_multiverse(multiverse(studies, "response_rate", plan=plan).summary()),
    }


def test_every_window_an_override_picks_holds_two_studies(synthetic_data):
    studies = load_studies(synthetic_data / "studies.csv")
    for parameters in OVERRIDE_GROUPS.values():
        plan = AnalysisPlan(**parameters)
        assert plan.response_rate(studies).k >= 2, parameters
        assert plan.controlled(studies).primary.k >= 2, parameters


@pytest.mark.parametrize("group", list(OVERRIDE_GROUPS))
def test_index_and_pages_agree_under_each_override(built, synthetic_data, group):
    output = built(group)
    assert sorted(p.stem for p in output.glob("[0-9][0-9]_*.html")) == sorted(
        p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))  # every notebook ran
    index = _text(output / "index.html")
    for page, sentence in _expected_sentences(AnalysisPlan(**OVERRIDE_GROUPS[group]), synthetic_data).items():
        assert sentence in _text(output / f"{page}.html"), (page, sentence)
        assert sentence in index, ("index", page, sentence)


@pytest.mark.parametrize("group", list(OVERRIDE_GROUPS))
def test_the_index_counts_agree_with_themselves_under_each_override(built, group):
    """Issue 23: under -p exclude the index said '12 studies ... (14 reports)' and then
    '13 of the 13 reports'."""
    index = _text(built(group) / "index.html")
    (reports,) = re.findall(r"The review includes \d+ studies of ketamine for fibromyalgia \((\d+) reports\)", index)
    (of,) = re.findall(r"\d+ of the (\d+) reports of included studies", index)
    assert of == reports


def test_a_combination_the_plan_refuses_stops_before_any_notebook(tmp_path, capsys):
    """Issue 9: -p proportion_test knha with the GLMM used to stop at notebook 02."""
    status = main(["--notebooks", str(ROOT / "notebooks"), "--output", str(tmp_path / "reports"),
                   "-p", "proportion_model", "GLMM", "-p", "proportion_test", "knha"])
    err = capsys.readouterr().err
    assert status != 0
    assert "parameters refused before any notebook ran" in err and "GLMM" in err
    assert "Traceback" not in err
    assert not (tmp_path / "reports").exists()
