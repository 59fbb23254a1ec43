"""The evidence base as of one data version (tests/data_corpus/review_2026_12_06/README.md), for
the tests that state its facts word for word; adding a trial to data/ changes none of them."""

from __future__ import annotations

from pathlib import Path

FROZEN = Path(__file__).resolve().parent / "data_corpus" / "review_2026_12_06"


def frozen_studies():
    from analysis.data import load_studies

    return load_studies(FROZEN / "studies.csv")


def frozen_check():
    """The claims check of the frozen copy, on the studies in its review."""
    from analysis.data import load_claims
    from analysis.review.claims import check_claims
    from analysis.review.evidence_base import load_evidence_base

    return check_claims(load_claims(FROZEN / "claims.csv"), load_evidence_base(FROZEN).in_review(frozen_studies()))
