"""A plain glossary of the words the technical pages must use.

Each :class:`Term` has an anchor, the word as a reader sees it, one or two everyday sentences,
and the patterns by which its first use on a technical page is found (the report links that
first use to the glossary page: :func:`analysis.apps.report.layout.link_glossary_terms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The glossary page of the report (beside the other pages).
GLOSSARY_PAGE = "glossary.html"


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    key : str
        Anchor on the glossary page (``term-<key>``).
    word : str
        The term as a heading.
    meaning : str
        One or two everyday sentences.
    patterns : tuple of str
        Regular expressions of the term's forms on the technical pages: case-insensitive when
        they hold a lower-case letter, exact otherwise ("CI", "GRADE").
    """

    key: str
    word: str
    meaning: str
    patterns: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return f"term-{self.key}"

    @property
    def href(self) -> str:
        return f"{GLOSSARY_PAGE}#{self.anchor}"

    def pattern(self) -> re.Pattern:
        """One pattern for every form, matched as whole words.

        >>> TERMS[5].pattern().findall("95% CI, a ci, credible intervals, a CrI")
        ['CI', 'credible intervals', 'CrI']
        """
        forms = "|".join(f"(?i:{p})" if re.search(r"[a-z]", p) else p for p in self.patterns)
        return re.compile(rf"(?<![\w-])(?:{forms})(?![\w-])")


TERMS = (
    Term("response", "Response, responder, response rate",
         "A person responds when their pain drops by at least the amount the study set in advance, "
         "usually by half. The response rate is the share of people who responded.",
         (r"response rates?", r"responders?")),
    Term("responder-threshold", "Responder threshold",
         "The drop in pain that a study counts as a response, for example at least half the pain gone. "
         "Studies with different thresholds count different people as responders.",
         (r"responder thresholds?",)),
    Term("placebo", "Placebo (dummy treatment), active placebo",
         "A dummy treatment with no drug for pain, given so that people cannot tell who had the real "
         "one. An active placebo, such as midazolam, has effects people can feel, which makes it "
         "harder still to tell the two apart.",
         (r"active placebos?", r"placebos?")),
    Term("crossover", "Crossover",
         "A study in which each person has both treatments, one after the other, so that each person "
         "is compared with themselves.",
         (r"cross-?over",)),
    Term("randomised", "Randomised",
         "People were put into groups by chance, like a coin toss, so that the groups differ only "
         "in the treatment they had.",
         (r"randomi[sz]ed", r"non-randomi[sz]ed")),
    Term("interval", "Confidence interval (CI), credible interval (CrI)",
         "The range in which the true value probably lies, given the studies; a wide range means we "
         "are unsure. A confidence interval comes from classical statistics, a credible interval "
         "from Bayesian statistics.",
         (r"confidence intervals?", r"credible intervals?", r"CI", r"CrI")),
    Term("prediction-interval", "Prediction interval",
         "The range in which the result of a new study like these would be expected to fall. It is "
         "wider than the confidence or credible interval because studies differ from each other.",
         (r"posterior predictive intervals?", r"prediction intervals?")),
    Term("certainty", "Certainty of evidence (GRADE)",
         "How sure we can be that a result is close to the truth, rated with the GRADE system from "
         "high to very low. Few, small or flawed studies lower it.",
         (r"certainty of (?:the )?evidence", r"certainty", r"GRADE")),
    Term("heterogeneity", "Heterogeneity",
         "How much the results of the studies differ from each other, beyond what chance alone would "
         "give. It is measured by I² and by the between-study standard deviation (tau).",
         (r"heterogeneity", r"between-study standard deviation", r"I²")),
    Term("bayesian", "Bayesian",
         "A way of doing statistics that combines what the studies show with what was assumed "
         "beforehand (the prior), and gives the probability of each possible answer.",
         (r"Bayesian",)),
)
