"""Exceptions and option checking shared by every module."""

from __future__ import annotations

from collections.abc import Iterable


class AnalysisError(ValueError):
    """A user-facing problem with input or options; the message says what to fix."""


def check_option(name: str, value: object, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise listing the allowed values.

    >>> check_option("method", "REML", ("DL", "REML"))
    'REML'
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise AnalysisError(
            f"{name}={value!r} is not supported; choose one of: {', '.join(allowed)}"
        )
    return value  # type: ignore[return-value]
