"""The plain-language layer: key messages and article answers, word for word on made-up facts;
banned words and readability on made-up facts and on the real data; the adapters on the real data."""

from __future__ import annotations

import math
import re
import shutil

import pandas as pd
import pytest
from frozen_data import FROZEN
from synthetic_trial import add_synthetic_trial

from analysis.engine._errors import AnalysisError
from analysis.present import plain
from analysis.present.plain import (
    ArmsAt,
    ArticleClaim,
    ArticleFacts,
    CertaintyFacts,
    ComparisonFacts,
    HarmsFacts,
    ResponseFacts,
    StudyCount,
    TrialFacts,
)
from analysis.present.readability import MAX_DALE_CHALL, MAX_GRADE, readability

NAN = math.nan

# Made-up facts: three studies, one of them with a comparison arm followed to 8 weeks.
RESPONSE = ResponseFacts(0.52, 0.31, 0.74, (
    StudyCount("Ames 2001", 2001, 6, 10, False), StudyCount("Bell 2005", 2005, 9, 20, False, ("bell2005",)),
    StudyCount("Cole 2010", 2010, 7, 14, True)), 50.0, 0)
TRIAL = TrialFacts("Cole 2010", "active_placebo", "midazolam 2 mg", (
    ArmsAt(1.0, 7, 14, 2, 14), ArmsAt(168.0, 3, 14, 1, 14), ArmsAt(1344.0, 1, 14, 1, 14)))
HARMS = HarmsFacts(counted=0, described=2, withdrawals_counted=0)
CERTAINTY = (CertaintyFacts("how many people respond", "very low", ("imprecision", "risk_of_bias")),
             CertaintyFacts("how ketamine compares with a dummy treatment soon after", "low",
                            ("imprecision",)))


# Made-up facts with more trials: Dunn 2012 (salt water) beside Cole 2010, summed up per time as the
# summary of findings gives them (no responder on the dummy treatment at 1 to 7 days: no share with
# ketamine follows from a ratio, so the ketamine arms' own share is said).
DUNN = TrialFacts("Dunn 2012", "saline_placebo", "saline", (ArmsAt(2.0, 9, 10, 1, 10), ArmsAt(72.0, 1, 10, 0, 10)),
                  ("dunn2012",))
COMPARISONS = (ComparisonFacts("during_or_immediate", 2, 3 / 24, 0.56, 0.21, 1.0, 16, 24, 3, 24, "low"),
               ComparisonFacts("short_term", 2, 0.0, NAN, NAN, NAN, 4, 24, 0, 24, "very low"),
               ComparisonFacts("long_term", 1, 1 / 14, 0.09, 0.01, 0.6, 1, 14, 1, 14, "very low"))


def _claim(claim_id="C1", analysis="pooled_response_rate", quantity="response_rate", verdict="supported",
           value=NAN, lower=NAN, upper=NAN, estimate=0.52, ci=(0.31, 0.74), ref="", quote="Half get better."):
    return ArticleClaim(claim_id, quote, analysis, quantity, "unspecified", verdict, value, lower, upper,
                        estimate, *ci, ref)


def test_key_messages_word_for_word():
    messages = plain.key_messages(RESPONSE, (TRIAL,), HARMS, CERTAINTY, ongoing=2)
    assert messages.title == "Key messages"
    assert messages.sections == (
        ("What did we want to find out?",
         ("We wanted to know if ketamine eases the pain of fibromyalgia, for how many people, "
          "and for how long.",)),
        ("What did we find?", (
            "In 3 studies with 44 people, about 5 in 10 had at least half their pain gone after "
            "ketamine (it could be between about 3 and 7 in 10). Only 1 study also counted how many got better with "
            "a dummy treatment, so we cannot tell how much was due to ketamine.",
            "In that study, 7 of 14 people who had ketamine and 2 of 14 who had the dummy treatment had "
            "at least half their pain gone 1 hour after. After 1 week it was 3 of 14 and 1 of 14; after "
            "8 weeks, 1 of 14 in both groups. The dummy treatment was midazolam, a drug that makes people "
            "calm and sleepy, so people could not easily tell which drug they had.",
            "No study counted side effects or people who stopped early in each group; 2 studies only "
            "describe the side effects.")),
        ("How sure are we?", (
            "We are not sure about how ketamine compares with a dummy treatment soon after. We are very "
            "uncertain about how many people respond. The studies were few and small. Some studies had "
            "flaws in how they were run.",)),
        ("What is still unknown?", (
            "We do not know if ketamine works better than a dummy treatment, how long any relief lasts, "
            "if repeated doses help more, or how often side effects happen. 2 registered studies have "
            "not yet shared results.",)),
    )


