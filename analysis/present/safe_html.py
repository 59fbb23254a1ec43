"""Text from the data as readers get it: escaped, never markup (issue 21).

Every value of ``data/`` is untrusted text. This module is the one place that turns it into
HTML or Markdown, so that no table, sentence or app can forget:

- :func:`escape`: text for HTML (element content and attribute values);
- :func:`escape_markdown`: text for a Markdown sentence (narrative, notes, footnotes), so that
  no emphasis, link, image, HTML, math or table syntax in it takes effect;
- :func:`markdown_link`: a link the library writes into Markdown, around escaped text;
- :func:`markdown_to_html`: Markdown the library wrote, rendered with any raw HTML escaped,
  images shown as their text and ``javascript:``/``data:`` links disabled (the report pages
  and the explorer);
- :func:`styled_table`: the one rendering path of a table for readers (pandas ``Styler`` with
  every cell, header and the caption escaped, long unbroken runs of a cell given places to
  break: :func:`breakable`).

Markup the library itself writes (bold lead-ins, bullets, reference links) is added around
text that is already escaped: escape the data, then add the markup.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pandas as pd
from pandas.io.formats.style import Styler

#: Characters that start Markdown syntax anywhere in a line: backslash escapes, code, emphasis,
#: links and images, raw HTML, entities, tables, strikethrough and (in JupyterLab) math.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&|~$])")
#: Syntax that only counts at the start of a line: headings, lists, quotes, rules.
_MARKDOWN_LINE_START = re.compile(r"^(\d{0,9})([#>+=.)-])(?=[\s#>+=.)-]|$)")
#: The start of a bare address that GitHub-flavoured Markdown (JupyterLab) turns into a link.
_BARE_WWW = re.compile(r"(?i)\b(www)\.")


def escape(value) -> str:
    """``value`` as text for HTML element content or a quoted attribute value.

    >>> escape('Noppers 2011</script><img src=x onerror="alert(1)">')
    'Noppers 2011&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape(str(value), quote=True)


def escape_markdown(value) -> str:
    """``value`` as literal text inside a Markdown sentence.

    Line breaks become spaces (data text never starts a block), and every character that
    could start Markdown syntax is backslash-escaped, which CommonMark renders as the character
    itself. Letters, digits, hyphens, full stops and brackets inside a line are left as they are,
    so an ordinary label reads the same in the Markdown source.

    Examples
    --------
    >>> escape_markdown("Graven-Nielsen 2000 (OKAPI)")
    'Graven-Nielsen 2000 (OKAPI)'
    >>> escape_markdown("![x](https://example.org/t.png) <b>*a*</b> & $x$")
    '!\\\\[x\\\\](https\\\\://example.org/t.png) \\\\<b\\\\>\\\\*a\\\\*\\\\</b\\\\> \\\\& \\\\$x\\\\$'
    >>> escape_markdown("# 1. heading\\nline"), escape_markdown("12. list")
    ('\\\\# 1. heading line', '12\\\\. list')
    """
    text = " ".join(str(value).splitlines())
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _BARE_WWW.sub(r"\1\\.", text.replace("://", "\\://"))
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", text)


#: Characters left as they are in a link's address: the rest (spaces, brackets, parentheses,
#: quotes, '<', '>', backslashes) is percent-encoded, so that no address can end the link early.
_ADDRESS_SAFE = "/:?#=&%~.,;@+$!*'-_"


def markdown_link(text, address: str) -> str:
    """A Markdown link the library writes: ``text`` escaped, ``address`` percent-encoded.

    ``address`` must be an ``http://`` or ``https://`` address (the data dictionaries' ``url``
    type); anything else is refused.

    >>> markdown_link("10.1016/S0304-3959(99)00308-5", "https://doi.org/10.1016/S0304-3959(99)00308-5")
    '[10.1016/S0304-3959(99)00308-5](https://doi.org/10.1016/S0304-3959%2899%2900308-5)'
    >>> markdown_link("x", "https://e.org/a)![i](https://e.org/i.png")
    '[x](https://e.org/a%29!%5Bi%5D%28https://e.org/i.png)'
    """
    if not re.match(r"(?i)https?://", address):
        raise ValueError(f"not a web address: {address!r}")
    return f"[{escape_markdown(text)}]({quote(address, safe=_ADDRESS_SAFE)})"


