"""The claims check as tables for readers: verdicts, the numbers behind them, and the rules."""

from __future__ import annotations

import math

import pandas as pd

from analysis.engine.formatting import format_count, format_effect, format_percent
from analysis.present.tables import reader_table
from analysis.review.claims import ClaimsCheck


def verdicts_table(check: ClaimsCheck, claims: pd.DataFrame, *,
                   caption: str = "Every claim, what the article says, and the verdict"):
    """One row per claim, grouped by article: the quote, the verdict and its explanation."""
    frame = claims[["claim_id", "article_title", "quote"]].merge(
        check.to_frame()[["claim_id", "verdict", "explanation"]], on="claim_id")
    return reader_table(frame, caption=caption, columns={
        "claim_id": "Claim", "article_title": "Article", "quote": "What the article says",
        "verdict": "Verdict", "explanation": "Why"})


def numbers_table(check: ClaimsCheck, *, caption: str = "The numbers behind each testable verdict"):
    """The evidence's number for each testable claim, written on its own scale, with its intervals."""
    rows = []
    for v in check.verdicts:
        if v.verdict == "not testable" or math.isnan(v.estimate):
            continue
        percent = v.scale in ("proportion", "share of samples")
        fmt = format_percent if percent else (format_count if float(v.estimate).is_integer()
                                               and math.isnan(v.ci_lb) else format_effect)
        interval = (lambda lo, hi: f"{fmt(lo)} to {fmt(hi)}" if not math.isnan(lo) else "–")
        rows.append({"Claim": v.claim_id, "Claimed": v.claimed or "–", "Evidence": v.scale or "–",
                     "Estimate": fmt(v.estimate), "CI": interval(v.ci_lb, v.ci_ub),
                     "Prediction interval": interval(v.pi_lb, v.pi_ub), "Studies": str(v.k),
                     "Counts": v.evidence or "–"})
    frame = pd.DataFrame(rows)
    return reader_table(frame, caption=caption, columns=list(frame.columns) or ["Claim"],
                        empty="No claim has a testable number.")


def rules_table(check: ClaimsCheck, claims_dictionary, *,
                caption: str = "The analysis and the rule behind each verdict"):
    """Each claim's analysis (by its label) and the rule that decided its verdict."""
    frame = check.to_frame()[["claim_id", "analysis", "rule"]]
    return reader_table(frame, caption=caption, dictionary=claims_dictionary,
                        columns={"claim_id": "Claim", "analysis": "", "rule": "Rule"})