def test_key_messages_follow_the_facts():
    """One level of certainty for all outcomes, no uncontrolled study, harms counted, nothing ongoing,
    a second trial (its comparison rated moderate) and repeated doses: the sentences change with the facts."""
    response = ResponseFacts(0.8, 0.7, 0.9, (StudyCount("Cole 2010", 2010, 7, 14, True),
                                             StudyCount("Dunn 2012", 2012, 9, 10, True)), 67.0, 1)
    second = TrialFacts("Dunn 2012", "saline_placebo", "saline", (ArmsAt(2400.0, 9, 10, 1, 10),))
    certainty = (CertaintyFacts("how many people respond", "moderate", ("inconsistency",)),)
    compared = (ComparisonFacts("long_term", 2, 2 / 24, 0.45, 0.2, 0.8, 10, 24, 2, 24, "moderate"),)
    text = plain.key_messages(response, (TRIAL, second), HarmsFacts(1, 0, 1), certainty,
                              comparisons=compared).text
    assert ("In 2 studies with 24 people, about 8 in 10 had at least two thirds of their pain gone "
            "after ketamine (it could be between about 7 and 9 in 10).") in text
    assert "counted how many got better with a dummy treatment" not in text
    assert ("2 studies also gave a dummy treatment (midazolam, a drug that makes people calm and sleepy, in "
            "1 study; a drip of salt water in 1 study), to see how much was due to ketamine. In them, about 5 "
            "in 10 people who had ketamine and about 1 in 10 who had the dummy treatment had at least two "
            "thirds of their pain gone after 8 weeks or more (with ketamine it could be between about 2 and "
            "8 in 10).") in text
    assert "1 study counted side effects in each group; the technical pages give the numbers." in text
    assert "We are fairly sure about these results. The studies' results differed a lot." in text
    assert "The main questions have clear answers." in text
    assert "registered" not in text


def test_two_trials_are_summed_up_per_time_word_for_word():
    messages = plain.key_messages(RESPONSE, (TRIAL, DUNN), HARMS, CERTAINTY, ongoing=2, comparisons=COMPARISONS)
    assert dict(messages.sections)["What did we find?"] == (
        "In 3 studies with 44 people, about 5 in 10 had at least half their pain gone after ketamine (it could be "
        "between about 3 and 7 in 10).",
        "Only 2 studies also gave a dummy treatment (midazolam, a drug that makes people calm and sleepy, in 1 "
        "study; a drip of salt water in 1 study), to see how much was due to ketamine. In them, about 6 in 10 "
        "people who had ketamine and about 1 in 10 who had the dummy treatment had at least half their pain gone "
        "in the first 4 hours (with ketamine it could be between about 2 and 10 in 10). After 1 to 7 days it was "
        "about 2 in 10 and none; after 8 weeks or more (1 study), about 1 in 10 in both groups.",
        "No study counted side effects or people who stopped early in each group; 2 studies only describe the "
        "side effects.")
    # the comparison is rated low: still unknown whether ketamine works better
    assert "We do not know if ketamine works better than a dummy treatment" in messages.text


def test_two_trials_need_their_comparisons():
    with pytest.raises(AnalysisError, match=r"2 trials compared ketamine .*comparison_facts\(findings, plan, studies\)"):
        plain.key_messages(RESPONSE, (TRIAL, DUNN), HARMS, CERTAINTY)


