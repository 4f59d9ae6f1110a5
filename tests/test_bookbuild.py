"""The book build pipeline: cache hits and misses, loud failures, timeouts, profiles, rendering.

These tests build small throw-away books (tiny chapters that import no deep-learning library, so a
kernel starts in about a second) with the real `dlguide-book` MkDocs plugin, in a subprocess, the
way `nox -s docs` does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from bookbuild.chapter import (
    Chapter,
    ChapterError,
    apply_profile,
    chapter_backend,
    rewrite_assignments,
)
from bookbuild.render import clean_stream, render_notebook

HEADER = """\
# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {{n: {fast}}}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""


def chapter_source(title: str, body: str, fast: int = 2) -> str:
    return (
        HEADER.format(fast=fast)
        + f"\n# %% [markdown]\n# # {title}\n#\n# Some prose with math $a^2$.\n\n"
        + '# %% tags=["parameters"]\nn = 10  # full-profile value\n\n'
        + textwrap.dedent(body)
    )


GOOD_BODY = """\
# %%
import mypkg
print(f"n is {n}; mypkg says {mypkg.VALUE}")

# %% caption="A line."
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([0, 1], [0, n])
ax.set_xlabel("x")
ax.set_ylabel("y")
plt.show()
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A two-chapter book with its own importable package `mypkg` and its own cache."""
    (tmp_path / "docs" / "chapters").mkdir(parents=True)
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / "docs" / "index.md").write_text("# Home\n\n[First](chapters/01-first.md)\n")
    (tmp_path / "docs" / "chapters" / "01-first.py").write_text(
        chapter_source("1. First", GOOD_BODY)
    )
    (tmp_path / "docs" / "chapters" / "02-second.py").write_text(
        chapter_source("2. Second", "# %%\nprint('second', n)\n")
    )
    (tmp_path / "mkdocs.yml").write_text(
        textwrap.dedent(
            """\
            site_name: test book
            strict: true
            plugins:
              - dlguide-book:
                  packages: [mypkg]
                  mathml: false
                  timeout: !ENV [DLGUIDE_CELL_TIMEOUT, 60]
                  profile: !ENV [DLGUIDE_PROFILE, fast]
                  backend: !ENV [KERAS_BACKEND, tensorflow]
                  execute: !ENV [DLGUIDE_EXECUTE, true]
            markdown_extensions:
              - attr_list
              - md_in_html
              - admonition
              - pymdownx.details
              - pymdownx.superfences
            nav:
              - index.md
              - chapters/01-first.md
              - chapters/02-second.md
              - status.md
            """
        )
    )
    return tmp_path


def pythonpath(project: Path) -> str:
    """The test book's folder first (for `mypkg`), then whatever the tests themselves run with."""
    return os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH")]))


