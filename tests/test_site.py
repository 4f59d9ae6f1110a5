"""Checks on the HTML of a strict build of the real book (the `site` fixture of conftest.py).

The build shares the project's execution cache (`.cache/dlguide-book`), so after `nox -s docs` it
only renders; on a clean clone it executes every chapter once. tests/test_browser.py opens the same
build in a browser.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "docs" / "chapters").glob("[0-9]*.py"))

pytestmark = pytest.mark.slow


def html(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / page / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_every_chapter_page_has_stamp_outputs_and_download(site: Path):
    assert CHAPTERS, "the book has chapters"
    for stem in CHAPTERS:
        soup = html(site, f"chapters/{stem}")
        article = soup.find("article")
        summary = article.find("summary")
        assert summary is not None and summary.get_text().startswith("Run stamp: fast profile")
        stamp = summary.find_parent("details").get_text(" ")
        for field in ("Executed", "Device", "Execution time", "Python", "Keras", "TensorFlow"):
            assert field in stamp, f"{stem}: run stamp lacks {field}"
        assert article.select(".nb-output"), f"{stem}: no cell output on the page"
        download = article.find("a", href=f"../{stem}.ipynb")
        assert download is not None, f"{stem}: no notebook download link"
        nb = nbformat.read(site / "chapters" / f"{stem}.ipynb", as_version=4)
        assert any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
        install = next(cell for cell in nb.cells if cell.cell_type == "code")
        assert '%pip install --quiet "dlguide @ git+https://github.com/' in install.source
        assert soup.find("a", href=re.compile(r"^https://colab\.research\.google\.com/github/"))


def test_chapter_one_shows_the_worked_example_and_its_figure(site: Path):
    article = html(site, "chapters/01-neurons").find("article")
    text = article.get_text(" ")
    assert "output = 0.7159" in text
    assert "hand (math)" in text and "Keras Dense" in text  # the comparison table
    figure = article.find("figure")
    img = figure.find("img")
    assert img["alt"].startswith("A 5-3-2-3-1 fully connected network")
    assert (site / "chapters" / "01-neurons" / img["src"]).resolve().read_bytes()[:4] == b"\x89PNG"
    assert figure.find("figcaption") is not None
    assert article.select("span.arithmatex > math, div.arithmatex > math"), "math is MathML"


def test_api_page_documents_the_public_functions(site: Path):
    soup = html(site, "api/neurons")
    ids = {tag.get("id") for tag in soup.find_all(id=True)}
    for name in (
        "dense",
        "init_network",
        "initialize_network",
        "forward_propagate",
    ):
        assert f"dlguide.neurons.{name}" in ids, f"API page lacks {name}"
    assert soup.select(".doc-contents .arithmatex > math"), "docstring formulas are MathML"


@functools.cache
def ids_of(page: Path) -> frozenset[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return frozenset(tag["id"] for tag in soup.find_all(id=True))


def test_chapters_link_to_the_api_and_links_resolve(site: Path):
    chapter = html(site, "chapters/01-neurons")
    hrefs = [a["href"] for a in chapter.find_all("a", href=True)]
    assert any("api/neurons/#dlguide.neurons.forward_propagate" in h for h in hrefs)
    # Every internal link and anchor of every page resolves (htmlproofer checks the same in the
    # build; this is an independent check on the output).
    for page in site.rglob("*.html"):
        if page.name == "404.html":  # served at any depth, so it links by absolute site URL
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        base = "/" + page.relative_to(site).as_posix()
        for tag in soup.find_all(["a", "img", "script", "link"]):
            url = tag.get("href") or tag.get("src")
            if not url or urlparse(url).scheme or url.startswith(("mailto:", "//")):
                continue
            target = urlparse(urljoin(base, url))
            path = site / target.path.lstrip("/")
            if target.path.endswith("/") or path.is_dir():
                path = path / "index.html"
            assert path.is_file(), f"{base}: broken link {url}"
            if target.fragment and path.suffix == ".html":
                assert target.fragment in ids_of(path), f"{base}: broken anchor {url}"


def test_site_makes_no_request_to_a_cdn_or_font_server(site: Path):
    for page in site.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["script", "link", "img", "iframe"]):
            url = tag.get("src") or (tag.get("href") if tag.name == "link" else None)
            if url and tag.name == "link" and "stylesheet" not in (tag.get("rel") or []):
                continue
            assert not (url and urlparse(url).scheme in ("http", "https")), f"{page}: loads {url}"
    assert not list(site.rglob("*mathjax*")), "math is MathML rendered at build time: no engine"


def test_status_page_lists_every_chapter(site: Path):
    text = html(site, "status").get_text(" ")
    for stem in CHAPTERS:
        title = html(site, f"chapters/{stem}").find("h1").get_text().strip(" ¶")
        assert title in text, f"status page lacks {title}"
    assert "Total execution time" in text