@pytest.mark.parametrize(("trials", "level", "unknown"), [
    ((TRIAL,), "high", True),  # one trial: never known
    ((TRIAL, DUNN), "low", True),  # few, small or disagreeing trials: GRADE rates their comparison low
    ((TRIAL, DUNN), "very low", True),
    ((TRIAL, DUNN), "moderate", False),
])
def test_whether_ketamine_works_better_is_known_from_two_trials_rated_moderate_or_high(trials, level, unknown):
    first = ComparisonFacts(*[*COMPARISONS[0].__dict__.values()][:-1], level)
    text = plain.key_messages(RESPONSE, trials, HARMS, CERTAINTY, comparisons=(first,)).text
    assert ("if ketamine works better than a dummy treatment" in text) is unknown


def test_the_comparison_certainty_says_each_time_once_and_the_least_sure_as_the_rest():
    """Outcomes rated differently per time (as more trials make likely) do not lengthen the text by a
    clause each."""
    certainty = tuple(CertaintyFacts(plain.OUTCOME_WORDS[key], level, ("imprecision",)) for key, level in (
        ("response_rate", "very low"), ("responders_immediate", "low"), ("responders_1_week", "low"),
        ("responders_8_weeks", "very low")))
    text = plain.key_messages(RESPONSE, (TRIAL, DUNN), HARMS, certainty, comparisons=COMPARISONS).text
    assert ("We are not sure about how ketamine compares with a dummy treatment in the first 4 hours and after 1 "
            "to 7 days. We are very uncertain about the other results. The studies were few and small.") in text


def test_mixed_comparison_treatments_are_named_together():
    painkiller = TrialFacts("Eve 2020", "other_analgesic", "morphine", (ArmsAt(1.0, 5, 10, 4, 10),))
    text = plain.key_messages(RESPONSE, (TRIAL, painkiller), HARMS, CERTAINTY, comparisons=COMPARISONS[:1]).text
    assert ("Only 2 studies also gave a dummy treatment or another painkiller (midazolam, a drug that makes people "
            "calm and sleepy, in 1 study), to see how much was due to ketamine. In them, about 6 in 10 people who "
            "had ketamine and about 1 in 10 who had the other treatment had") in text
    # no sentence that only repeats the kind ("Another painkiller was another painkiller.")
    assert plain.comparison_explained(painkiller) == ""


@pytest.mark.parametrize(("claim", "answer"), [
    (_claim(analysis="controlled_rr", quantity="direction_of_effect", verdict="partly supported", ref="review2024"),
     "In the 2 studies that compared them, about 6 in 10 people who had ketamine and about 1 in 10 who had the "
     "dummy treatment had at least half their pain gone in the first 4 hours (with ketamine it could be between "
     "about 2 and 10 in 10). With so few people, this difference could be chance."),
    (_claim(analysis="controlled_rr", quantity="direction_of_effect", verdict="partly supported", ref="dunn2012"),
     "In that study (Dunn 2012), 9 of 10 people who had ketamine and 1 of 10 who had the dummy treatment had at "
     "least half their pain gone 2 hours after. With so few people, this difference could be chance."),
    (_claim(analysis="controlled_rr", value=0.5, estimate=0.67, ci=(0.4, 0.9), verdict="not supported"),
     "In the 2 studies that compared them, about 7 in 10 people who had ketamine had at least half their pain "
     "gone in the first 4 hours, not 5 in 10. With the dummy treatment it was about 1 in 10."),
    (_claim(analysis="duration", quantity="duration_hours", upper=1344.0, ref="dunn2012"),
     "In that study (Dunn 2012), 1 of 10 people who had ketamine and 0 of 10 who had the dummy treatment still "
     "had at least half their pain gone 3 days after. So the benefit was gone by then."),
    (_claim(analysis="duration", quantity="duration_hours", upper=48.0, verdict="partly supported"),
     "In Cole 2010, 3 of 14 people who had ketamine and 1 of 14 who had the dummy treatment still had at least "
     "half their pain gone 1 week after. After 8 weeks it was 1 of 14 in both groups. In Dunn 2012, 1 of 10 "
     "people who had ketamine and 0 of 10 who had the dummy treatment still had at least half their pain gone "
     "3 days after. Some benefit may have lasted longer, but with so few people this could be chance."),
])
def test_article_answers_with_two_trials_word_for_word(claim, answer):
    """A claim naming a trial is answered with that trial; one naming none, with all of them (as the
    claims check weighs it: together, or the duration rule trial by trial)."""
    assert plain.article_answer(claim, RESPONSE, (TRIAL, DUNN), COMPARISONS) == answer


