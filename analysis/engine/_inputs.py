"""Numeric inputs checked once, with messages that name the study and show the value plainly."""

from __future__ import annotations

import numpy as np

from analysis.engine._errors import AnalysisError
from analysis.engine.formatting import plain


def study_name(labels, position: int) -> str:
    """The label of the study at ``position`` ("Study 3" when no labels were given)."""
    if labels is None:
        return f"Study {position + 1}"
    return str(labels[position])


def as_numbers(values, name: str, labels=None) -> np.ndarray:
    """``values`` as a 1-D float array; a value that is not a number is named with its study.

    >>> as_numbers([1, "2.5"], "yi")
    array([1. , 2.5])
    >>> as_numbers([0.1, "high"], "yi", ["A", "B"])
    Traceback (most recent call last):
    ...
    analysis.engine._errors.AnalysisError: study 'B': yi='high' is not a number
    """
    try:
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        items = np.asarray(values, dtype=object).ravel()
        for position, value in enumerate(items):
            try:
                float(value)
            except (TypeError, ValueError):
                raise AnalysisError(
                    f"study {study_name(labels, position)!r}: {name}={plain(value)} is not a number"
                ) from None
        raise


def reject_first(bad: np.ndarray, labels, values: dict[str, np.ndarray], rule: str, positions=None) -> None:
    """Raise for the first study where ``bad`` is true, showing its ``values`` and the ``rule``.

    ``positions`` maps rows of ``bad`` to positions in ``labels`` (after rows were dropped).
    """
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    position = first if positions is None else int(positions[first])
    shown = ", ".join(f"{key}={plain(array[first])}" for key, array in values.items())
    raise AnalysisError(f"study {study_name(labels, position)!r}: {shown}; {rule}")
