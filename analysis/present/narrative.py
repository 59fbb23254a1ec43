"""Plain-language summaries written from result objects.

Every sentence here is built from a pooled result (any
:class:`~analysis.engine.contract.PooledResult`) or a
:class:`~analysis.review.duration.DurationResult` and, for the caveats that need
study characteristics, the rows of ``data/studies.csv`` that were pooled. No
statistic is recomputed: the table, the figure and the sentence come from the
same object, so they cannot disagree. Results are read only through the
result contract (:mod:`analysis.engine.contract`); numbers are written by
:mod:`analysis.engine.formatting`, the one rule for text, tables and figures. I² is
read with a plain-language band (:data:`I2_BANDS`).

Sentences are Markdown (bold lead-ins, bullet lists); text from the data in them (study
labels, notes) is escaped with :func:`analysis.present.safe_html.escape_markdown`, so that it reads
as written and never becomes markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.review.duration import DurationResult
from analysis.review.evidence_base import EvidenceBase
from analysis.engine.contract import PooledResult
from analysis.engine.formatting import format_effect, format_p, format_percent, format_tau2
from analysis.review.protocol import (CALIBRATION, MIN_STUDIES_FOR_SMALL_STUDY_TESTS, UNCONTROLLED_DESIGNS,
                                      UNSTATED_TIME_WINDOW, WINDOW)
from analysis.review.small_study_effects import SmallStudyTests
from analysis.present.safe_html import escape_markdown

#: Below this many studies the caveats say the heterogeneity estimates are imprecise.
FEW_STUDIES = 5


#: Plain-language bands for I² (percent). The Cochrane Handbook (section 10.10.2) gives
#: overlapping ranges (0-40 might not be important, 30-60 moderate, 50-90 substantial,
#: 75-100 considerable); these are its ranges cut where the next one is fully in force.
I2_BANDS = (
    (40.0, "might not be important"),
    (60.0, "may be moderate"),
    (75.0, "may be substantial"),
    (math.inf, "is considerable"),
)

#: GLMM and inverse-variance pooled proportions further apart than this (percentage
#: points) are called different in the caveats.
MODEL_DIFFERENCE_POINTS = 5.0

#: Which direction of the effect is good for the patient.
BENEFIT_DIRECTIONS = ("higher", "lower")


#: Short names of the proportion models' analysis scales (others: the measure's analysis label).
_ANALYSIS_SCALE_WORDS = {
    "PLO": "logit scale", "PFT": "double-arcsine scale", "PAS": "arcsine scale", "PR": "proportion scale",
}


# ----------------------------------------------------------------- helpers


def _level(result) -> str:
    return f"{100 * result.confidence_level:g}%"


def _names(labels: Sequence[str]) -> str:
    labels = [escape_markdown(label) for label in labels]
    if len(labels) <= 2:
        return " and ".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _studies(k: int) -> str:
    return f"{k} stud{'y' if k == 1 else 'ies'}"


def i2_band(i2: float) -> str:
    """Plain-language reading of I² (percent), from :data:`I2_BANDS`.

    >>> i2_band(30.7), i2_band(80)
    ('might not be important', 'is considerable')
    """
    for upper, words in I2_BANDS:
        if i2 < upper:
            return words
    return I2_BANDS[-1][1]


def _check_result(result) -> None:
    if not isinstance(result, PooledResult):
        raise AnalysisError(
            "result must be a pooled result (meta_analysis, pool_proportions, mantel_haenszel, "
            f"peto; see analysis.engine.contract), not {type(result).__name__}."
        )


def _scale_words(result) -> str:
    """The analysis scale in words, e.g. "logit scale", "log risk ratio scale"."""
    if result.measure in _ANALYSIS_SCALE_WORDS:
        return _ANALYSIS_SCALE_WORDS[result.measure]
    scale = result.measure_scale
    return f"{scale.analysis_label.lower()} scale" if scale is not None else "analysis scale"


# -------------------------------------------------------------- sentences


def describe_estimate(result, *, outcome: str = "response rate", benefit: str = "higher") -> str:
    """The pooled estimate in words and numbers, on the natural scale.

    Parameters
    ----------
    result : MetaAnalysisResult, ProportionResult or FixedEffectResult
    outcome : str
        What a pooled proportion is called (``ProportionResult`` only).
    benefit : {"higher", "lower"}
        Comparative results: whether a higher value of the measure favours ketamine
        (responders: higher; pain scores: lower). Group 1 is ketamine, as in
        :func:`analysis.engine.effect_sizes.effect_sizes`.

    Returns
    -------
    str
        One sentence.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> res = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])
    >>> describe_estimate(res)
    'The pooled response rate was 57% (95% CI 44% to 69%; 5 studies, 103 patients; binomial-normal random-effects model (GLMM)).'
    """
    _check_result(result)
    check_option("benefit", benefit, BENEFIT_DIRECTIONS)
    level = _level(result)
    natural = result.natural()
    if natural.is_proportion and result.k == 1:
        return (f"The {outcome} in the single sample ({escape_markdown(result.labels[0])}) was "
                f"{natural.format(natural.estimate)} ({level} {result.interval_name} {natural.interval_text()}; "
                f"{result.participants} patients): nothing is pooled.")
    if natural.is_proportion:
        return (
            f"The pooled {outcome} was {natural.format(natural.estimate)} ({level} {result.interval_name} "
            f"{natural.interval_text()}; {_studies(result.k)}, {result.participants} patients; "
            f"{result.model_description})."
        )
    name = natural.label.lower() if natural.label != "Estimate" else "pooled estimate"
    name = name.replace("(hedges' g)", "(Hedges' g)")
    if result.k == 1:
        opening = f"The {name} from the single study ({escape_markdown(result.labels[0])}) was"
        model = ""
    else:
        opening = f"The pooled {name} was"
        model = f"; {result.model_description}"
    numbers = (
        f"{format_effect(natural.estimate)} ({level} {result.interval_name} {natural.interval_text()}; "
        f"{_studies(result.k)}{model})"
    )
    if natural.null_value is None:
        return f"{opening} {numbers}."
    null = natural.null_value
    null_text = f"{null:g} (no difference)"
    if natural.estimate == null:
        return f"{opening} {numbers}: no difference between ketamine and control."
    favours_ketamine = (natural.estimate > null) == (benefit == "higher")
    side = "ketamine" if favours_ketamine else "the control"
    interval = "credible interval" if result.is_bayesian else "confidence interval"
    if natural.includes_null:
        return f"{opening} {numbers}, favouring {side}, but the {interval} includes {null_text}."
    return f"{opening} {numbers}, favouring {side}; the {interval} excludes {null_text}."


def describe_heterogeneity(result) -> str:
    """tau², I² with its plain-language band, and the heterogeneity test.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> res = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])
    >>> describe_heterogeneity(res)  # doctest: +NORMALIZE_WHITESPACE
    'Between-study variance tau² = 0.099 (logit scale). I² = 31%: the share of the variation in study results that reflects real differences between studies rather than chance, which might not be important. Likelihood-ratio test of heterogeneity: LRT = 6.80 on 4 degrees of freedom, p = 0.15.'
    """
    _check_result(result)
    if result.is_bayesian:
        return (f"Between-study standard deviation tau ({_scale_words(result)}): posterior median "
                f"{format_tau2(result.tau_median)} ({_level(result)} CrI {format_tau2(result.tau_ci_lb)} to "
                f"{format_tau2(result.tau_ci_ub)}), with a {result.tau_prior.label} prior"
                + ("; with one study it is informed by the prior alone." if result.k == 1 else "."))
    if result.k == 1:
        return "With one study, heterogeneity between studies cannot be assessed."
    parts = []
    if result.random_effects:
        if result.tau2_at_boundary:
            parts.append(f"Between-study variance tau² = 0 ({_scale_words(result)}): estimated on the "
                         "boundary, so the model finds no variation between studies beyond chance.")
        else:
            parts.append(f"Between-study variance tau² = {format_tau2(result.tau2)} ({_scale_words(result)}).")
    if not math.isnan(result.i2):
        parts.append(
            f"I² = {result.i2:.0f}%: the share of the variation in study results that reflects "
            f"real differences between studies rather than chance, which {i2_band(result.i2)}."
        )
    test = result.heterogeneity_test
    if test is not None:
        lead = "Likelihood-ratio test of heterogeneity: LRT" if test.symbol == "LRT" else "Cochran's Q"
        parts.append(f"{lead} = {test.statistic:.2f} on {test.df:g} degrees of freedom, {format_p(test.pval)}.")
    return " ".join(parts)


def describe_prediction_interval(result, *, outcome: str = "response rate", benefit: str = "higher") -> str:
    """The prediction interval and what it means for a new study.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> res = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])
    >>> describe_prediction_interval(res)
    'The 95% prediction interval, 37% to 75%, is the range in which the response rate of a new study like these would be expected to lie.'
    """
    _check_result(result)
    check_option("benefit", benefit, BENEFIT_DIRECTIONS)
    level = _level(result)
    if result.k == 1:
        return "With one study there is no prediction interval for a new study."
    if not result.random_effects:
        return (f"The {result.model_description} assumes one common effect, so it gives no prediction "
                "interval; see the random-effects model for the spread expected in a new study.")
    if not result.has_prediction_interval:
        return "No prediction interval is available for this model (see its notes)."
    natural = result.natural()
    if natural.is_proportion:
        return (
            f"The {level} {result.prediction_interval_name}, {natural.interval_text(prediction=True)}, is the range in "
            f"which the {outcome} of a new study like these would be expected to lie."
        )
    name = natural.label.lower() if natural.label != "Estimate" else "effect"
    sentence = (
        f"The {level} {result.prediction_interval_name}, {natural.interval_text(prediction=True)}, is the range in "
        f"which the {name} of a new study like these would be expected to lie."
    )
    if natural.null_value is None:
        return sentence
    null = natural.null_value
    if natural.pi_lb <= null <= natural.pi_ub:
        return sentence + (f" It includes {null:g} (no difference): a new study could find no effect, "
                           "or an effect in the other direction.")
    favours = "ketamine" if (natural.estimate > null) == (benefit == "higher") else "the control"
    return sentence + f" It excludes {null:g} (no difference): a new study would be expected to favour {favours}."


def describe_probability(result, *, outcome: str = "response rate", threshold: float = 0.5) -> str:
    """What a posterior says directly: the probability of benefit, or of a rate above ``threshold``.

    Empty for a frequentist result (a confidence interval gives no such probability).

    Examples
    --------
    >>> from analysis import bayesian_meta_analysis
    >>> describe_probability(bayesian_meta_analysis([0.98], [0.29], measure="RR", tau_prior_scale=1.0))
    'The posterior probability that ketamine does better than the control (risk ratio above 1) is 85%.'
    """
    _check_result(result)
    if not result.is_bayesian:
        return ""
    natural = result.natural()
    if natural.is_proportion:
        return (f"The posterior probability that the {outcome} exceeds {format_percent(threshold)} is "
                f"{format_percent(result.prob_above(threshold))}.")
    null = natural.null_value if natural.null_value is not None else 0.0
    return (f"The posterior probability that ketamine does better than the control ({natural.label.lower()} above "
            f"{null:g}) is {format_percent(result.prob_above(0.0))}.")


def describe_models(primary, sensitivity: Sequence = ()) -> str:
    """Which model is the primary analysis, and why, and which are sensitivity analyses.

    Parameters
    ----------
    primary : PooledResult
        The plan's model.
    sensitivity : sequence of PooledResult
        The other models fitted to the same studies (the primary's own model is skipped).

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> events, n = [8, 17, 8], [12, 29, 11]
    >>> describe_models(pool_proportions(events, n, method="BAYES", tau_prior_scale=1.0),
    ...                 [pool_proportions(events, n), pool_proportions(events, n, method="PLO")])
    'Primary analysis: the Bayesian binomial-normal random-effects model (half-normal 1 prior on tau), the headline model for few studies of the protocol amendment (data/README.md), chosen because its intervals came closest to covering the truth 95% of the time in simulations shaped like this evidence. Sensitivity analyses: the binomial-normal random-effects model (GLMM); the random-effects model on the logit scale (REML).'
    """
    _check_result(primary)
    text = f"Primary analysis: the {primary.model_description}"
    if _calibration(primary) is not None:
        text += (", the headline model for few studies of the protocol amendment (data/README.md), chosen "
                 "because its intervals came closest to covering the truth 95% of the time in simulations shaped "
                 "like this evidence")
    others = list(dict.fromkeys(fit.model_description for fit in sensitivity
                                if fit.model_description != primary.model_description))
    if not others:
        return text + "."
    return text + ". Sensitivity analyses: " + "; ".join(f"the {name}" for name in others) + "."


# ----------------------------------------------------------------- caveats


#: Coverage of a 95 % interval at or above which the report calls it too wide, not calibrated
#: (the README's simulations: 400 runs per setting, Monte Carlo SE 1.1 points, so 98 % or more
#: is clearly above 95 %).
OVER_COVERAGE = 0.98


def _calibration(result):
    """The amendment's calibration record of ``result``'s model, or None when there is none."""
    if not result.is_bayesian or result.confidence_level != 0.95:
        return None
    calibration = CALIBRATION.get(result.measure)
    if calibration is None or (result.tau_prior.name, result.tau_prior.scale) != calibration.prior:
        return None
    return calibration


def describe_calibration(result) -> str:
    """How well this model's intervals were calibrated in simulations shaped like this evidence.

    Empty unless ``result`` is a headline Bayesian model whose calibration the protocol
    amendment records (:data:`analysis.review.protocol.CALIBRATION`).

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> describe_calibration(pool_proportions([8, 17], [12, 29], method="BAYES", tau_prior_scale=1.0))
    "Coverage: in simulations shaped like this evidence (README, Calibration), this model's 95% credible intervals covered the truth in at least 91% of runs and its posterior predictive intervals in at least 91%: they fall short of 95% when samples differ widely (a between-study SD of 1 on the logit scale); no model tested had a better worst case over the simulations (the half-Cauchy 0.5 prior tied), though in those settings the inverse-variance model with Hartung-Knapp covered 94% to 96% (and fell to 64% with one sample)."
    """
    calibration = _calibration(result)
    if calibration is None:
        return ""
    found = (f"Coverage: in simulations shaped like this evidence (README, Calibration), this model's 95% "
             f"credible intervals covered the truth in at least {format_percent(calibration.interval)} of runs")
    if result.has_prediction_interval:
        found += f" and its posterior predictive intervals in at least {format_percent(calibration.prediction)}"
    if calibration.shortfall:
        found = f"{found}: they fall short of 95% {calibration.shortfall}."
    else:
        found = f"{found}, never less than the 95% asked for."
    if result.k == 1 and calibration.one_study >= OVER_COVERAGE:
        # one study: covering (nearly) every time means too wide, not well calibrated
        every = ("in every run" if calibration.one_study >= 1 else
                 f"in {format_percent(calibration.one_study)} of runs or more")
        found += (f" With one study they covered the truth {every}: wider than 95% needs, because one study "
                  "cannot show how much studies differ, so the width comes mostly from the prior.")
    return found


def _check_data(result, data: pd.DataFrame | None) -> pd.DataFrame | None:
    if data is None:
        return None
    if len(data) != result.k:
        raise AnalysisError(
            f"data has {len(data)} rows but the result pools {result.k} studies; pass the rows "
            "that were pooled, in the order of the result."
        )
    return data.reset_index(drop=True)


def caveats(result, data: pd.DataFrame | None = None, *, small_study=None, compare=None) -> tuple[str, ...]:
    """The caveats that apply to a pooled result, as sentences.

    Parameters
    ----------
    result : MetaAnalysisResult, ProportionResult or FixedEffectResult
    data : pandas.DataFrame, optional
        The rows of ``data/studies.csv`` that were pooled, one per study in the order of
        ``result`` (columns used when present: ``design``, ``control``,
        ``responder_threshold_percent``, ``time_window``, ``es_correction``).
    small_study : EggerTestResult, RankTestResult or TrimFillResult, optional
        A small-study test run on ``result``; its ``low_power`` flag and ``note`` are used.
    compare : ProportionResult, optional
        The same studies pooled with another model (e.g. the logit inverse-variance model
        beside the GLMM).

    Returns
    -------
    tuple of str
        In this order, those that apply: few studies (k = 1, k < :data:`FEW_STUDIES`); tau²
        on the boundary; studies without a control group; different responder thresholds;
        unstated assessment times; small-study tests with little power (k < 10);
        zero-cell corrections; a second model's estimate.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> res = pool_proportions([8, 17], [12, 29])
    >>> for line in caveats(res):
    ...     print(line)
    Only 2 studies: the between-study variance, I² and the prediction interval are estimated imprecisely.
    tau² is estimated at 0 (on the boundary): this does not show that the studies agree, only that 2 studies cannot tell their differences from chance.
    With 2 studies, small-study (publication bias) tests have little power and were not run; the protocol runs them only with at least 10 studies.
    """
    _check_result(result)
    rows = _check_data(result, data)
    labels = list(result.labels)
    out = [*_few_studies_caveat(result), *_boundary_caveats(result)]
    if rows is not None:
        out += [*_uncontrolled_caveat(rows, labels), *_threshold_caveat(rows, labels),
                *_unstated_time_caveat(rows, labels)]
    out += _small_study_caveat(result.k, small_study)
    out += _zero_cell_caveat(result, labels)
    if rows is not None and "es_correction" in rows.columns:
        corrected = ~rows["es_correction"].astype(str).isin(["none", "", "nan"])
        out += [f"{escape_markdown(labels[i])}: {escape_markdown(rows['es_correction'].iloc[i])}."
                for i in np.flatnonzero(corrected.to_numpy())]
    if compare is not None:
        out.append(_model_comparison(result, compare))
    return tuple(out)


def _few_studies_caveat(result) -> list[str]:
    """One study, or fewer than :data:`FEW_STUDIES`."""
    k = result.k
    if k == 1 and result.is_bayesian:
        return ["Only one study: the posterior rests on it and on the prior for the between-study "
                "spread, so its interval allows for a next study that differs."]
    if k == 1:
        return ["Only one study: the result is that study's own estimate; nothing is pooled."]
    if k < FEW_STUDIES:
        return [f"Only {k} studies: the between-study variance, I² and the prediction interval "
                "are estimated imprecisely."]
    return []


def _boundary_caveats(result) -> list[str]:
    """The interval's measured coverage, and tau² estimated at 0."""
    out = []
    calibration = describe_calibration(result)
    if calibration:
        out.append(calibration)
    if result.tau2_at_boundary:
        out.append(f"tau² is estimated at 0 (on the boundary): this does not show that the studies "
                   f"agree, only that {result.k} studies cannot tell their differences from chance.")
    return out


def _uncontrolled_caveat(rows: pd.DataFrame, labels: list[str]) -> list[str]:
    """Studies without a control group: their rate includes placebo response."""
    if "design" not in rows.columns and "control" not in rows.columns:
        return []
    k = len(labels)
    design = rows["design"].astype(str) if "design" in rows.columns else pd.Series([""] * k)
    control = rows["control"].astype(str) if "control" in rows.columns else pd.Series([""] * k)
    uncontrolled = design.isin(UNCONTROLLED_DESIGNS) | (control == "none")
    m = int(uncontrolled.sum())
    if not m:
        return []
    which = _names([labels[i] for i in np.flatnonzero(uncontrolled.to_numpy())])
    return ["Every ketamine arm's response rate includes placebo response and the natural fluctuation "
            f"of pain; {m} of {k} studies ({which}) have no control group to show how large that part "
            f"is, so the pooled rate cannot be attributed to ketamine alone.{_control_arms_text(rows)}"]


def _threshold_caveat(rows: pd.DataFrame, labels: list[str]) -> list[str]:
    """Responder thresholds that differ between studies (or are not stated)."""
    if "responder_threshold_percent" not in rows.columns:
        return []
    thresholds = pd.to_numeric(rows["responder_threshold_percent"], errors="coerce")
    known = thresholds.dropna()
    missing = thresholds.isna()
    if not (known.nunique() > 1 or (known.size and missing.any())):
        return []
    counts = []
    for value in sorted(known.unique()):
        members = [labels[i] for i in np.flatnonzero((thresholds == value).to_numpy())]
        detail = f" ({_names(members)})" if len(members) < known.size / 2 else ""
        counts.append(f"at least {value:g}% pain reduction in {_studies(len(members))}{detail}")
    if missing.any():
        members = [labels[i] for i in np.flatnonzero(missing.to_numpy())]
        counts.append(f"not stated in {_studies(len(members))} ({_names(members)})")
    return ["Responder thresholds differ: " + "; ".join(counts) + "."]


def _unstated_time_caveat(rows: pd.DataFrame, labels: list[str]) -> list[str]:
    """Studies that do not say when response was assessed, and the one window they count in."""
    if "time_window" not in rows.columns:
        return []
    unstated = rows["time_window"].astype(str) == "not_reported"
    if not unstated.any():
        return []
    members = [labels[i] for i in np.flatnonzero(unstated.to_numpy())]
    one = len(members) == 1
    return [f"{_names(members)} do{'es' if one else ''} not state when "
            "response was assessed after ketamine; the protocol counts "
            f"{'it' if one else 'them'} in the window "
            f"{WINDOW[UNSTATED_TIME_WINDOW].axis_label.replace('≤', 'up to')} and in no other."]


def _small_study_caveat(k: int, small_study) -> list[str]:
    """Small-study tests with little power, or not run (fewer than 10 studies)."""
    if small_study is not None:
        if small_study.low_power:
            return [f"Small-study tests: {small_study.note} (fewer than "
                    f"{MIN_STUDIES_FOR_SMALL_STUDY_TESTS}); funnel-plot asymmetry cannot be judged "
                    "reliably."]
        return []
    if k < MIN_STUDIES_FOR_SMALL_STUDY_TESTS:
        return [f"With {_studies(k)}, small-study (publication bias) tests have little power and were "
                f"not run; the protocol runs them only with at least {MIN_STUDIES_FOR_SMALL_STUDY_TESTS} "
                "studies."]
    return []


def _zero_cell_caveat(result, labels: list[str]) -> list[str]:
    """Pooled proportions with 0 or all events: what the model did with them."""
    corrected = getattr(result, "corrected", None)
    if corrected is None or not np.any(corrected):
        return []
    which = _names([labels[i] for i in np.flatnonzero(result.corrected)])
    if result.method == "GLMM":
        return [f"{which} had 0 or all events: the GLMM uses the counts as they are, but I² uses "
                "logits with 1/2 added to events and non-events."]
    if result.method in ("PLO", "PR"):
        return [f"{which} had 0 or all events: 1/2 was added to events and non-events "
                "(metafor's escalc default)."]
    return []


def _model_comparison(result, compare) -> str:
    """The same studies under another model, and whether the choice of model matters."""
    _check_result(compare)
    ours, theirs = result.natural(), compare.natural()
    if not (ours.is_proportion and theirs.is_proportion):
        raise AnalysisError("compare is for two pooled proportions of the same studies.")
    difference = 100.0 * abs(theirs.estimate - ours.estimate)
    verdict = ("the choice of model matters here" if difference > MODEL_DIFFERENCE_POINTS
               else "the choice of model changes little")
    return (f"The {compare.model_description} gives {theirs.format(theirs.estimate)} ({_level(compare)} CI "
            f"{theirs.interval_text()}) against "
            f"{ours.format(ours.estimate)} from the {result.model_description}: a difference of "
            f"{difference:.0f} percentage point{'s' if round(difference) != 1 else ''}, so {verdict}.")

def summarise(result, data: pd.DataFrame | None = None, *, outcome: str = "response rate",
              benefit: str = "higher", small_study=None, compare=None) -> str:
    """A Markdown summary: estimate, heterogeneity, prediction interval, then the caveats.

    Parameters are those of :func:`describe_estimate` and :func:`caveats`.

    Returns
    -------
    str
        A paragraph, then ``**Caveats**`` and one bullet per caveat (when any apply).
    """
    paragraph = " ".join(part for part in [
        describe_estimate(result, outcome=outcome, benefit=benefit),
        describe_probability(result, outcome=outcome),
        describe_heterogeneity(result),
        describe_prediction_interval(result, outcome=outcome, benefit=benefit),
    ] if part)
    notes = caveats(result, data, small_study=small_study, compare=compare)
    if not notes:
        return paragraph
    return paragraph + "\n\n**Caveats**\n\n" + "\n".join(f"- {line}" for line in notes)


def describe_evidence_base(evidence: EvidenceBase, studies: pd.DataFrame | None = None) -> str:
    """The evidence base and its limits in two sentences, counted from the data.

    The counts are :meth:`analysis.review.evidence_base.EvidenceBase.counts`, the same as the PRISMA
    diagram's and the study tables' (one definition of report and study), and every number
    counts the review's reports; ``studies`` (e.g. the plan's rows, after ``exclude``) adds a
    sentence naming the included reports that the analyses leave out.
    """
    counts = evidence.counts()
    reports = evidence.included().drop_duplicates("study_id")
    abstracts = int(reports["source_access"].isin(["abstract", "review_table", "first_page_only"]).sum())
    left_out = [] if studies is None else sorted(
        set(reports["study_label"]) - set(evidence.included(studies)["study_label"]))
    left_out_text = (f" This build's options leave out {len(left_out)} of these reports from every "
                     f"analysis: {', '.join(left_out)}." if left_out else "")
    return (
        f"The review includes {_studies(counts.studies)} of ketamine for fibromyalgia "
        f"({_plural(counts.reports, 'report', 'reports')}); in {counts.pooled_studies} of them the responders of "
        f"the ketamine arm can be pooled, and {counts.controlled_studies} "
        f"{'counts' if counts.controlled_studies == 1 else 'count'} responders in a control arm too. "
        f"{counts.ongoing_studies} registered trial{'s have' if counts.ongoing_studies != 1 else ' has'} no results "
        f"yet, {_plural(counts.awaiting_reports, 'report awaits', 'reports await')} classification and "
        f"{_plural(counts.excluded_reports, 'report was', 'reports were')} excluded after assessment. "
        f"Limitations: {abstracts} of the {len(reports)} reports of included studies could be read only as an "
        "abstract, a review table or a first page (no full text was accessible), and the search (data/search.md) "
        "covered stored public copies of bibliographic databases, trial registries and web pages, not every database."
        + left_out_text
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def describe_small_study_tests(tests: SmallStudyTests) -> str:
    """Small-study tests in words (:func:`analysis.review.small_study_effects.small_study_tests`):
    their p-values, or why they were not run.

    >>> from analysis import meta_analysis
    >>> from analysis.review.small_study_effects import small_study_tests
    >>> describe_small_study_tests(small_study_tests(meta_analysis([0.1, 0.3, 0.5], [0.02, 0.03, 0.04])))
    'With 3 studies no small-study test was run: the protocol runs them only from 10 studies, because with fewer they cannot tell asymmetry from chance. The funnel plot is shown for inspection only.'
    """
    if not tests.run:
        return (f"With {_studies(tests.k)} no small-study test was run: the protocol runs them only from "
                f"{tests.minimum} studies, because with fewer they cannot tell asymmetry "
                "from chance. The funnel plot is shown for inspection only.")
    return (f"Egger's regression test: {format_p(tests.egger.pval)}; rank correlation test (Begg): "
            f"{format_p(tests.rank.pval)} ({_studies(tests.k)}).")


def describe_claim_counts(counts: pd.Series) -> str:
    """The claims check in one sentence, from ``ClaimsCheck.counts()``.

    >>> describe_claim_counts(pd.Series({"supported": 9, "partly supported": 12, "compatible": 2,
    ...                                  "not supported": 5, "not testable": 15}))
    'Of 43 claims in popular articles, 9 are supported by the evidence, 12 partly supported, 2 compatible with it but not confirmed by it (an interval that holds the claimed value and others too), 5 not supported and 15 not testable with the data.'
    """
    total = int(counts.sum())
    parts = [f"{int(counts.get('supported', 0))} are supported by the evidence",
             f"{int(counts.get('partly supported', 0))} partly supported",
             f"{int(counts.get('compatible', 0))} compatible with it but not confirmed by it (an interval "
             "that holds the claimed value and others too)",
             f"{int(counts.get('not supported', 0))} not supported",
             f"{int(counts.get('not testable', 0))} not testable with the data"]
    return f"Of {total} claim{'s' if total != 1 else ''} in popular articles, {_names(parts)}."


def describe_duration(result: DurationResult) -> str:
    """Responders over time, one Markdown bullet per protocol window.

    Examples
    --------
    >>> from analysis.review.duration import responders_over_time
    >>> data = pd.DataFrame({
    ...     "study_id": ["a", "a", "b"], "study_label": ["A 2011", "A 2011", "B 2000"],
    ...     "timepoint_hours": [0.5, 168, 1.0],
    ...     "time_window": ["during_or_immediate", "short_term", "during_or_immediate"],
    ...     "ketamine_events": [8, 2, 17], "ketamine_n": [12, 12, 29]})
    >>> print(describe_duration(responders_over_time(data)))
    - During or immediately after the infusion (up to 4 h): responders 61% (95% CI 45% to 75%; 2 studies, 41 patients; binomial-normal random-effects model (GLMM)).
    - In the short term (1 to 7 days): one study (A 2011), 2/12 responders = 17% (95% CI 2% to 48%).
    - In the medium term (1 to 4 weeks): no study reports responders.
    - In the long term (8 weeks or more): no study reports responders.
    """
    if not isinstance(result, DurationResult):
        raise AnalysisError(f"result must be a DurationResult (got {type(result).__name__}).")
    level = f"{100 * result.confidence_level:g}%"
    lines = []
    for row in result.pooled.itertuples(index=False):
        head = WINDOW[row.time_window].words
        used = result.studies[result.studies["pooled_in"] == row.time_window]
        if row.k == 0:
            lines.append(f"- {head}: no study reports responders.")
        elif row.k == 1 and row.time_window not in result.fits:
            only = used.iloc[0]
            lines.append(
                f"- {head}: one study ({escape_markdown(only['label'])}), {int(only['events'])}/{int(only['n'])} responders = "
                f"{format_percent(only['proportion'])} ({level} CI {format_percent(only['ci_lb'])} to "
                f"{format_percent(only['ci_ub'])}){_control_arms(used)}."
            )
        elif row.time_window in result.fits:
            fit = result.fits[row.time_window]
            lines.append(
                f"- {head}: responders {format_percent(fit.prop)} ({level} {fit.interval_name} "
                f"{format_percent(fit.prop_ci_lb)} "
                f"to {format_percent(fit.prop_ci_ub)}; {_studies(fit.k)}, {fit.participants} patients; "
                f"{fit.model_description}){_unstated(used)}"
                f"{_observed(used) if len(used) == 1 else _control_arms(used)}."
            )
        else:
            lines.append(f"- {head}: {_studies(int(row.k))}, {escape_markdown(row.note)}.")
    return "\n".join(lines)


def _control_arms_text(rows: pd.DataFrame) -> str:
    """" For comparison, the control arm of Noppers 2011 (active placebo: midazolam ...): 3/12 = 25%."
    for the pooled rows that have a control arm; "" otherwise."""
    if "control_events" not in rows.columns:
        return ""
    controlled = rows[rows["control_events"].notna() & rows["control_n"].notna()]
    if controlled.empty:
        return ""
    arms = []
    for _, row in controlled.iterrows():
        detail = row.get("control_detail")
        what = f" ({escape_markdown(detail)})" if isinstance(detail, str) and detail.strip() else ""
        arms.append(f"{escape_markdown(row['study_label'])}{what}: {int(row['control_events'])}/{int(row['control_n'])} = "
                    f"{format_percent(row['control_events'] / row['control_n'])}")
    return f" For comparison, the control arm{'s' if len(arms) > 1 else ''} among them: {'; '.join(arms)}."


def _unstated(used: pd.DataFrame) -> str:
    """"; Cohen 2006 without a stated time (counted in this window only)" for such pooled rows."""
    unstated = used[used["pooled_in"] != used["time_window"]]
    if unstated.empty:
        return ""
    return (f"; {_names(list(unstated['label']))} without a stated time (counted in this window only, "
            "as the protocol assigns them)")


def _observed(used: pd.DataFrame) -> str:
    """"; observed: ketamine arm 2/12 = 17%, control arm 2/12 = 17%" for a window of one sample
    whose model estimate is shown: the control arm beside the ketamine arm's own count, not
    beside the model's estimate (14% beside 2/12 read as fewer responders with ketamine)."""
    only = used.iloc[0]
    text = f"; observed: ketamine arm {int(only['events'])}/{int(only['n'])} = {format_percent(only['proportion'])}"
    if pd.notna(only["control_events"]) and pd.notna(only["control_n"]):
        text += (f", control arm {int(only['control_events'])}/{int(only['control_n'])} = "
                 f"{format_percent(only['control_events'] / only['control_n'])}")
    return text


def _control_arms(used: pd.DataFrame) -> str:
    """"; control arm 2/12 = 17%" (or each study's) for the rows that have one; "" otherwise."""
    controlled = used[used["control_events"].notna() & used["control_n"].notna()]
    if controlled.empty:
        return ""
    arms = [f"{int(r.control_events)}/{int(r.control_n)} = {format_percent(r.control_events / r.control_n)}"
            for r in controlled.itertuples()]
    if len(used) == 1:
        return f"; in its control arm {arms[0]}"
    return "; control arms: " + ", ".join(f"{escape_markdown(r.label)} {arm}"
                                         for r, arm in zip(controlled.itertuples(), arms))


def describe_crossover_trials(crossover: pd.DataFrame, awaiting: Sequence[str] = ()) -> str:
    """Say which crossover trials can enter a within-patient analysis, and why not.

    ``crossover`` holds the study-table rows of crossover trials. A trial enters the
    controlled comparison when it reports responders in both periods, and the
    within-patient correlation sweep (:func:`analysis.engine.crossover.correlation_sweep`)
    when it reports per-period means with a known kind of spread (SD or SE). ``awaiting``
    names crossover trials awaiting classification: not counted here (as on page 01), but named.

    Examples
    --------
    >>> rows = pd.DataFrame({"study_label": ["A 1995", "B 2000"], "control_events": [None, 3],
    ...                      "ketamine_mean": [None, None], "control_mean": [None, None],
    ...                      "spread_type": [None, None]})
    >>> print(describe_crossover_trials(rows))
    2 included crossover trials (A 1995 and B 2000). Responders in both periods: B 2000. Per-period pain scores with a stated SD or SE: none, so the within-patient correlation sweep cannot be run on these data.
    """
    one = len(awaiting) == 1
    pending = (f" {_names(list(awaiting))} {'awaits' if one else 'await'} classification and "
               f"{'is' if one else 'are'} not counted." if awaiting else "")
    trials = list(dict.fromkeys(crossover["study_label"]))
    if not trials:
        return "No included crossover trial is in the data." + pending
    both_periods = list(dict.fromkeys(crossover.loc[crossover["control_events"].notna(), "study_label"]))
    with_scores = list(dict.fromkeys(crossover.loc[
        crossover["ketamine_mean"].notna() & crossover["control_mean"].notna()
        & crossover["spread_type"].notna(), "study_label"]))
    text = f"{len(trials)} included crossover trial{'' if len(trials) == 1 else 's'} ({_names(trials)}). "
    text += f"Responders in both periods: {_names(both_periods) if both_periods else 'none'}. "
    if with_scores:
        return text + f"Per-period pain scores with a stated SD or SE: {_names(with_scores)}." + pending
    return text + ("Per-period pain scores with a stated SD or SE: none, so the within-patient "
                   "correlation sweep cannot be run on these data.") + pending



def _side(natural, reference: float) -> str:
    """Where an interval lies against ``reference``: above, below or including it."""
    return "above" if natural.ci_lb > reference else "below" if natural.ci_ub < reference else "including"


def describe_inferred_left_out(primary, primary_rows: pd.DataFrame, strict, strict_rows: pd.DataFrame, *,
                               reference: float = 0.5) -> str:
    """Whether the headline response rate changes when values inferred from wording are left out.

    Parameters
    ----------
    primary, strict : ProportionResult or None
        The pooled response rate of the plan and of the same plan with ``include_inferred=False``
        (the sensitivity analysis "stated and computed values only"); ``strict`` is None when no
        sample is left to pool.
    primary_rows, strict_rows : DataFrame
        Their rows (``row_id``, ``study_label``).
    reference : float
        The response rate that would change a decision (the plan's ``response_rate_threshold``):
        the headline changes when the interval moves to another side of it.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> rows = pd.DataFrame({"row_id": ["a", "b", "c"], "study_label": ["A 2000", "B 2001", "C 2002"]})
    >>> every = pool_proportions([8, 17, 13], [11, 29, 34], method="PLO", tau_method="DL")
    >>> strict = pool_proportions([17, 13], [29, 34], method="PLO", tau_method="DL")
    >>> describe_inferred_left_out(every, rows, strict, rows.iloc[1:])
    'Leaving out the numbers inferred from the sources’ wording rather than stated or computed (A 2000), the pooled response rate is 48% (95% CI 29% to 68%; 2 studies) instead of 54% (95% CI 35% to 72%; 3 studies): the headline does not change (both intervals include 50%).'
    """
    left_out = primary_rows[~primary_rows["row_id"].isin(strict_rows["row_id"])]
    if left_out.empty and len(strict_rows) == len(primary_rows):
        return ("No pooled number of the response rate is inferred from the sources’ wording (each is stated or "
                "computed by arithmetic), so leaving inferred values out changes nothing.")
    head = (f"Leaving out the numbers inferred from the sources’ wording rather than stated or computed "
            f"({_names(left_out['study_label'])}), ")
    natural = primary.natural()
    before = (f"{natural.format(natural.estimate)} ({_level(primary)} {primary.interval_name} "
              f"{natural.interval_text()}; {_studies(primary.k)})")
    if strict is None:
        return head + f"no sample is left to pool, against {before} with them: the headline cannot be checked."
    after = strict.natural()
    sides = _side(natural, reference), _side(after, reference)
    mark = format_percent(reference)
    verdict = (f"the headline does not change (both intervals {'include' if sides[0] == 'including' else 'lie ' + sides[0]} "
               f"{mark})" if sides[0] == sides[1] else
               f"the headline changes: the interval {'includes' if sides[1] == 'including' else 'lies ' + sides[1]} "
               f"{mark} instead of {'including' if sides[0] == 'including' else 'lying ' + sides[0]} it")
    return (head + f"the pooled response rate is {after.format(after.estimate)} ({_level(strict)} "
            f"{strict.interval_name} {after.interval_text()}; {_studies(strict.k)}) instead of {before}: {verdict}.")


#: A registry status in a sentence (the others read as their code with spaces).
_STATUS_WORDS = {"unknown": "status unknown", "not_shown": "status not shown"}


def describe_registrations(trials: pd.DataFrame, labels=None) -> str:
    """Registered trials without results: how many have results overdue, in one sentence.

    ``trials``: :func:`analysis.review.registrations.trial_registrations`; ``labels``: study
    label by ``study_id`` (default the registry numbers).

    Examples
    --------
    >>> from datetime import date
    >>> trials = pd.DataFrame({"study_id": ["a", "b", "c"], "registry_id": ["NCT1", "NCT2", "NCT3"],
    ...                        "status": ["terminated", "recruiting", "recruiting"],
    ...                        "overdue": [True, False, None], "as_of": [date(2026, 12, 6)] * 3})
    >>> describe_registrations(trials)
    'Of 3 registered trials without published results, 1 has results overdue on 6 December 2026 (completion more than 12 months earlier, no results posted): NCT1 (terminated). For 1 (NCT3) no registry copy gives a completion date.'
    """
    labels = dict(labels or {})
    name = lambda row: labels.get(row["study_id"], row["registry_id"])  # noqa: E731
    overdue = trials[trials["overdue"].map(lambda v: v is True)]
    unknown = trials[trials["overdue"].map(lambda v: v is None)]
    as_of = trials["as_of"].max()
    count = len(overdue)
    text = (f"Of {_plural(len(trials), 'registered trial', 'registered trials')} without published results, "
            f"{count} {'has' if count == 1 else 'have'} results overdue on {as_of.day} {as_of:%B %Y} (completion "
            "more than 12 months earlier, no results posted)")
    def with_status(row) -> str:
        status = _STATUS_WORDS.get(row["status"], row["status"].replace("_", " "))
        label = name(row)
        return f"{label[:-1]}; {status})" if label.endswith(")") else f"{label} ({status})"

    if count:
        text += ": " + _names([with_status(row) for _, row in overdue.iterrows()])
    text += "."
    if len(unknown):
        text += (f" For {len(unknown)} ({_names([name(row) for _, row in unknown.iterrows()])}) no registry copy "
                 "gives a completion date.")
    return text

def describe_multiverse(summary) -> str:
    """How much the answer to one question depends on the analytic choices, in one sentence.

    The question is held fixed (one time window: another window is another outcome, not an
    analytic choice), and the sentence says so.

    Parameters
    ----------
    summary : analysis.review.multiverse.MultiverseSummary
        ``Multiverse.summary()`` (of one window; a summary of every window is refused).

    Examples
    --------
    >>> from analysis.review.multiverse import MultiverseSummary
    >>> describe_multiverse(MultiverseSummary("response_rate", 200, 150, 90, 0.14, 0.71, 0.58,
    ...                                       0.03, 0.19, 0.78, 0.5, True, None, "during_or_immediate"))
    'For one question, the pooled response rate during or immediately after the infusion (up to 4 h), across 150 specifications with an estimate (of 200 combinations of the protocol’s analytic choices for that window), the estimate ranged from 14% to 71% (median 58%); 3% of the intervals lay above 50%, 19% below it and 78% included it.'
    """
    if summary.time_window is None:
        raise AnalysisError("describe_multiverse needs the summary of one time window (one question); "
                            "Multiverse.summary() gives the plan's window")
    reference = summary.format(summary.reference)
    if not summary.is_proportion:
        reference += " (no difference)"
    words = WINDOW[summary.time_window].words
    when = words[0].lower() + words[1:]
    return (f"For one question, the {summary.what} {when}, across {summary.estimable} specifications with an "
            f"estimate (of {summary.specifications} combinations of the protocol’s analytic choices for that "
            f"window), the estimate ranged from "
            f"{summary.format(summary.minimum)} to {summary.format(summary.maximum)} (median "
            f"{summary.format(summary.median)}); {format_percent(summary.above)} of the intervals lay above "
            f"{reference}, {format_percent(summary.below)} below it and {format_percent(summary.includes)} "
            "included it.")

def describe_multiverse_windows(universe, measure: str | None = None) -> str:
    """:func:`describe_multiverse` for each time window with an estimate, one bullet each:
    each window is its own question, so each has its own range.

    >>> from analysis.data import load_studies
    >>> from analysis.review.multiverse import Model, multiverse
    >>> universe = multiverse(load_studies(), choices={"model": [Model("PLO", "DL", "z")], "left_out": [False]})
    >>> print(describe_multiverse_windows(universe))  # doctest: +ELLIPSIS
    Each time window is a different question, so each has its own range:
    - For one question, the pooled response rate during or immediately after the infusion (up to 4 h), ...
    - For one question, the pooled response rate in the short term (1 to 7 days), ...
    - For one question, the pooled response rate in the long term (8 weeks or more), ...
    """
    lines = [f"- {describe_multiverse(universe.summary(measure, window))}" for window in universe.windows(measure)]
    return "Each time window is a different question, so each has its own range:\n" + "\n".join(lines)


def describe_subset_rows(subsets: dict[str, pd.DataFrame], primary: str = "primary analysis") -> str:
    """Where a sensitivity subset counts a sample with another row than the primary analysis
    (e.g. a common responder threshold taking a study's row from a review table), one bullet
    each with both counts and the row's note; "" when no subset swaps a row.

    >>> rows = pd.DataFrame({"row_id": ["a67"], "cohort_id": ["a"], "study_label": ["A 2006"],
    ...                      "ketamine_events": [13], "ketamine_n": [34], "responder_threshold_percent": [67.0],
    ...                      "note": [None]})
    >>> swapped = rows.assign(row_id="a50", ketamine_events=18, responder_threshold_percent=50.0,
    ...                       note="Value from a review table only.")
    >>> print(describe_subset_rows({"primary analysis": rows, "50% only": swapped}))
    - 50% only: A 2006 counts 18/34 at 50% instead of 13/34 at 67% (Value from a review table only.)
    """
    base = subsets[primary].set_index("cohort_id")
    lines = []
    for name, rows in subsets.items():
        for _, row in rows.iterrows():
            if row["cohort_id"] not in base.index or base.loc[row["cohort_id"], "row_id"] == row["row_id"]:
                continue
            was = base.loc[row["cohort_id"]]
            note = f" ({escape_markdown(row['note'])})" if isinstance(row.get("note"), str) and row["note"].strip() else ""
            lines.append(f"- {escape_markdown(name)}: {escape_markdown(row['study_label'])} counts {int(row['ketamine_events'])}/{int(row['ketamine_n'])} "
                         f"at {row['responder_threshold_percent']:g}% instead of {int(was['ketamine_events'])}/"
                         f"{int(was['ketamine_n'])} at {was['responder_threshold_percent']:g}%{note}")
    return "\n".join(lines)
