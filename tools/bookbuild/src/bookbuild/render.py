"""Rendering an executed notebook as a Markdown page that MkDocs Material styles natively.

Markdown cells pass through (so math, admonitions, cross-references and links are handled by the
site's own Markdown extensions and checked by `mkdocs build --strict`); code cells become fenced
Python blocks; outputs become text blocks, tables and figure files. No notebook CSS is needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import nbformat

from .chapter import PARAMETERS_TAG, Chapter
from .execute import STAMP_MIME, STAMP_TAG
from .report import report_link

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HIDE_CELL = {"remove-cell", "remove_cell", STAMP_TAG}
_HIDE_INPUT = {"remove-input", "remove_input"}
_HIDE_OUTPUT = {"remove-output", "remove_output"}
#: A code cell tagged `solution` is an exercise's solution: the build executes it like any other
#: cell (its assertions are part of the chapter), and the page shows it folded, input and outputs.
SOLUTION_TAG = "solution"


@dataclass
class RenderedChapter:
    """A chapter page: its Markdown and the files it refers to (figures), by site path."""

    markdown: str
    title: str
    assets: dict[str, bytes] = field(default_factory=dict)


def clean_stream(text: str) -> str:
    """Terminal text as it would look on screen: ANSI codes dropped, `\\r` and `\\b` applied."""
    text = _ANSI.sub("", text)
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            parts = [part for part in line.split("\r") if part]
            line = parts[-1] if parts else ""
        kept: list[str] = []
        for char in line:
            if char == "\b":
                if kept:
                    kept.pop()
            else:
                kept.append(char)
        lines.append("".join(kept))
    return "\n".join(lines)


def _fence(text: str, lang: str, classes: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    attrs = f"{{ .{lang}{' ' + classes if classes else ''} }}" if classes else lang
    return f"{ticks}{attrs}\n{text.rstrip()}\n{ticks}"


def _html_block(markup: str) -> str:
    # A raw HTML block ends at the first blank line: remove blank lines and scoped styles.
    markup = re.sub(r"<style[^>]*>.*?</style>", "", markup, flags=re.S)
    markup = "\n".join(line for line in markup.splitlines() if line.strip())
    return f'<div class="nb-output nb-html" tabindex="0">\n{markup}\n</div>'


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.M)
            if match:
                return match.group(1)
            break
    return fallback


def format_time(iso: str) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM UTC` (unchanged if it does not parse)."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def stamp_rows(
    run: dict[str, Any], status: str, commit: str | None = None
) -> list[tuple[str, str]]:
    """The run stamp as (name, value) rows: the execution's environment and the build's commit."""
    env = run.get("environment") or {}
    backend = run.get("backend")
    if run.get("backend_pinned"):  # the chapter's header chose it, whatever the book's backend
        backend = f"{backend} (set by the chapter)"
    rows = [
        ("Executed", format_time(run.get("executed_at", ""))),
        ("Profile", run.get("profile")),
        ("Keras backend", backend),
        ("Device", env.get("device", "unknown")),
        ("Execution time", f"{run.get('seconds', 0):.1f} s"),
        ("This build", status),
        ("Commit", commit),
        ("Python", env.get("python")),
        ("Keras", env.get("keras")),
        ("TensorFlow", env.get("tensorflow")),
        ("JAX", env.get("jax")),
        ("PyTorch", env.get("torch")),
        ("NumPy", env.get("numpy")),
    ]
    return [(name, str(value)) for name, value in rows if value not in (None, "")]


def stamp_markdown(run: dict[str, Any], status: str, commit: str | None = None) -> str:
    """The run stamp shown at the top of a chapter: a summary line and the full details."""
    env = run.get("environment") or {}
    short_device = env.get("device", "unknown").split(" (")[0]
    summary = (
        f"Run stamp: {run.get('profile')} profile · {run.get('backend')} · {short_device} · "
        f"{run.get('seconds', 0):.1f} s · {status}"
    )
    table = "\n".join(
        f"    | {name} | {value} |" for name, value in stamp_rows(run, status, commit)
    )
    return f'??? info "{summary}"\n\n    | | |\n    |---|---|\n{table}\n'


def _caption(cell: nbformat.NotebookNode) -> str | None:
    caption = cell.metadata.get("caption")
    return str(caption) if caption else None


def render_notebook(
    nb: nbformat.NotebookNode,
    chapter: Chapter,
    *,
    status: str,
    colab_url: str | None = None,
    commit: str | None = None,
    new_issue_url: str | None = None,
) -> RenderedChapter:
    """Turn an executed chapter notebook into a Markdown page plus its figure files.

    With `new_issue_url` (a GitHub `.../issues/new` URL) the page links "Report a problem with
    this page" to a new issue pre-filled with its run stamp, `commit` included.
    """
    run = (nb.metadata.get("dlguide") or {}).get("run") or {}
    title = title_of(nb, chapter.stem)
    page_dir = PurePosixPath(chapter.page_uri).parent
    figures_dir = PurePosixPath(chapter.figures_uri)
    notebook_name = PurePosixPath(chapter.notebook_uri).name
    blocks: list[str] = []
    assets: dict[str, bytes] = {}
    header_done = False

    def header() -> list[str]:
        links = [f"[:material-download: Download the notebook]({notebook_name}){{ .md-button }}"]
        if colab_url:
            links.append(f"[:simple-googlecolab: Open in Colab]({colab_url}){{ .md-button }}")
        if new_issue_url:
            report = report_link(
                new_issue_url,
                title=title,
                page=f"{page_dir.as_posix()}/{PurePosixPath(chapter.page_uri).stem}/",
                stamp_rows=stamp_rows(run, status, commit),
            )
            links.append(f"[:material-bug-outline: Report a problem with this page]({report})")
        return [stamp_markdown(run, status, commit), " ".join(links)]

    code_number = 0
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if tags & _HIDE_CELL:
            continue
        if cell.cell_type == "markdown":
            blocks.append(cell.source)
            if not header_done:
                blocks.extend(header())
                header_done = True
            continue
        if cell.cell_type != "code":
            continue
        code_number += 1
        if not header_done:
            blocks.extend(header())
            header_done = True
        if PARAMETERS_TAG in tags and run.get("overrides"):
            changed = ", ".join(f"`{k} = {v}`" for k, v in run["overrides"].items())
            blocks.append(
                f'!!! note "Parameters of the {run.get("profile")} profile"\n\n'
                f"    This run used the {run.get('profile')} profile, which sets {changed}. "
                "The full profile uses the values in the chapter source."
            )
        cell_blocks: list[str] = []
        if not tags & _HIDE_INPUT and cell.source.strip():
            cell_blocks.append(_fence(cell.source, "python"))
        if not tags & _HIDE_OUTPUT:
            cell_blocks.extend(
                _render_outputs(cell, chapter.stem, code_number, page_dir, figures_dir, assets)
            )
        if SOLUTION_TAG in tags:
            cell_blocks = [_folded(str(cell.metadata.get("title") or "Solution"), cell_blocks)]
        blocks.extend(cell_blocks)
    if not header_done:
        blocks.extend(header())
    return RenderedChapter(markdown="\n\n".join(blocks) + "\n", title=title, assets=assets)


def _folded(title: str, blocks: list[str]) -> str:
    """Blocks inside a collapsed `???` admonition (pymdownx.details), indented as it requires."""
    body = "\n\n".join(blocks)
    indented = "\n".join(f"    {line}" if line.strip() else "" for line in body.splitlines())
    return f'??? success "{title}"\n\n{indented}'


def _render_outputs(
    cell: nbformat.NotebookNode,
    stem: str,
    code_number: int,
    page_dir: PurePosixPath,
    figures_dir: PurePosixPath,
    assets: dict[str, bytes],
) -> list[str]:
    blocks: list[str] = []
    stream: list[str] = []

    def flush() -> None:
        if stream:
            text = clean_stream("".join(stream)).strip("\n")
            if text.strip():
                blocks.append(_fence(text, "text", ".nb-output"))
            stream.clear()

    figure_number = 0
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            stream.append(_text(output.get("text", "")))
            continue
        flush()
        if kind not in ("display_data", "execute_result"):
            continue
        data = output.get("data", {})
        if STAMP_MIME in data:
            continue
        if "image/png" in data or "image/svg+xml" in data:
            figure_number += 1
            if "image/png" in data:
                name = f"{stem}-cell{code_number}-{figure_number}.png"
                payload = base64.b64decode(_text(data["image/png"]))
            else:
                name = f"{stem}-cell{code_number}-{figure_number}.svg"
                payload = _text(data["image/svg+xml"]).encode()
            assets[str(figures_dir / name)] = payload
            rel = (figures_dir / name).relative_to(page_dir).as_posix()
            caption = _caption(cell)
            alt = html.escape(caption or f"Figure from code cell {code_number}", quote=True)
            figure = f'<figure markdown="span">\n  ![{alt}]({rel})'
            if caption:
                figure += f"\n  <figcaption>{caption}</figcaption>"
            blocks.append(figure + "\n</figure>")
        elif "text/html" in data:
            blocks.append(_html_block(_text(data["text/html"])))
        elif "text/markdown" in data:
            blocks.append(_text(data["text/markdown"]))
        elif "text/latex" in data:
            blocks.append(_text(data["text/latex"]))
        elif "text/plain" in data:
            blocks.append(_fence(clean_stream(_text(data["text/plain"])), "text", ".nb-output"))
    flush()
    return blocks


def downloadable_notebook(nb: nbformat.NotebookNode, install: str | None = None) -> bytes:
    """The executed notebook offered for download: build-only cells and metadata removed.

    With `install` (a pip requirement such as `dlguide @ git+https://...`), a first cell installs
    the package, so the notebook also runs outside the book's repository (e.g. in Colab).
    """
    nb = nbformat.from_dict(nb)
    nb.cells = [cell for cell in nb.cells if STAMP_TAG not in cell.metadata.get("tags", [])]
    if install:
        nb.cells.insert(
            1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0,
            nbformat.v4.new_code_cell(
                "# Outside the book's repository (e.g. in Colab), install dlguide first:\n"
                f'%pip install --quiet "{install}"',
                metadata={"tags": ["install"]},
                id="install-dlguide",
            ),
        )
    for cell in nb.cells:
        cell.metadata.pop("dlguide_overrides", None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop("jupytext", None)
    return nbformat.writes(nb).encode()
