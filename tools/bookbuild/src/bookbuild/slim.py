"""Lighter HTML for every page, with nothing a reader can see removed.

Two kinds of bytes go: Pygments' wrappers of names, whitespace, punctuation and operators
(`<span class="n|w|p|o">`: the theme colours names like the rest of the code and whitespace not at
all, and punctuation and operators are drawn in the code colour too, so they need no wrapper; these
are two thirds of a code block's tokens), and the indentation of the theme's
templates outside `<pre>` (a line break and its indentation render as one space, like a line
break alone).
"""

from __future__ import annotations

import re

_PLAIN_TOKEN = re.compile(r'<span class="[nwpo]">([^<]*)</span>')
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.S | re.I)
_INDENT = re.compile(r"\n[ \t\r\n]+")


def slim_html(page_html: str) -> str:
    """The page without no-op code spans and template indentation (`<pre>` kept byte for byte).

    Examples:
        >>> slim_html('<p>\\n    x</p><pre><code><span class="n">a</span>\\n  b</code></pre>')
        '<p>\\nx</p><pre><code>a\\n  b</code></pre>'
    """
    page_html = _PLAIN_TOKEN.sub(r"\1", page_html)
    parts = _PRE.split(page_html)
    return "".join(
        part if index % 2 else _INDENT.sub("\n", part) for index, part in enumerate(parts)
    )