@pytest.mark.parametrize(("claim", "answer"), [
    (_claim(value=0.5),
     "In 3 studies, about 5 in 10 people had at least half their pain gone after ketamine "
     "(it could be between about 3 and 7 in 10). That fits the article's number."),
    (_claim(lower=0.5, verdict="partly supported"),
     "In 3 studies, about 5 in 10 people had at least half their pain gone after ketamine "
     "(it could be between about 3 and 7 in 10). So the article may be right, but fewer could also be true."),
    (_claim(analysis="controlled_rr", value=1 / 3, estimate=0.5, ci=(0.23, 0.77), verdict="not supported"),
     "In that study (Cole 2010), 7 of 14 people who had ketamine had at least half their pain gone 1 hour after: "
     "about 5 in 10, not 3 in 10. With the dummy treatment it was 2 of 14."),
    (_claim(analysis="controlled_rr", quantity="direction_of_effect", verdict="partly supported"),
     "In the one study that compared them, 7 of 14 people who had ketamine and 2 of 14 who had the dummy "
     "treatment had at least half their pain gone 1 hour after. With so few people, this difference "
     "could be chance."),
    (_claim(analysis="duration", quantity="duration_hours", upper=2.0, verdict="partly supported"),
     "In the one study with a dummy treatment, 3 of 14 people who had ketamine and 1 of 14 who had the "
     "dummy treatment still had at least half their pain gone 1 week after. After 8 weeks it was 1 of 14 in "
     "both groups. Some benefit may have lasted longer, but with so few people this could be chance."),
    (_claim(analysis="duration", quantity="duration_hours", upper=1344.0),
     "In the one study with a dummy treatment, 1 of 14 people who had ketamine and 1 of 14 who had the "
     "dummy treatment still had at least half their pain gone 8 weeks after. So the benefit was gone by then."),
    (_claim(analysis="single_study_check", quantity="patient_count", estimate=20.0, ci=(NAN, NAN),
            ref="bell2005"),
     "The study gave ketamine to 20 people, as the article says. Of them, 9 had at least half their pain "
     "gone after it."),
    (_claim(analysis="single_study_check", quantity="patient_count", estimate=20.0, ci=(NAN, NAN),
            ref="nobody2000", verdict="not supported"),
     "The study gave ketamine to 20 people."),  # no pooled study of that name: no counts made up
    (_claim(analysis="not_testable", verdict="not testable"),
     "The studies we found do not measure this, so they cannot tell."),
])
def test_article_answers_word_for_word(claim, answer):
    assert plain.article_answer(claim, RESPONSE, (TRIAL,)) == answer


def test_a_claim_without_plain_wording_is_refused_with_what_to_do():
    claim = _claim(analysis="study_characteristics", quantity="study_characteristics")
    with pytest.raises(AnalysisError, match=r"claim C1: no plain wording for analysis 'study_characteristics'"
                                            r".*data/references.csv \(column key_claims\)"):
        plain.article_answer(claim, RESPONSE, (TRIAL,))


@pytest.mark.parametrize("trials, comparisons", [((TRIAL,), ()), ((TRIAL, DUNN), COMPARISONS)])
def test_a_claimed_share_without_a_number_is_answered_with_the_studies_share(trials, comparisons):
    """A controlled trials' share claimed in words only ("many respond"): no number to set against
    (it stopped the index with a ValueError)."""
    claim = _claim(analysis="controlled_rr", verdict="compatible", estimate=0.5, value=NAN)
    answer = plain.article_answer(claim, RESPONSE, trials, comparisons)
    assert "about 5 in 10" in answer and "had ketamine had at least half their pain gone" in answer
    assert "not " not in answer and "as the article says" not in answer


