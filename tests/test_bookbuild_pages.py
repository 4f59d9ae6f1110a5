"""The page-level steps of the book build: math to MathML, the problem-report link, lighter HTML."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import markdown
import pytest
from bookbuild.mathml import MathError, latex_of, render_math
from bookbuild.render import stamp_rows
from bookbuild.report import new_issue_url, report_link
from bookbuild.slim import slim_html


def arithmatex(text: str) -> str:
    return markdown.markdown(
        text,
        extensions=["pymdownx.arithmatex"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )


def test_inline_and_display_math_become_mathml():
    page = arithmatex(r"A sum $a_i < b$ and" + "\n\n$$\n\\frac{1}{n} \\sum_i x_i\n$$\n")
    out, count = render_math(page)
    assert count == 2
    assert '<span class="arithmatex"><math><msub><mi>a</mi><mi>i</mi></msub><mo>&lt;</mo>' in out
    assert '<div class="arithmatex" tabindex="0"><math display="block"><mfrac>' in out
    assert "\\(" not in out and "$" not in out


def test_two_display_formulas_on_adjacent_lines_render_as_two():
    page = arithmatex("$$ a = 1 $$\n$$ b = 2 $$\n")
    out, count = render_math(page)
    assert count == 1 and out.count('<math display="block">') == 2


@pytest.mark.parametrize(
    ("body", "latex"),
    [
        pytest.param("\\(x &amp; y\\)", "x & y", id="inline-entities"),
        pytest.param("\\[\n a \\]", "a", id="display"),
        pytest.param(
            "\\begin{aligned}a\\end{aligned}", "\\begin{aligned}a\\end{aligned}", id="env"
        ),
    ],
)
def test_latex_of_strips_delimiters_and_entities(body: str, latex: str):
    assert latex_of(body) == latex


def test_a_formula_that_does_not_parse_fails_naming_it():
    with pytest.raises(MathError, match=r"\\frac\{1"):
        render_math(arithmatex(r"Broken $\frac{1$ here."))


def test_report_link_prefills_a_new_issue_with_the_run_stamp():
    run = {
        "profile": "fast",
        "backend": "jax",
        "seconds": 12.3,
        "executed_at": "2026-01-02T03:04:05+00:00",
        "environment": {"device": "CPU (x)", "python": "3.11.7", "keras": "3.15.1"},
    }
    rows = stamp_rows(run, "cached", "abc123")
    assert ("Commit", "abc123") in rows and ("Keras backend", "jax") in rows
    base = new_issue_url("https://github.com/owner/repo.git")
    assert base == "https://github.com/owner/repo/issues/new"
    url = urlparse(report_link(base, title="1. Neurons", page="chapters/01/", stamp_rows=rows))
    query = parse_qs(url.query)
    assert query["title"] == ["Problem on page 1. Neurons (chapters/01)"]
    body = query["body"][0]
    for line in ("| Commit | abc123 |", "| Profile | fast |", "| Device | CPU (x) |"):
        assert line in body
    assert "(" not in url.query and " " not in url.query  # safe inside a Markdown link


@pytest.mark.parametrize(
    "repo_url",
    [
        pytest.param(None, id="none"),
        pytest.param("https://gitlab.com/o/r", id="not-github"),
        pytest.param("https://github.com/o", id="no-repo"),
    ],
)
def test_no_report_link_without_a_github_repository(repo_url: str | None):
    assert new_issue_url(repo_url) is None


def test_slim_html_keeps_pre_blocks_and_drops_only_invisible_bytes():
    page = (
        "<div>\n    <p>a\n      b</p>\n</div>\n"
        '<pre><code><span class="n">x</span> <span class="o">=</span>\n'
        '    <span class="w"> </span>1</code></pre>'
    )
    assert slim_html(page) == ("<div>\n<p>a\nb</p>\n</div>\n<pre><code>x =\n     1</code></pre>")
