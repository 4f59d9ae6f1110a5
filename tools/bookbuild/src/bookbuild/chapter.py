"""Chapter sources: reading a jupytext percent script and applying a build profile to it."""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat

PROFILES = ("fast", "full")
#: The Keras backends a book (or one chapter, in its header) can run on.
BACKENDS = ("tensorflow", "jax", "torch")
PARAMETERS_TAG = "parameters"


class ChapterError(Exception):
    """A chapter cannot be built; the message names the chapter and what is wrong."""


@dataclass(frozen=True)
class Chapter:
    """A chapter source file inside the docs folder.

    Attributes:
        path: Absolute path of the `.py` source.
        src_uri: Its path relative to the docs folder, e.g. `chapters/01-neurons.py`.
    """

    path: Path
    src_uri: str

    @property
    def stem(self) -> str:
        return Path(self.src_uri).stem

    @property
    def page_uri(self) -> str:
        return str(Path(self.src_uri).with_suffix(".md").as_posix())

    @property
    def notebook_uri(self) -> str:
        return str(Path(self.src_uri).with_suffix(".ipynb").as_posix())

    @property
    def figures_uri(self) -> str:
        return str((Path(self.src_uri).parent / "figures").as_posix())

    def read(self) -> nbformat.NotebookNode:
        """Parse the source into a notebook (no outputs)."""
        try:
            return jupytext.read(self.path, fmt="py:percent")
        except Exception as error:  # jupytext raises a zoo of types
            raise ChapterError(
                f"{self.src_uri}: cannot read the chapter source: {error}"
            ) from error


def profile_overrides(nb: nbformat.NotebookNode, profile: str, label: str) -> dict[str, Any]:
    """The parameter values the `profile` overrides, from the notebook header.

    The header holds `dlguide: profiles: {fast: {name: value, ...}, full: {...}}`; a profile that
    is not listed overrides nothing (the parameters cell's own values are the full profile).
    """
    if profile not in PROFILES:
        raise ChapterError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}")
    profiles = (nb.metadata.get("dlguide") or {}).get("profiles") or {}
    if not isinstance(profiles, dict):
        raise ChapterError(f"{label}: 'dlguide: profiles' must be a mapping, got {profiles!r}")
    unknown = sorted(set(profiles) - set(PROFILES))
    if unknown:
        raise ChapterError(
            f"{label}: unknown profile(s) {unknown} in the header: expected {', '.join(PROFILES)}"
        )
    overrides = profiles.get(profile) or {}
    if not isinstance(overrides, dict):
        raise ChapterError(
            f"{label}: profile {profile!r} must map names to values, got {overrides!r}"
        )
    return dict(overrides)


def chapter_backend(nb: nbformat.NotebookNode, book_backend: str, label: str) -> str:
    """The Keras backend the chapter runs on: `book_backend` unless its header pins one.

    A chapter that genuinely needs one backend (a TensorFlow SavedModel export, say) declares it
    in its header, beside its profiles: `dlguide: backend: tensorflow`. The build then runs that
    chapter's kernel on that backend whatever backend the rest of the book is built with.
    """
    header = nb.metadata.get("dlguide") or {}
    if "backend" not in header:
        return book_backend
    pinned = header["backend"]
    if pinned not in BACKENDS:
        raise ChapterError(
            f"{label}: 'dlguide: backend' in the header must be one of {', '.join(BACKENDS)}, "
            f"got {pinned!r}"
        )
    return str(pinned)


def rewrite_assignments(source: str, overrides: dict[str, Any], label: str) -> str:
    """Replace the right-hand side of top-level `name = value` lines in `source`.

    Comments and layout stay as written; only the overridden values change, so the reader sees
    plain values that are exactly what ran.
    """
    tree = ast.parse(source)
    spans: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            spans[target.id] = value
    missing = sorted(set(overrides) - set(spans))
    if missing:
        raise ChapterError(
            f"{label}: the profile overrides {missing}, but the parameters cell assigns only "
            f"{sorted(spans)}"
        )
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def position(lineno: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    edits = sorted(
        (
            position(spans[name].lineno, spans[name].col_offset),
            position(spans[name].end_lineno or spans[name].lineno, spans[name].end_col_offset or 0),
            repr(value),
        )
        for name, value in overrides.items()
    )
    for start, end, text in reversed(edits):
        source = source[:start] + text + source[end:]
    return source


def apply_profile(
    nb: nbformat.NotebookNode, profile: str, label: str
) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """Return a copy of `nb` with the profile's values written into its parameters cell."""
    overrides = profile_overrides(nb, profile, label)
    nb = copy.deepcopy(nb)
    tagged = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.metadata.get("tags", [])
    ]
    if len(tagged) > 1:
        raise ChapterError(f"{label}: {len(tagged)} cells are tagged 'parameters'; expected one")
    if not tagged:
        if overrides:
            raise ChapterError(
                f"{label}: profile {profile!r} overrides {sorted(overrides)} but no cell is "
                "tagged 'parameters'"
            )
        return nb, {}
    cell = tagged[0]
    cell.source = rewrite_assignments(cell.source, overrides, label)
    cell.metadata["dlguide_overrides"] = {name: repr(value) for name, value in overrides.items()}
    return nb, overrides


def find_chapters(docs_dir: Path, folder: str) -> list[Chapter]:
    """Every `*.py` chapter source directly inside `docs_dir/folder`, sorted by name."""
    root = docs_dir / folder
    if not root.is_dir():
        return []
    return [
        Chapter(path=path, src_uri=path.relative_to(docs_dir).as_posix())
        for path in sorted(root.glob("*.py"))
        if not path.name.startswith("_")
    ]
