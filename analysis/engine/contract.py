"""The result contract: what every pooled result promises its readers.

Inverse-variance (:class:`~analysis.engine.pooling.MetaAnalysisResult`), GLMM and
inverse-variance proportions (:class:`~analysis.engine.proportions.ProportionResult`),
Mantel-Haenszel and Peto (:class:`~analysis.engine.fixed_effects.FixedEffectResult`)
results all inherit :class:`PooledResult`. Narrative, GRADE, claims and plots
read these names and nothing else, so no consumer has to know which model
produced a number.

Every pooled result has, on the **analysis scale** (log ratio, logit, ...):

``k``, ``measure`` (metafor code of the analysis scale), ``confidence_level``,
``estimate``, ``se``, ``pval``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub``
(as the model computes them, e.g. metafor's ``predict()`` repeats the CI for
one study; NaN for fixed-effect models), ``tau2`` (0 for fixed-effect models,
by assumption), ``labels``, ``notes``, ``model_label`` (short, for
figures) and ``summary_frame()``; and it answers, through this class:

- :attr:`PooledResult.random_effects`, :attr:`PooledResult.tau2_at_boundary`,
  :attr:`PooledResult.has_prediction_interval`, :attr:`PooledResult.model_description`
  (for sentences), :attr:`PooledResult.participants`;
- :meth:`PooledResult.natural`: the estimate and intervals on the **natural
  scale** (ratio, proportion) as a :class:`NaturalScale`;
- :attr:`PooledResult.heterogeneity_test`: the test the result reports, by the
  name text and figures must both use (Cochran's Q or the GLMM's LRT);
- :meth:`PooledResult.summary`: a printed summary, as metafor's ``print.rma``.

Back-transforms and measure aliases live in :mod:`analysis.engine.transforms`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.engine import transforms
from analysis.engine.formatting import format_interval, format_number, format_p, format_percent


@dataclass(frozen=True)
class NaturalScale:
    """A pooled result on the scale readers use (ratio, difference, proportion).

    Attributes
    ----------
    measure : str
        metafor code of the analysis scale the values came from.
    label : str
        What the values are, e.g. ``"Risk ratio"``, ``"Proportion"``.
    estimate, ci_lb, ci_ub : float
        Back-transformed estimate and confidence interval.
    pi_lb, pi_ub : float
        Back-transformed prediction interval (NaN when there is none).
    null_value : float or None
        No-effect value on this scale (1 for ratios, 0 for differences, None
        for single proportions).
    is_proportion : bool
        True for proportions, which are written as percentages.
    """

    measure: str
    label: str
    estimate: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float
    null_value: float | None
    is_proportion: bool

    def format(self, value: float) -> str:
        """One value in the house style: a percentage or two decimals."""
        return format_percent(value) if self.is_proportion else format_number(value, 2)

    def interval_text(self, *, prediction: bool = False) -> str:
        """``"44% to 69%"`` or ``"0.81 to 1.52"``: the CI, or the prediction interval."""
        lower, upper = (self.pi_lb, self.pi_ub) if prediction else (self.ci_lb, self.ci_ub)
        return format_interval(lower, upper, percent=self.is_proportion)

    @property
    def includes_null(self) -> bool | None:
        """Whether the CI includes the null value (None when the scale has none)."""
        if self.null_value is None:
            return None
        return self.ci_lb <= self.null_value <= self.ci_ub


@dataclass(frozen=True)
class HeterogeneityTest:
    """The heterogeneity test a result reports.

    Attributes
    ----------
    symbol : str
        ``"Q"`` (Cochran's Q) or ``"LRT"`` (the GLMM's likelihood-ratio test).
    name : str
        The name in words, e.g. ``"Cochran's Q"``.
    statistic, df, pval : float
    """

    symbol: str
    name: str
    statistic: float
    df: float
    pval: float


class PooledResult:
    """Mixin for frozen result dataclasses; see the module docstring for the contract."""

    #: Subclasses set the analysis-scale fields named in the module docstring.

    #: Scale of ``summary_frame()``: "analysis" (log ratio, ...) or "natural" (proportions).
    summary_frame_scale = "analysis"

    #: True for posterior summaries (credible intervals, posterior predictive interval).
    is_bayesian = False

    #: What the intervals are called in text and tables: "CI" or "CrI" (credible interval).
    interval_name = "CI"

    #: What the interval for a new study's effect is called in text and figures.
    prediction_interval_name = "prediction interval"

    @property
    def random_effects(self) -> bool:
        """True for a random-effects model (tau² estimated), False for equal/fixed effects."""
        raise NotImplementedError

    @property
    def tau2_at_boundary(self) -> bool:
        """True when a random-effects model estimated tau² at its lower bound, 0."""
        raise NotImplementedError

    @property
    def model_description(self) -> str:
        """The model in words for sentences, e.g. ``"random-effects model (REML, Hartung-Knapp)"``."""
        raise NotImplementedError

    @property
    def participants(self) -> int | None:
        """Patients in the pooled studies, where the result knows them (None otherwise)."""
        return None

    @property
    def has_prediction_interval(self) -> bool:
        """A random-effects model of two or more studies with a finite prediction interval.

        One study, or a fixed-effect model, has no prediction interval: nothing may draw or
        state one.
        """
        return (self.random_effects and self.k >= 2
                and math.isfinite(self.pi_lb) and math.isfinite(self.pi_ub))

    @property
    def heterogeneity_test(self) -> HeterogeneityTest | None:
        """Cochran's Q (its df and p), or None when no test is defined (k = 1)."""
        q = getattr(self, "q", None)
        if self.k < 2 or q is None or not math.isfinite(q):
            return None
        return HeterogeneityTest("Q", "Cochran's Q", float(q), float(getattr(self, "q_df", self.k - 1)),
                                 float(self.q_p))

    @property
    def measure_scale(self) -> transforms.MeasureScale | None:
        """The :class:`~analysis.engine.transforms.MeasureScale` of ``measure`` (None for GEN)."""
        return transforms.scale_of_measure(self.measure)

    def natural(self) -> NaturalScale:
        """Estimate, CI and prediction interval back on the natural scale."""
        scale = self.measure_scale
        pi = (self.pi_lb, self.pi_ub) if self.has_prediction_interval else (math.nan, math.nan)
        values = (self.estimate, self.ci_lb, self.ci_ub, *pi)
        if scale is None:
            return NaturalScale(self.measure, "Estimate", *values, None, False)
        back = [float(v) for v in scale.back_transform(values)]
        return NaturalScale(self.measure, scale.label, *back, scale.null_value, scale.null_value is None)

    def _analysis_scale_name(self) -> str:
        scale = self.measure_scale
        return scale.analysis_label.lower() if scale is not None else "analysis scale"

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.rma``."""
        level = f"{100 * self.confidence_level:g}%"
        scale_name = self._analysis_scale_name()
        kind = "Random-effects" if self.random_effects else "Fixed-effect"
        lines = [f"{self.model_label}: {kind} model (k = {self.k})", ""]
        lines += self._heterogeneity_lines(scale_name, level)
        lines += ["", f"Model results ({scale_name}):", self._estimate_line(level)]
        natural = self.natural()
        if natural.label != "Estimate":
            lines += ["", f"{natural.label}: {natural.format(natural.estimate)} ({level} {self.interval_name} "
                          f"{natural.interval_text()})"]
            if self.has_prediction_interval:
                lines.append(f"{level} {self.prediction_interval_name}: {natural.interval_text(prediction=True)}")
        elif self.has_prediction_interval:
            lines.append(f"  {level} {self.prediction_interval_name} {format_number(self.pi_lb, 4)} to "
                         f"{format_number(self.pi_ub, 4)}")
        if self.notes:
            lines += ["", "Notes:"] + [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    def _heterogeneity_lines(self, scale_name: str, level: str) -> list[str]:
        lines = []
        if self.random_effects:
            boundary = " (on the boundary)" if self.tau2_at_boundary else ""
            lines.append(f"tau² (between-study variance, {scale_name}): {format_number(self.tau2, 4)}{boundary}")
        i2 = getattr(self, "i2", math.nan)
        if i2 is not None and math.isfinite(i2):
            lines.append(f"I² (share of variation beyond chance): {format_number(i2, 1)}%")
        test = self.heterogeneity_test
        if test is not None:
            lines.append(f"Test for heterogeneity ({test.name}): {test.symbol}(df = {test.df:g}) = "
                         f"{format_number(test.statistic, 4)}, {format_p(test.pval)}")
        return lines

    def _estimate_line(self, level: str) -> str:
        return (f"  estimate {format_number(self.estimate, 4)}, se {format_number(self.se, 4)}, "
                f"{format_p(self.pval) or 'p not defined'}, {level} CI "
                f"{format_number(self.ci_lb, 4)} to {format_number(self.ci_ub, 4)}")

    def __str__(self) -> str:
        return self.summary()