def _renderer():
    import mistune  # a dependency of nbconvert

    class _TextImages(mistune.HTMLRenderer):
        """Markdown images are shown as their text: a page never loads an image from Markdown."""

        def image(self, text: str, url: str, title=None) -> str:
            return text

    return mistune.create_markdown(escape=True, renderer=_TextImages(escape=True),
                                   plugins=["table", "strikethrough"])


def markdown_to_html(text: str) -> str:
    """Render Markdown the library wrote: raw HTML in it escaped, images as their text, links
    to ``javascript:``/``data:`` addresses disabled (mistune's safe-URL rule).

    >>> markdown_to_html("**Bold** <img src=x> ![t](https://example.org/t.png) [a](javascript:x)")
    '<p><strong>Bold</strong> &lt;img src=x&gt; t <a href="#harmful-link">a</a></p>\\n'
    """
    return _renderer()(text)


#: A run of this many characters without a space gets places to break (``<wbr>``).
LONG_RUN = 16
_BREAK_AFTER = re.compile(r"(?<=[/?&=,;:._)\]-])")


def breakable(value) -> str:
    """``value`` escaped for HTML, with a place to break (``<wbr>``) inside every run of more than
    :data:`LONG_RUN` characters without a space: after ``/ ? & = , ; : . _ - ) ]``, else every
    :data:`LONG_RUN` characters. One address or token from the data then cannot widen a table
    past a phone's screen or a printed page; words of ordinary length are never broken.

    >>> breakable("see https://example.org/a/very/long/address?x=1 & <b>")
    'see https://example.<wbr>org/a/very/long/<wbr>address?x=1 &amp; &lt;b&gt;'
    >>> breakable("Noppers 2011")
    'Noppers 2011'
    """
    return "".join(_breakable_run(run) for run in re.split(r"(\s+)", str(value)))


def _breakable_run(run: str) -> str:
    """One run without spaces, escaped, ``<wbr>`` between pieces of at most :data:`LONG_RUN`."""
    if len(run) <= LONG_RUN:
        return escape(run)
    pieces, current = [], ""
    for part in (p[i:i + LONG_RUN] for p in _BREAK_AFTER.split(run) if p for i in range(0, len(p), LONG_RUN)):
        if current and len(current) + len(part) > LONG_RUN:
            pieces.append(current)
            current = ""
        current += part
    return "<wbr>".join(escape(piece) for piece in [*pieces, current])


def styled_table(frame: pd.DataFrame, caption: str = "", *, css_class: str = "reader-table") -> Styler:
    """The one way a table reaches a reader: ``frame`` without its index, every cell, every
    column header and the caption escaped (pandas' ``Styler`` escapes nothing by default).

    Parameters
    ----------
    frame : DataFrame
        The cells as they should read (text already formatted).
    caption : str
        What the table shows; empty: no caption.
    css_class : str
        Class of the ``<table>`` element (the report's stylesheet styles ``reader-table``).

    Examples
    --------
    >>> html_text = styled_table(pd.DataFrame({"Study <i>": ["A <b>x</b> & B"]}), "Rows <u>").to_html()
    >>> "A &lt;b&gt;x&lt;/b&gt; &amp; B" in html_text, "Study &lt;i&gt;" in html_text, "Rows &lt;u&gt;" in html_text
    (True, True, True)
    >>> "<b>" in html_text or "<i>" in html_text or "<u>" in html_text
    False
    """
    styler = (Styler(frame).format(breakable).hide(axis="index")
              .format_index(escape="html", axis=1)
              .set_table_attributes(f'class="{escape(css_class)}"'))
    return styler.set_caption(escape(caption)) if caption else styler
