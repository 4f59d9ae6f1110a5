"""Math rendered at build time: LaTeX becomes MathML Core, which browsers lay out natively.

`pymdownx.arithmatex` (generic mode) marks every formula of a page, in chapters and in the
docstrings mkdocstrings renders alike, as `<span class="arithmatex">\\(…\\)</span>` or
`<div class="arithmatex">\\[…\\]</div>`. [`render_math`][bookbuild.mathml.render_math] converts
each one to MathML with the `math-core` package, so a page loads no math engine at all and a
formula that does not parse fails the build instead of showing an error box to readers.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
_DELIMITERS = (("\\(", "\\)"), ("\\[", "\\]"))
# Two `$$…$$` lines with no blank line between them reach us as one block holding `$$ $$`: they
# are two display formulas, one under the other.
_ADJACENT_DISPLAYS = re.compile(r"\$\$\s*\$\$")


class MathError(ValueError):
    """A formula that the converter could not turn into MathML."""


@cache
def _converter() -> Any:
    from math_core import LatexToMathML

    return LatexToMathML(fancy_error=False)


def latex_of(body: str) -> str:
    """The LaTeX of an arithmatex element: entities decoded, `\\(…\\)` or `\\[…\\]` dropped."""
    tex = html.unescape(body).strip()
    for opening, closing in _DELIMITERS:
        if tex.startswith(opening) and tex.endswith(closing):
            return tex[len(opening) : -len(closing)].strip()
    return tex


def to_mathml(tex: str, *, display: bool) -> str:
    """One formula as a `<math>` element (`display="block"` for display math).

    Raises:
        MathError: If the formula does not parse; the message quotes it.
    """
    from math_core import LatexError

    try:
        return str(_converter().convert_with_local_state(tex, displaystyle=display))
    except LatexError as error:
        raise MathError(f"cannot render the formula {tex!r} as MathML: {error}") from error


def render_math(page_html: str) -> tuple[str, int]:
    """Replace every arithmatex formula of a page's HTML by MathML.

    Returns:
        The new HTML and the number of formulas converted.

    Raises:
        MathError: If a formula does not parse.

    Examples:
        >>> render_math('<p><span class="arithmatex">\\\\(x^2\\\\)</span></p>')
        ('<p><span class="arithmatex"><math><msup><mi>x</mi><mn>2</mn></msup></math></span></p>', 1)
    """
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        tag, body = match.groups()
        count += 1
        if tag == "span":
            mathml = to_mathml(latex_of(body), display=False)
        else:
            parts = _ADJACENT_DISPLAYS.split(latex_of(body))
            mathml = "".join(to_mathml(part.strip(), display=True) for part in parts)
        if tag == "div":  # a wide display formula scrolls: focusable, so keyboards can scroll it
            return f'<div class="arithmatex" tabindex="0">{mathml}</div>'
        return f'<span class="arithmatex">{mathml}</span>'

    return _ARITHMATEX.sub(replace, page_html), count
