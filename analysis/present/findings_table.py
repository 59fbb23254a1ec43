"""The GRADE summary of findings as readers see it: the GRADEpro table and its lettered footnotes.

The rows come from :func:`analysis.review.findings.summary_of_findings`; the table goes through
the one table renderer (:func:`analysis.present.safe_html.styled_table`), and the footnotes
(GRADE reasons, some from ``data/grade_overrides.csv``) are escaped into their Markdown.
"""

from __future__ import annotations

import math

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.present.safe_html import escape_markdown, styled_table
from analysis.review.findings import CERTAINTY_SYMBOLS, FindingsRow


def _per_1000(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def _difference(row: FindingsRow) -> str:
    if math.isnan(row.difference):
        return "–"
    def signed(v):
        return f"{abs(v):.0f} {'more' if v >= 0 else 'fewer'}"
    return f"{signed(row.difference)} ({signed(row.difference_lb)} to {signed(row.difference_ub)})"


def findings_table(rows, *, caption: str = "Summary of findings: ketamine for fibromyalgia pain"
                   ) -> tuple[Styler, Markdown]:
    """The GRADEpro-style table and its lettered footnotes."""
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    notes, table = [], []
    for row in rows:
        marks = []
        for text in row.footnotes:
            letter = next(letters)
            notes.append(f"{letter}. {text}")
            marks.append(letter)
        certainty = ("not rated (no data)" if row.certainty is None else
                     f"{CERTAINTY_SYMBOLS[row.certainty]} {row.certainty.capitalize()}"
                     + (f" ({', '.join(marks)})" if marks else ""))
        ketamine = ("–" if math.isnan(row.ketamine_risk) else
                    f"{row.ketamine_risk:.0f} ({row.ketamine_lb:.0f} to {row.ketamine_ub:.0f})")
        table.append({
            "Outcome (follow-up)": f"{row.outcome} ({row.follow_up})",
            "Risk with control (per 1000)": _per_1000(row.control_risk),
            "Risk with ketamine (per 1000, 95% CI)": ketamine,
            "Difference (per 1000, 95% CI)": _difference(row),
            "Relative effect (95% CI)": row.relative,
            "Participants (studies)": "–" if row.participants is None and row.studies == 0 else
            f"{row.participants if row.participants is not None else 'unknown'} ({row.studies})",
            "Certainty": certainty,
            "Comments": row.comment or "–",
        })
    frame = pd.DataFrame(table)
    styled = styled_table(frame, caption, css_class="reader-table sof")
    footnote_text = ("**Footnotes.** Risk with control: responders over patients in the control arms of the pooled "
                     "trials. Certainty: GRADE (⊕⊕⊕⊕ high, ⊕⊕⊕◯ moderate, ⊕⊕◯◯ low, ⊕◯◯◯ very low).\n\n"
                     + "\n".join(f"- {escape_markdown(note)}" for note in notes))
    return styled, Markdown(footnote_text)