def test_article_blocks_quote_the_article_escaped_with_a_mark_and_a_link():
    article = ArticleFacts("Ketamine <b>works</b>", "A site", "", (
        _claim(value=0.5, quote='It helps <script>alert(1)</script> "half"'),))
    page = plain.article_answers((article,), RESPONSE, (TRIAL,))._repr_html_()
    assert "<h3>Ketamine &lt;b&gt;works&lt;/b&gt;</h3>" in page
    assert '<p class="kfm-meta">A site, date not shown</p>' in page
    assert "“It helps &lt;script&gt;alert(1)&lt;/script&gt; &quot;half&quot;”" in page
    assert '<strong class="kfm-verdict">✔ Backed by the studies.</strong>' in page
    assert f'<a href="{plain.CLAIMS_PAGE}">' in page
    assert "<script" not in page


def test_every_verdict_has_a_mark_in_words():
    from analysis.review.claim_rules import VERDICTS

    assert set(plain.VERDICT_MARKS) == set(VERDICTS)


def test_banned_words_are_found_as_words_only():
    assert plain.banned_words_in("The 95% CI and the posterior median; tau2 and a GLMM") == [
        "posterior", "GLMM", "CI"]
    assert plain.banned_words_in("A civic taupe: the Bayesians' credibility") == []
    assert plain.banned_words_in("random-effects, Random effects, inverse-variance") == [
        "random-effects", "random effects", "inverse-variance"]


def test_readability_check_can_fail():
    technical = ("The between-study standard deviation on the logit scale had a posterior median of 0.47, "
                 "with a credible interval whose bounds were estimated by numerical integration.")
    scores = readability(technical)
    assert scores.flesch_kincaid_grade > MAX_GRADE and scores.dale_chall > MAX_DALE_CHALL


def test_made_up_words_are_plain_and_readable():
    texts = [plain.key_messages(RESPONSE, (TRIAL,), HARMS, CERTAINTY, ongoing=2).text,
             plain.article_answers((ArticleFacts("T", "S", "", (_claim(value=0.5),)),),
                                   RESPONSE, (TRIAL,)).text]
    for text in texts:
        assert plain.banned_words_in(text) == []
        scores = readability(text)
        assert scores.flesch_kincaid_grade <= MAX_GRADE and scores.dale_chall <= MAX_DALE_CHALL, scores


# ----------------------------------------------------------------------------- real data

def _plain_layer(folder):
    """The plain layer of the data folder ``folder``, built as the summary notebook builds it, with
    the facts it was written from."""
    from analysis.data import load_claims, load_references, load_studies
    from analysis.review.claims import check_claims
    from analysis.review.evidence_base import load_evidence_base
    from analysis.review.findings import summary_of_findings
    from analysis.review.grade import load_grade_overrides
    from analysis.review.plan import AnalysisPlan

    plan, studies, evidence = AnalysisPlan(), load_studies(folder / "studies.csv"), load_evidence_base(folder)
    findings = summary_of_findings(plan, evidence.included(studies), load_grade_overrides(folder / "grade_overrides.csv"))
    response = plain.response_facts(plan.response_rate(studies), plan.response_rate_rows(studies))
    trials = plain.trial_facts(plan.duration(studies), studies)
    comparisons = plain.comparison_facts(findings, plan, evidence.included(studies))
    harms, ongoing = plain.harms_facts(findings, evidence.included(studies)), evidence.counts().ongoing_studies
    certainty = plain.certainty_facts(findings)
    messages = plain.key_messages(response, trials, harms, certainty, ongoing=ongoing, comparisons=comparisons)
    claims = load_claims(folder / "claims.csv")
    articles = plain.article_facts(claims, check_claims(claims, evidence.in_review(studies), plan),
                                   load_references(folder / "references.csv"))
    return {"messages": messages, "answers": plain.article_answers(articles, response, trials, comparisons),
            "trials": trials, "claims": claims, "plan": plan, "studies": studies, "response": response,
            "comparisons": comparisons, "findings": findings, "harms": harms, "ongoing": ongoing,
            "certainty": certainty}


