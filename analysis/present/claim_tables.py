"""The claims check as tables for readers: verdicts, the numbers behind them, and the rules."""

from __future__ import annotations

import math

import pandas as pd

from analysis.engine.formatting import format_count, format_effect, format_percent
from analysis.present.tables import reader_table
from analysis.review.claim_rules import VERDICTS
from analysis.review.claims import ClaimsCheck


def article_titles(claims: pd.DataFrame, references: pd.DataFrame) -> dict[str, str]:
    """Each seed article's title as the reference list gives it (``data/references.csv``),
    else as the claims table does."""
    listed = references[references["seed_file"].notna()]
    titles = dict(zip(listed["seed_file"], listed["citation"]))
    return {seed: titles.get(seed, title) for seed, title in zip(claims["seed_file"], claims["article_title"])}


def articles_table(check: ClaimsCheck, claims: pd.DataFrame, references: pd.DataFrame, *,
                   caption: str = "Verdicts per article"):
    """One verdict summary per article, under its real title: claims per verdict."""
    frame = claims[["claim_id", "seed_file"]].merge(check.to_frame()[["claim_id", "verdict"]], on="claim_id")
    titles = article_titles(claims, references)
    rows = []
    for seed, group in frame.groupby("seed_file", sort=True):
        counts = group["verdict"].value_counts()
        rows.append({"Article": titles[seed], "Claims": str(len(group)),
                     **{verdict.capitalize(): str(int(counts.get(verdict, 0))) for verdict in VERDICTS}})
    table = pd.DataFrame(rows)
    return reader_table(table, caption=caption, columns=list(table.columns))


def verdicts_table(check: ClaimsCheck, claims: pd.DataFrame, *, references: pd.DataFrame | None = None,
                   caption: str = "Every claim, what the article says, and the verdict"):
    """One row per claim, grouped by article (titled as the reference list titles it, when given):
    the quote, the verdict and its explanation."""
    claims = claims.copy()
    if references is not None:
        claims["article_title"] = claims["seed_file"].map(article_titles(claims, references))
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
                     "Estimate": fmt(v.estimate), "Interval (CI or CrI: see Why)": interval(v.ci_lb, v.ci_ub),
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