def build(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_SHA", "DLGUIDE_BUILD_COMMIT")},
        "PYTHONPATH": pythonpath(project),
        "DLGUIDE_PROFILE": "fast",
        "KERAS_BACKEND": "tensorflow",
        "NO_MKDOCS_2_WARNING": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def executed(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return sorted(re.findall(r"executed (chapters/\S+\.py) in", result.stderr))


def test_cache_hits_and_misses(book: Path):
    assert executed(build(book)) == ["chapters/01-first.py", "chapters/02-second.py"]
    warm = build(book)
    assert executed(warm) == []
    assert "all 2 chapters are cached" in warm.stderr

    # Editing one chapter re-executes only that chapter.
    first = book / "docs" / "chapters" / "01-first.py"
    first.write_text(first.read_text() + "\n# %%\nprint('an edit')\n")
    assert executed(build(book)) == ["chapters/01-first.py"]

    # A plain Markdown page executes nothing.
    (book / "docs" / "index.md").write_text("# Home, edited\n\n[First](chapters/01-first.md)\n")
    assert executed(build(book)) == []

    # The imported package's source is part of the key: every chapter re-executes.
    (book / "mypkg" / "__init__.py").write_text("VALUE = 2\n")
    assert executed(build(book)) == ["chapters/01-first.py", "chapters/02-second.py"]
    page = (book / "site" / "chapters" / "01-first" / "index.html").read_text()
    assert "mypkg says 2" in page

    # So are the profile and the backend; each keeps its own entry, so switching back is a hit.
    assert executed(build(book, DLGUIDE_PROFILE="full")) == [
        "chapters/01-first.py",
        "chapters/02-second.py",
    ]
    assert executed(build(book, KERAS_BACKEND="jax")) == [
        "chapters/01-first.py",
        "chapters/02-second.py",
    ]
    assert executed(build(book)) == []


def test_prose_edit_rerenders_without_executing_and_code_edit_reexecutes(book: Path):
    assert executed(build(book)) == ["chapters/01-first.py", "chapters/02-second.py"]
    first = book / "docs" / "chapters" / "01-first.py"
    page = book / "site" / "chapters" / "01-first" / "index.html"
    original = first.read_text()

    # Prose (a Markdown cell) and display metadata (a caption) are not part of the cache key:
    # the page is re-rendered from the cached outputs with the new text.
    edited = original.replace("Some prose with math", "Freshly edited prose with math").replace(
        'caption="A line."', 'caption="A straight line."'
    )
    first.write_text(edited + "\n# %% [markdown]\n# A closing paragraph added later.\n")
    assert executed(build(book)) == []
    html = page.read_text()
    assert "Freshly edited prose with math" in html and "Some prose" not in html
    assert "A closing paragraph added later." in html
    assert "<figcaption>A straight line.</figcaption>" in html
    assert "n is 2; mypkg says 1" in html  # the cached outputs are still there
    notebook = nbformat.read(book / "site" / "chapters" / "01-first.ipynb", as_version=4)
    assert "Freshly edited prose" in notebook.cells[0].source  # the download has the new prose

    # A code cell is: editing one re-executes that chapter, and only it.
    first.write_text(first.read_text().replace('print(f"n is {n};', 'print(f"now n is {n};'))
    assert executed(build(book)) == ["chapters/01-first.py"]
    assert "now n is 2; mypkg says 1" in page.read_text()

    # So are the profile's values written into the parameters cell.
    first.write_text(first.read_text().replace("fast: {n: 2}", "fast: {n: 3}"))
    assert executed(build(book)) == ["chapters/01-first.py"]
    assert "now n is 3" in page.read_text()


def test_chapters_executed_in_separate_cache_folders_merge_into_a_build_that_executes_nothing(
    book: Path, tmp_path_factory: pytest.TempPathFactory
):
    """Sharded execution: each chapter runs in its own process, project copy and cache folder
    (as on separate machines); the merged folders serve a build with zero executions."""
    shards = []
    for chapter in ("01-first", "02-second"):
        machine = tmp_path_factory.mktemp(f"machine-{chapter}")
        checkout = machine / "checkout"  # a different absolute path for each "machine"
        shutil.copytree(book, checkout)
        result = subprocess.run(
            [
                sys.executable, "-m", "bookbuild", "execute", f"docs/chapters/{chapter}.py",
                "--profile", "fast", "--backend", "tensorflow", "--packages", "mypkg",
                "--cache-dir", str(machine / "cache"), "--export", str(machine / "shard"),
            ],
            cwd=checkout,
            env={**os.environ, "PYTHONPATH": pythonpath(checkout)},
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"executed chapters/{chapter}.py in" in result.stdout
        shards.append(machine / "shard")
    for shard in shards:  # what download-artifact with merge-multiple does
        shutil.copytree(shard, book / ".cache" / "dlguide-book", dirs_exist_ok=True)
    merged = build(book, DLGUIDE_EXECUTE="false")
    assert executed(merged) == []
    assert "all 2 chapters are cached" in merged.stderr
    page = (book / "site" / "chapters" / "01-first" / "index.html").read_text()
    assert "n is 2; mypkg says 1" in page
    # Executing again into a filled cache is a hit, not a run.
    again = subprocess.run(
        [sys.executable, "-m", "bookbuild", "execute", "docs/chapters/01-first.py",
         "--profile", "fast", "--backend", "tensorflow", "--packages", "mypkg",
         "--cache-dir", ".cache/dlguide-book"],
        cwd=book, env={**os.environ, "PYTHONPATH": pythonpath(book)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0 and "chapters/01-first.py: cached" in again.stdout, again.stderr


def test_with_execute_off_a_cache_miss_fails_the_build(book: Path):
    result = build(book, DLGUIDE_EXECUTE="false")
    assert result.returncode != 0
    assert "2 chapter(s) are not in the cache and execute is off" in result.stderr
    assert "chapters/01-first.py, chapters/02-second.py" in result.stderr


def pinned_chapter(title: str, backend: str) -> str:
    """A chapter whose header pins its Keras backend; it prints the backend its kernel got."""
    body = "# %%\nimport os\nprint('kernel backend', os.environ['KERAS_BACKEND'])\n"
    return chapter_source(title, body).replace(
        "#     profiles:", f"#     backend: {backend}\n#     profiles:"
    )


def test_a_chapter_pinned_to_a_backend_runs_on_it_whatever_the_books_backend(book: Path):
    (book / "docs" / "chapters" / "03-pinned.py").write_text(
        pinned_chapter("3. Pinned", "tensorflow")
    )
    (book / "docs" / "chapters" / "02-second.py").write_text(
        chapter_source(
            "2. Second", "# %%\nimport os\nprint('kernel', os.environ['KERAS_BACKEND'])\n"
        )
    )
    result = build(book, KERAS_BACKEND="jax")
    assert executed(result) == [
        "chapters/01-first.py",
        "chapters/02-second.py",
        "chapters/03-pinned.py",
    ]
    site = book / "site" / "chapters"
    pinned = (site / "03-pinned" / "index.html").read_text()
    assert "kernel backend tensorflow" in pinned
    assert "Run stamp: fast profile · tensorflow ·" in pinned
    assert "tensorflow (set by the chapter)" in pinned
    assert "kernel jax" in (site / "02-second" / "index.html").read_text()  # the book's backend
    notebook = nbformat.read(site / "03-pinned.ipynb", as_version=4)
    assert notebook.metadata["dlguide"]["run"]["backend"] == "tensorflow"
    # The cache key and folder use the backend the chapter ran on: a TensorFlow build of the
    # book finds the pinned chapter's entry, and executes only the chapters that follow the book.
    cache = book / ".cache" / "dlguide-book"
    assert [p.parent.name for p in (cache / "fast-tensorflow").glob("*/*.ipynb")] == ["03-pinned"]
    assert executed(build(book)) == ["chapters/01-first.py", "chapters/02-second.py"]
    assert executed(build(book, KERAS_BACKEND="jax")) == []
    # `python -m bookbuild execute` (one shard of the deploy) agrees on the backend and the key.
    shard = subprocess.run(
        [sys.executable, "-m", "bookbuild", "execute", "docs/chapters/03-pinned.py",
         "--profile", "fast", "--backend", "jax", "--packages", "mypkg",
         "--cache-dir", ".cache/dlguide-book", "-o", str(book / "pinned.ipynb")],
        cwd=book, env={**os.environ, "PYTHONPATH": pythonpath(book)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert shard.returncode == 0, shard.stderr
    assert "chapters/03-pinned.py: cached (fast-tensorflow/03-pinned/" in shard.stdout


def test_a_bad_backend_pin_fails_naming_the_chapter(book: Path):
    (book / "docs" / "chapters" / "03-pinned.py").write_text(
        pinned_chapter("3. Pinned", "tensorflo")
    )
    expected = (
        "chapters/03-pinned.py: 'dlguide: backend' in the header must be one of tensorflow, "
        "jax, torch, got 'tensorflo'"
    )
    result = build(book)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "executed chapters/" not in result.stderr  # it fails before executing anything
    shard = subprocess.run(
        [sys.executable, "-m", "bookbuild", "execute", "docs/chapters/03-pinned.py",
         "--profile", "fast", "--backend", "jax"],
        cwd=book, env={**os.environ, "PYTHONPATH": pythonpath(book)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert shard.returncode == 1 and expected in shard.stderr


def test_chapter_backend_is_the_books_unless_the_header_pins_one():
    nb = nbformat.v4.new_notebook(metadata={"dlguide": {"profiles": {"fast": {"n": 1}}}})
    assert chapter_backend(nb, "jax", "ch") == "jax"
    nb.metadata["dlguide"]["backend"] = "tensorflow"
    assert chapter_backend(nb, "jax", "ch") == "tensorflow"


@pytest.mark.parametrize(
    "pin",
    [
        pytest.param("TensorFlow", id="capitalised"),
        pytest.param("pytorch", id="not-keras-name"),
        pytest.param("", id="empty"),
        pytest.param(None, id="key-without-value"),
        pytest.param(["jax"], id="list"),
    ],
)
def test_chapter_backend_rejects_a_bad_pin(pin: object):
    nb = nbformat.v4.new_notebook(metadata={"dlguide": {"backend": pin}})
    with pytest.raises(ChapterError, match=r"^ch: 'dlguide: backend' in the header must be one of"):
        chapter_backend(nb, "jax", "ch")


def test_plan_deals_every_chapter_into_shards(tmp_path: Path):
    from bookbuild.__main__ import plan

    for name in ("01-a.py", "02-b.py", "03-c.py", "_draft.py", "notes.md"):
        (tmp_path / name).write_text("")
    chapters = [(tmp_path / n).as_posix() for n in ("01-a.py", "02-b.py", "03-c.py")]
    assert plan(tmp_path, 2) == [[chapters[0], chapters[2]], [chapters[1]]]
    assert plan(tmp_path, 10) == [[c] for c in chapters]
    assert plan(tmp_path, 1) == [chapters]
    with pytest.raises(ValueError, match="shards must be at least 1, got 0"):
        plan(tmp_path, 0)


def test_notebooks_install_the_build_commit_and_colab_links_resolve_on_gh_pages(book: Path):
    config = book / "mkdocs.yml"
    text = config.read_text().replace(
        "packages: [mypkg]", "packages: [mypkg]\n      colab_branch: gh-pages"
    )
    config.write_text("repo_url: https://github.com/someone/thebook\n" + text)
    commit = "0123456789abcdef0123456789abcdef01234567"
    assert executed(build(book, DLGUIDE_BUILD_COMMIT=commit)) == [
        "chapters/01-first.py",
        "chapters/02-second.py",
    ]
    site = book / "site"
    for stem in ("01-first", "02-second"):
        notebook = nbformat.read(site / "chapters" / f"{stem}.ipynb", as_version=4)
        install = next(cell for cell in notebook.cells if cell.cell_type == "code").source
        assert f'"dlguide @ git+https://github.com/someone/thebook@{commit}"' in install
        # The deploy publishes site/ as the gh-pages branch: the Colab link's path on that branch
        # must be a notebook of the built site.
        page = (site / "chapters" / stem / "index.html").read_text()
        colab = re.search(r'href="https://colab\.research\.google\.com/github/([^"]+)"', page)
        assert colab, f"{stem}: no Colab link"
        owner, repo, blob, branch, path = colab.group(1).split("/", 4)
        assert (owner, repo, blob, branch) == ("someone", "thebook", "blob", "gh-pages")
        assert (site / path).is_file(), f"{stem}: Colab link to {path} does not resolve"
    # The build commit is not part of the execution cache key.
    other = "fedcba9876543210fedcba9876543210fedcba98"
    assert executed(build(book, DLGUIDE_BUILD_COMMIT=other)) == []
    notebook = nbformat.read(site / "chapters" / "01-first.ipynb", as_version=4)
    assert other in next(cell for cell in notebook.cells if cell.cell_type == "code").source


def test_memoised_search_index_and_notebooks_are_the_same_build_after_build(book: Path):
    """bookbuild.speedups: the second build takes the search entries from the memo file and
    produces the same index; downloaded notebooks are byte-identical from build to build."""
    config = book / "mkdocs.yml"
    config.write_text(
        "theme:\n  name: material\n  font: false\n"
        + config.read_text().replace("plugins:\n", "plugins:\n  - search\n")
    )
    assert executed(build(book)) == ["chapters/01-first.py", "chapters/02-second.py"]
    site = book / "site"
    memo_file = book / ".cache" / "dlguide-book" / "memo.json"
    builds = []
    for fresh in (False, False, True):  # the last one without the memo file: computed afresh
        if fresh:
            memo_file.unlink()
        assert executed(build(book)) == []
        builds.append(
            (
                (site / "search" / "search_index.json").read_text(),
                (site / "chapters" / "01-first.ipynb").read_bytes(),
            )
        )
    memo = json.loads(memo_file.read_text())
    assert sum(key.startswith("search:") for key in memo["entries"]) >= 4  # one per page
    assert builds[0] == builds[1] == builds[2]
    first_index = builds[0][0]
    assert "Some prose with math" in first_index


def test_rendered_page_has_outputs_figure_stamp_and_download(book: Path):
    result = build(book)
    assert result.returncode == 0, result.stderr
    site = book / "site"
    page = (site / "chapters" / "01-first" / "index.html").read_text()
    assert "n is 2; mypkg says 1" in page  # fast profile: n overridden from 10 to 2
    assert "Run stamp: fast profile · tensorflow" in page
    assert "Parameters of the fast profile" in page
    figure = re.search(r'<img alt="A line\." src="([^"]+)"', page)
    assert figure, "the figure with its caption as alt text is on the page"
    assert (site / "chapters" / "01-first" / figure.group(1)).resolve().read_bytes()[:4] == (
        b"\x89PNG"
    )
    assert "<figcaption>A line.</figcaption>" in page
    notebook = nbformat.read(site / "chapters" / "01-first.ipynb", as_version=4)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any("n is 2" in o.get("text", "") for o in outputs)
    assert not any("dlguide-stamp" in c.metadata.get("tags", []) for c in notebook.cells)
    status = (site / "status" / "index.html").read_text()
    assert "1. First" in status and "2. Second" in status and "Total execution time" in status


def test_solution_cells_render_folded_with_their_code_and_outputs(tmp_path: Path):
    import markdown

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 1. First\n\n**Exercise 1.** Add two and two."),
        nbformat.v4.new_code_cell(
            "answer = 2 + 2\nassert answer == 4\nprint(answer)",
            metadata={"tags": ["solution"]},
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="4\n")],
        ),
        nbformat.v4.new_code_cell(
            "print('shown')",
            metadata={"tags": ["solution"], "title": "Solution to exercise 2"},
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="shown\n")],
        ),
    ]
    chapter = Chapter(path=tmp_path / "01-first.py", src_uri="chapters/01-first.py")
    page = render_notebook(nb, chapter, status="executed").markdown
    assert '??? success "Solution"\n\n    ```python\n    answer = 2 + 2' in page
    assert '??? success "Solution to exercise 2"' in page
    html = markdown.markdown(
        page, extensions=["admonition", "pymdownx.details", "pymdownx.superfences"]
    )
    folded = re.findall(r"<details class=\"success\">(.*?)</details>", html, flags=re.S)
    assert len(folded) == 2
    text = [re.sub(r"<[^>]+>", "", block) for block in folded]
    assert "answer = 2 + 2" in text[0] and "\n4\n" in text[0]  # code and its output, folded
    assert "shown" in text[1]


def test_failing_cell_fails_the_build_and_names_chapter_cell_and_error(book: Path):
    bad = chapter_source("3. Bad", "# %%\nx = 1\nprint(f'accuracy {x / 4}')\n\n# %%\ny = 1 / 0\n")
    (book / "docs" / "chapters" / "03-bad.py").write_text(bad)
    result = build(book)
    assert result.returncode != 0
    line = bad.splitlines().index("y = 1 / 0") + 1
    assert f"chapter chapters/03-bad.py failed in code cell 3 of 3 (line {line} of" in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr
    assert "y = 1 / 0" in result.stderr
    # What the chapter printed just before tells the author the numbers a bare assert hides.
    assert "last printed, by code cell 2:\n    accuracy 0.25" in result.stderr
    # The good chapters executed in the same run are cached all the same.
    (book / "docs" / "chapters" / "03-bad.py").unlink()
    assert executed(build(book)) == []


def test_hung_cell_hits_the_timeout(book: Path):
    (book / "docs" / "chapters" / "03-slow.py").write_text(
        chapter_source("3. Slow", "# %%\nimport time\ntime.sleep(120)\n")
    )
    started = time.monotonic()
    result = build(book, DLGUIDE_CELL_TIMEOUT="3")
    assert result.returncode != 0
    assert time.monotonic() - started < 90
    assert "chapter chapters/03-slow.py failed in code cell 2 of 2" in result.stderr
    assert "exceeded the cell timeout of 3 s" in result.stderr


def test_profile_override_of_an_unknown_name_is_an_error(book: Path):
    source = chapter_source("3. Typo", "# %%\nprint(n)\n").replace("{n: 2}", "{epochs: 2}")
    (book / "docs" / "chapters" / "03-typo.py").write_text(source)
    result = build(book)
    assert result.returncode != 0
    assert "the profile overrides ['epochs'], but the parameters cell assigns only ['n']" in (
        result.stderr
    )


def test_rewrite_assignments_keeps_comments_and_layout():
    source = "epochs = 100  # full value\nlr: float = 0.1\nsizes = [\n    64,\n    32,\n]\n"
    rewritten = rewrite_assignments(source, {"epochs": 3, "sizes": [8]}, "ch")
    assert rewritten == "epochs = 3  # full value\nlr: float = 0.1\nsizes = [8]\n"
    with pytest.raises(ChapterError, match=r"overrides \['missing'\]"):
        rewrite_assignments(source, {"missing": 1}, "ch")


def test_apply_profile_rejects_unknown_profiles_and_two_parameter_cells():
    nb = nbformat.v4.new_notebook(metadata={"dlguide": {"profiles": {"fast": {"n": 1}}}})
    nb.cells = [nbformat.v4.new_code_cell("n = 5", metadata={"tags": ["parameters"]})]
    rewritten, overrides = apply_profile(nb, "fast", "ch")
    assert rewritten.cells[0].source == "n = 1" and overrides == {"n": 1}
    assert nb.cells[0].source == "n = 5"  # the input notebook is not modified
    assert apply_profile(nb, "full", "ch")[0].cells[0].source == "n = 5"
    with pytest.raises(ChapterError, match="unknown profile 'huge'"):
        apply_profile(nb, "huge", "ch")
    nb.cells.append(nbformat.v4.new_code_cell("m = 1", metadata={"tags": ["parameters"]}))
    with pytest.raises(ChapterError, match="2 cells are tagged 'parameters'"):
        apply_profile(nb, "fast", "ch")


def test_clean_stream_applies_carriage_returns_backspaces_and_drops_ansi():
    assert clean_stream("10%\r50%\r100%\n") == "100%\n"
    assert clean_stream("abc\b\bX\n") == "aX\n"
    assert clean_stream("\x1b[1m\x1b[31mred\x1b[0m") == "red"


#: What `nox -s serve` runs (noxfile.py, SERVE_OPTIONS).
SERVE = [sys.executable, "-m", "mkdocs", "serve", "--dirty", "--no-strict"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_rebuilds_once_per_edit_and_reexecutes_only_the_edited_chapter(book: Path):
    """As `nox -s serve` runs it (`--dirty --no-strict`): a code edit re-executes that chapter, a
    prose edit executes nothing, and the served page shows each edit."""
    assert executed(build(book)) == ["chapters/01-first.py", "chapters/02-second.py"]
    log = book / "serve.log"
    env = {**os.environ, "PYTHONPATH": pythonpath(book), "DLGUIDE_PROFILE": "fast"}
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [*SERVE, "-a", f"127.0.0.1:{port}"],
            cwd=book,
            env={**env, "KERAS_BACKEND": "tensorflow", "NO_MKDOCS_2_WARNING": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(pattern: str, count: int, limit: float = 120) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            text = log.read_text()
            if len(re.findall(pattern, text)) >= count:
                return text
            if server.poll() is not None:
                pytest.fail(f"mkdocs serve exited:\n{text}")
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {pattern!r} x{count}:\n{log.read_text()}")

    try:
        wait_for(r"Serving on", 1)
        assert "all 2 chapters are cached" in log.read_text()
        second = book / "docs" / "chapters" / "02-second.py"
        second.write_text(second.read_text() + "\n# %%\nprint('edited while serving')\n")
        wait_for(r"Documentation built in", 2)
        time.sleep(8)  # a build that wrote into a watched folder would trigger another one here
        text = log.read_text()
        assert len(re.findall(r"Documentation built in", text)) == 2, text
        assert re.findall(r"executed (chapters/\S+) in", text) == ["chapters/02-second.py"]
        page = f"http://127.0.0.1:{port}/chapters/02-second/"
        assert "edited while serving" in urllib.request.urlopen(page).read().decode()

        second.write_text(second.read_text().replace("Some prose", "Prose edited while serving"))
        wait_for(r"Documentation built in", 3)
        assert re.findall(r"executed (chapters/\S+) in", log.read_text()) == [
            "chapters/02-second.py"
        ]
        assert "Prose edited while serving" in urllib.request.urlopen(page).read().decode()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)


def test_chapter_sources_in_the_book_declare_valid_profiles():
    root = Path(__file__).resolve().parents[1]
    chapters = sorted((root / "docs" / "chapters").glob("*.py"))
    assert chapters, "the book has chapters"
    for path in chapters:
        from bookbuild.chapter import Chapter

        chapter = Chapter(path=path, src_uri=f"chapters/{path.name}")
        nb = chapter.read()
        for profile in ("fast", "full"):
            apply_profile(nb, profile, chapter.src_uri)  # raises on any inconsistency
        chapter_backend(nb, "jax", chapter.src_uri)  # a pinned backend must be a known one
        assert re.match(r"#\s+\d+\.\s+\S", nb.cells[0].source), f"{path.name}: '# N. Title' first"
        json.dumps(nb.metadata)  # metadata must be plain data


@pytest.mark.parametrize(
    ("jobs", "cores", "threads"),
    [
        pytest.param(2, 2, "1", id="two-chapters-on-two-cores"),
        pytest.param(4, 2, "1", id="more-chapters-than-cores"),
        pytest.param(2, 16, "8", id="two-chapters-on-sixteen-cores"),
    ],
)
def test_parallel_kernels_share_the_cores(
    monkeypatch: pytest.MonkeyPatch, jobs: int, cores: int, threads: str
) -> None:
    from bookbuild.execute import THREAD_VARIABLES, thread_limits

    for name in (*THREAD_VARIABLES, "XLA_FLAGS"):
        monkeypatch.delenv(name, raising=False)
    env = thread_limits(jobs, cores)
    assert [env[name] for name in THREAD_VARIABLES] == [threads] * len(THREAD_VARIABLES)
    assert ("intra_op_parallelism_threads=1" in env.get("XLA_FLAGS", "")) == (threads == "1")


def test_thread_limits_leave_one_job_and_the_users_settings_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bookbuild.execute import thread_limits

    assert thread_limits(1, 2) == {}
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
    env = thread_limits(2, 2)
    assert "OPENBLAS_NUM_THREADS" not in env and env["OMP_NUM_THREADS"] == "1"
    assert env["XLA_FLAGS"].startswith("--xla_force_host_platform_device_count=4 --xla_cpu")
