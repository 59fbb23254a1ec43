"""Readability of the plain-language text, measured with ``textstat``.

Two standard scores: the Flesch-Kincaid grade (``textstat.flesch_kincaid_grade``; syllables
from pyphen's dictionaries, installed with it, so nothing is downloaded) and the Dale-Chall
score. For Dale-Chall, textstat's own function counts each unfamiliar word once however often
it occurs, and every numeral and every regular inflection of a familiar word ("studies",
"counted") as unfamiliar, deviations its documentation partly states; the formula's rules (Dale & Chall 1948; Chall & Dale 1995) count
numbers and regular inflections (-s, -es, -ies, -ed, -d, -ing) of listed words as familiar.
Text written in natural frequencies ("8 of 12 people") is full of numerals, so
:func:`dale_chall` applies those two rules to textstat's tokens, its familiar-word list and its
formula; :func:`readability` reports textstat's raw score beside it.

References
----------
Dale E, Chall JS (1948). A formula for predicting readability. Educ Res Bull 27:11-20, 37-54.
Chall JS, Dale E (1995). Readability Revisited: The New Dale-Chall Readability Formula.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The highest Flesch-Kincaid grade and Dale-Chall score the plain text may reach (issue 24).
MAX_GRADE = 9.0
MAX_DALE_CHALL = 8.0

_NUMBER = re.compile(r"^\d+([.,]\d+)*%?$")
_INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("d", ""),
                ("ing", ""), ("ing", "e"), ("'s", ""), ("’s", ""))


@dataclass(frozen=True)
class Readability:
    """Scores of one text.

    Attributes
    ----------
    words : int
    flesch_kincaid_grade : float
    dale_chall : float
        With numbers and regular inflections familiar (the formula's rules).
    dale_chall_textstat : float
        textstat's own score (numbers and inflections unfamiliar).
    unfamiliar : tuple of str
        The words :func:`dale_chall` counted as unfamiliar, in order of appearance.
    """

    words: int
    flesch_kincaid_grade: float
    dale_chall: float
    dale_chall_textstat: float
    unfamiliar: tuple[str, ...]


def _familiar(word: str) -> bool:
    """A number, a word of textstat's Dale-Chall list, or a regular inflection of one."""
    import textstat

    lower = word.lower()
    if _NUMBER.match(word) or not textstat.is_difficult_word(lower, syllable_threshold=0):
        return True
    for suffix, replacement in _INFLECTIONS:
        if lower.endswith(suffix) and len(lower) > len(suffix) + 1:
            stem = lower[: -len(suffix)] + replacement
            if not textstat.is_difficult_word(stem, syllable_threshold=0):
                return True
    return False


def dale_chall(text: str) -> tuple[float, tuple[str, ...]]:
    """The Dale-Chall score of ``text`` and the words counted as unfamiliar.

    Words are textstat's (``lexicon_count``: punctuation removed, split on spaces), every
    occurrence counted.

    >>> score, hard = dale_chall("The cat sat on the mat. 8 of 12 dogs barked.")
    >>> round(score, 2), hard
    (0.27, ())
    >>> dale_chall("Ketamine helped in the studies.")[1]
    ('Ketamine',)
    """
    import textstat

    words = textstat.remove_punctuation(text).split()
    if not words:
        return 0.0, ()
    unfamiliar = tuple(w for w in words if not _familiar(w))
    percent = 100.0 * len(unfamiliar) / len(words)
    score = 0.1579 * percent + 0.0496 * textstat.words_per_sentence(text)
    return score + (3.6365 if percent > 5 else 0.0), unfamiliar


def readability(text: str) -> Readability:
    """Flesch-Kincaid grade and Dale-Chall score of ``text``."""
    import textstat

    score, unfamiliar = dale_chall(text)
    return Readability(textstat.lexicon_count(text), float(textstat.flesch_kincaid_grade(text)), score,
                       float(textstat.dale_chall_readability_score(text)), unfamiliar)
