"""The worked examples in docs/ run as written (doctest), so the documented contract stays true."""

import doctest
from pathlib import Path

import pytest

DOCS = sorted((Path(__file__).resolve().parent.parent / "docs").glob("*.md"))


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_examples_in_docs_run(path):
    result = doctest.testfile(str(path), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if path.name == "architecture.md":
        assert result.attempted >= 5  # the contract's worked example is there and ran