@pytest.fixture(scope="module")
def real():
    """The plain layer of the data version of tests/frozen_data.py (its trial and counts are stated
    below word for word)."""
    return _plain_layer(FROZEN)


def test_real_key_messages_are_150_to_250_plain_readable_words(real):
    messages = real["messages"]
    assert 150 <= messages.words <= 250, messages.words
    assert plain.banned_words_in(messages.text) == []
    scores = readability(messages.text)
    assert scores.flesch_kincaid_grade <= MAX_GRADE, scores
    assert scores.dale_chall <= MAX_DALE_CHALL, scores


def test_real_article_answers_are_plain_and_readable(real):
    answers = real["answers"]
    assert len(answers.articles) == 5  # one block per popular article of data/references.csv
    assert plain.banned_words_in(answers.text) == []
    scores = readability(answers.text)
    assert scores.flesch_kincaid_grade <= MAX_GRADE, scores
    assert scores.dale_chall <= MAX_DALE_CHALL, scores


def test_real_trial_is_counted_as_the_data_give_it(real):
    # data/studies.csv, rows noppers2011_responders_15min, _180min, _week1, _week8 (Noppers 2011
    # abstract: responders 8 vs 3 at 15 min, 6 vs 2 at t=180 min, 2 vs 0 at week 1, 2 vs 2 at week 8)
    (trial,) = real["trials"]
    assert trial.label == "Noppers 2011" and trial.control == "active_placebo"
    assert [(a.ketamine_events, a.ketamine_n, a.control_events, a.control_n) for a in trial.times] == [
        (8, 12, 3, 12), (6, 12, 2, 12), (2, 12, 0, 12), (2, 12, 2, 12)]
    assert "8 of 12 people who had ketamine and 3 of 12 who had the dummy treatment" in real["messages"].text


def test_a_key_claim_of_another_article_is_an_error_naming_file_row_column_value(real):
    from analysis.data import load_references
    from analysis.review.claims import check_claims

    references = load_references().copy()
    row = references["ref_id"] == "seed002_painnewsnetwork"
    references.loc[row, "key_claims"] = "C06"
    check = check_claims(real["claims"], real["studies"], real["plan"])
    with pytest.raises(AnalysisError, match=r"data/references.csv: row 'seed002_painnewsnetwork': column "
                                            r"'key_claims': value 'C06': not a claim of 002_d8ab"):
        plain.article_facts(real["claims"], check, references)
    assert isinstance(references, pd.DataFrame)


# ----------------------------------------------------------------------------- more trials

#: Responders (ketamine, control; of 20 each) of made-up trials per time of the template: one where the
#: dummy treatment does better, one without a difference, beside tests/synthetic_trial.py's own.
DUMMY_BETTER = {"15min": ("6", "9"), "180min": ("5", "7"), "week1": ("2", "3"), "week8": ("1", "2")}
NO_DIFFERENCE = {"15min": ("7", "7"), "180min": ("5", "5"), "week1": ("2", "2"), "week8": ("1", "1")}


def plain_layer_with(more: int, tmp_path_factory) -> dict:
    """The plain layer of the frozen data with ``more`` synthetic trials: none, one (the README's path),
    or three that disagree."""
    folder = tmp_path_factory.mktemp("plain") / "data"
    shutil.copytree(FROZEN, folder)
    if more:
        add_synthetic_trial(folder)
    if more == 3:
        add_synthetic_trial(folder, "synthetic2031", "Synthetic 2031", events=DUMMY_BETTER)
        add_synthetic_trial(folder, "synthetic2032", "Synthetic 2032", events=NO_DIFFERENCE)
    layer = _plain_layer(folder)
    assert len(layer["trials"]) == 1 + more
    return layer


