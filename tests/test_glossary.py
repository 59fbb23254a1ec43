"""The plain glossary: its entries, and first uses linked on the technical pages."""

from __future__ import annotations

import re

from analysis.apps.report.layout import glossary_body, link_glossary_terms
from analysis.present.glossary import TERMS


def test_every_term_is_named_once_with_one_or_two_sentences():
    assert len({t.key for t in TERMS}) == len(TERMS)
    for term in TERMS:
        sentences = [s for s in re.split(r"(?<=\.)\s+", term.meaning) if s]
        assert 1 <= len(sentences) <= 2, term.key


def test_the_issue_asks_for_these_words():
    words = " ".join(t.word.lower() for t in TERMS)
    for wanted in ("response", "responder threshold", "placebo", "crossover", "randomised",
                   "confidence interval", "credible interval", "prediction interval", "certainty of evidence",
                   "heterogeneity", "bayesian"):
        assert wanted in words, wanted


def test_only_the_first_use_in_running_text_is_linked():
    body = ("<h2>Placebo</h2><table><thead><tr><th>Placebo</th></tr></thead><tbody><tr><td>x</td></tr>"
            "</tbody></table><blockquote><p>a placebo quoted</p></blockquote><p><code>placebo</code> and "
            "<a href='x.html'>placebo</a></p><p>The placebo arm; another placebo.</p>")
    linked = link_glossary_terms(body)
    assert linked.count('class="kfm-term"') == 1
    assert '<p>The <a class="kfm-term" href="glossary.html#term-placebo">placebo</a> arm; another placebo.</p>' \
        in linked


def test_capital_abbreviations_match_exactly():
    assert "kfm-term" not in link_glossary_terms("<p>a ci of grade 3</p>")
    assert 'href="glossary.html#term-certainty">GRADE</a>' in link_glossary_terms("<p>GRADE rates it</p>")


def test_glossary_page_has_an_anchor_per_term_and_escapes_nothing_unsafe():
    body = glossary_body()
    assert body.count("<dt id=") == len(TERMS)
    assert "<script" not in body
