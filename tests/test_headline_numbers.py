"""The report's headline numbers are those reviewed in tests/snapshots/headline_numbers.json.

The snapshot was first written by the code before the library moved into wings (issue 19), so
the move is shown to change no number: every window's response rate under each model, every
window's controlled comparison under each model, the multiverse summaries, every claim's
verdict and the summary of findings. A change meant to move a number (a new trial, a revised
rule) regenerates the file with ``make snapshot`` and the reviewed differences are committed.
The comparison is ``analysis.review.snapshots.number_changes`` (its rule is doctested there).
"""

from __future__ import annotations

import json

import pytest

from analysis.review.snapshots import headline_numbers, number_changes, read_numbers


def test_headline_numbers_are_the_reviewed_ones():
    found = json.loads(json.dumps(headline_numbers(), ensure_ascii=False))
    differences = number_changes(read_numbers(), found)
    if differences:
        pytest.fail("headline numbers differ from tests/snapshots/headline_numbers.json; review them and "
                    "run `make snapshot` if the change is meant:\n" + "\n".join(differences))


def test_the_comparison_sees_a_moved_number():
    assert number_changes({"rate/x": [0.5761676193839257, 0.41]}, {"rate/x": [0.5761676193839257, 0.42]})
    assert not number_changes({"rate/x": [0.5761676193839257, None]},
                              {"rate/x": [0.5761676193839257 * (1 + 1e-12), None]})