@pytest.fixture(scope="module", params=[1, 3], ids=["one more trial", "three more trials"])
def more_trials(request, tmp_path_factory):
    """The frozen data with one synthetic trial (the README's path), or three that disagree."""
    return plain_layer_with(request.param, tmp_path_factory)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _numbers_the_facts_give(response, trials, harms, certainty, comparisons, ongoing) -> set[int]:
    """Every number the key messages of two or more trials may print, from the facts: counts of
    studies (all, by kind of comparison) and people, shares as about N in 10 (1 and 9 of "fewer than 1
    in 10" and "more than 9 in 10" at the ends), the protocol's times in words."""
    numbers = {10, len(response.studies), response.people, len(trials), harms.counted, harms.described, ongoing,
               *(plain.in_ten(p) for p in (response.estimate, response.low, response.high))}
    numbers.update(_numbers(plain.pain_gone(response.threshold_percent)))
    numbers.update(n for c in certainty for n in _numbers(c.outcome))
    numbers.update(pd.Series([plain.comparison_explained(t) for t in trials]).value_counts())
    for c in comparisons:
        shares = [c.control_risk, *((c.ketamine_events / c.ketamine_n,) if math.isnan(c.ketamine_risk) else
                                    (c.ketamine_risk, c.ketamine_low, c.ketamine_high))]
        numbers.update(_numbers(" ".join(plain.share_words(p) for p in shares)))
        numbers.update([c.studies, *_numbers(plain.TIME_WORDS[c.window])])
    return numbers


def _check_summed_up(messages, response, trials, harms, certainty, comparisons, ongoing):
    text = messages.text
    assert 150 <= messages.words <= 250, messages.words
    assert plain.banned_words_in(text) == []
    scores = readability(text)
    assert scores.flesch_kincaid_grade <= MAX_GRADE and scores.dale_chall <= MAX_DALE_CHALL, scores
    assert set(_numbers(text)) <= _numbers_the_facts_give(response, trials, harms, certainty, comparisons,
                                                          ongoing), text
    # each time says the shares its facts give, in order
    gone, other = plain.pain_gone(response.threshold_percent), plain.other_name(trials)
    first, *rest = comparisons
    shares = [(plain.share_words(c.ketamine_events / c.ketamine_n if math.isnan(c.ketamine_risk) else c.ketamine_risk),
               plain.share_words(c.control_risk)) for c in comparisons]
    assert (f"In them, {shares[0][0]} people who had ketamine and {shares[0][1]} who had {other} had {gone} "
            f"{plain.TIME_WORDS[first.window]}") in text
    for c, (ketamine, control) in zip(rest, shares[1:]):
        said = f"{ketamine} in both groups" if ketamine == control else f"{ketamine} and {control}"
        assert re.search(rf"{plain.TIME_WORDS[c.window]}( \(\d+ stud(y|ies)\))?( it was|,) {said}[;.]", text,
                         re.IGNORECASE), (c, text)
    # one paragraph for the trials, whatever their number; no trial named
    assert not any(t.label in text for t in trials)


def test_key_messages_with_more_trials_stay_short_plain_and_from_the_facts(more_trials):
    layer = more_trials
    _check_summed_up(layer["messages"], layer["response"], layer["trials"], layer["harms"], layer["certainty"],
                     layer["comparisons"], layer["ongoing"])


def test_the_trials_summed_up_are_the_summary_of_findings(more_trials):
    """The comparisons are the summary of findings' rows (per 1000 there) and the counts of each trial's
    earliest time in each window, summed."""
    from analysis.review.findings import CONTROLLED_OUTCOMES, PER
    from analysis.review.protocol import WINDOW

    rows = {row.key: row for row in more_trials["findings"]}
    keys = {window: key for key, _, window, _ in CONTROLLED_OUTCOMES}
    assert [c.window for c in more_trials["comparisons"]] == ["during_or_immediate", "short_term", "long_term"]
    for c in more_trials["comparisons"]:
        row = rows[keys[c.window]]
        assert (c.studies, c.certainty) == (row.studies, row.certainty)
        assert [PER * x for x in (c.control_risk, c.ketamine_risk, c.ketamine_low, c.ketamine_high)] == pytest.approx(
            [row.control_risk, row.ketamine_risk, row.ketamine_lb, row.ketamine_ub], nan_ok=True)
        low, high = WINDOW[c.window].hours
        earliest = [next(a for a in t.times if low <= a.hours <= high) for t in more_trials["trials"]]
        assert (c.ketamine_events, c.ketamine_n, c.control_events, c.control_n) == tuple(
            sum(getattr(a, f) for a in earliest) for f in ("ketamine_events", "ketamine_n", "control_events", "control_n"))
        assert c.control_risk == c.control_events / c.control_n


