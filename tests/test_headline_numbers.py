"""The report's headline numbers are those reviewed in tests/snapshots/headline_numbers.json.

The snapshot was first written by the code before the library moved into wings (issue 19), so
the move is shown to change no number: every window's response rate under each model, every
window's controlled comparison under each model, the multiverse summaries, every claim's
verdict and the summary of findings. A change meant to move a number (a new trial, a revised
rule) regenerates the file with ``make snapshot`` and the reviewed differences are committed.
"""

from __future__ import annotations

import json
import math

import pytest
from headline_numbers import SNAPSHOT, headline_numbers

#: Relative tolerance: the numbers are recomputed by the same code paths; only floating-point
#: noise below this would be forgiven.
REL_TOL = 1e-9


def _same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def test_headline_numbers_are_the_reviewed_ones():
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    found = json.loads(json.dumps(headline_numbers(), ensure_ascii=False))
    differences = [f"{key}: {expected.get(key, '(absent)')!r} -> {found.get(key, '(absent)')!r}"
                   for key in sorted(set(expected) | set(found)) if not _same(expected.get(key), found.get(key))]
    if differences:
        pytest.fail("headline numbers differ from tests/snapshots/headline_numbers.json; review them and "
                    "run `make snapshot` if the change is meant:\n" + "\n".join(differences))


def test_the_comparison_sees_a_moved_number():
    assert not _same([0.5761676193839257, 0.41], [0.5761676193839257, 0.42])
    assert _same([0.5761676193839257, None], [0.5761676193839257 * (1 + 1e-12), None])