def test_article_answers_with_more_trials_name_the_trial_the_claim_names(more_trials):
    answers = more_trials["answers"]
    assert "In the one study" not in answers.text  # there are several now
    assert "In that study (Noppers 2011), 8 of 12 people who had ketamine" in answers.text
    assert plain.banned_words_in(answers.text) == []
    scores = readability(answers.text)
    assert scores.flesch_kincaid_grade <= MAX_GRADE and scores.dale_chall <= MAX_DALE_CHALL, scores


def _made_up_trial(number: int, control: str, detail: str, counts) -> TrialFacts:
    return TrialFacts(f"Trial {number}", control, detail,
                      tuple(ArmsAt(hours, *arms) for hours, arms in zip((1.0, 72.0, 1344.0), counts)))


@pytest.mark.parametrize("trials", [2, 5])
def test_made_up_trials_are_summed_up_short_plain_and_from_the_facts(trials):
    """Made-up trials of every kind of comparison, some for ketamine, some against, some without a
    later time; comparisons as the summary of findings would give them, rated differently per time."""
    made_up = [_made_up_trial(1, "active_placebo", "midazolam", ((9, 15, 3, 15), (4, 15, 1, 15), (2, 15, 1, 15))),
               _made_up_trial(2, "saline_placebo", "saline", ((12, 30, 14, 30), (6, 30, 7, 30), (3, 30, 4, 30))),
               _made_up_trial(3, "other_analgesic", "morphine", ((5, 10, 4, 10), (2, 10, 0, 10))),
               _made_up_trial(4, "active_placebo", "midazolam", ((20, 40, 8, 40),)),
               _made_up_trial(5, "saline_placebo", "", ((7, 25, 7, 25), (5, 25, 2, 25), (1, 25, 0, 25)))][:trials]
    response = ResponseFacts(0.55, 0.4, 0.7, tuple(StudyCount(t.label, 2020, t.times[0].ketamine_events,
                                                              t.times[0].ketamine_n, True) for t in made_up)
                             + (StudyCount("Open 2019", 2019, 9, 12, False),), 50.0, 1)
    comparisons = tuple(ComparisonFacts(window, studies, control, ketamine, low, high, *counts, level)
                        for window, studies, control, ketamine, low, high, counts, level in (
                            ("during_or_immediate", trials, 0.26, 0.51, 0.3, 0.97, (53, 120, 36, 120), "low"),
                            ("short_term", min(trials, 4), 0.0, NAN, NAN, NAN, (17, 80, 0, 80), "very low"),
                            ("long_term", min(trials, 3), 0.1, 0.12, 0.02, 0.5, (6, 65, 5, 65), "very low"))
                        [:1 + (trials > 2) * 2])
    certainty = tuple(CertaintyFacts(plain.OUTCOME_WORDS[key], level, ("imprecision", "risk_of_bias"))
                      for key, level in (("response_rate", "very low"), ("responders_immediate", "low"),
                                         ("responders_1_week", "very low"), ("responders_8_weeks", "very low")))
    harms = HarmsFacts(2, 0, 1)
    messages = plain.key_messages(response, made_up, harms, certainty, ongoing=4, comparisons=comparisons)
    _check_summed_up(messages, response, made_up, harms, certainty, comparisons, 4)
    assert "Only" in messages.text and "We do not know if ketamine works better" in messages.text
