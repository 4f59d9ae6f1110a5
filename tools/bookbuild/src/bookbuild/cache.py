"""The execution cache: executed notebooks stored under a key of everything that can change them.

The key covers what the kernel runs — the chapter's code cells as the profile leaves them (source
and the tags that change how a cell executes), the kernel — and what they run against: the source
of the packages the chapters import (`dlguide`), the installed dependency set (every distribution
and its version, plus the Python version), the Keras backend the chapter runs on (the book's, or
the one its header pins), the profile and the version of the execution machinery itself. Markdown
cells are not part of it: a prose edit re-renders the page from the cached outputs without
executing anything. Rendering is not cached: it is cheap and runs on every build.

Nothing in the key depends on where the project or the cache lives (no absolute paths, no build
commit), so chapters executed on several machines into separate cache folders can be merged
into one cache that a final build reads without executing anything.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

#: Bump when the way chapters are executed changes (parameter injection, stamp cell, kernel setup).
EXECUTION_VERSION = "2"

#: Cell tags that change how a code cell executes (nbclient honours the last two); every other tag
#: and every other cell metadata (captions, titles, `remove-input`, `solution`) only changes how
#: the page shows the cell, so editing it re-renders without re-executing.
EXECUTION_TAGS = frozenset({"parameters", "raises-exception", "skip-execution"})

#: Distributions left out of the dependency fingerprint: they are the project itself, covered by
#: the source hash instead.
_SELF = {"dlguide", "dlguide-bookbuild"}


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def dependency_fingerprint() -> str:
    """Hash of the installed distributions (name==version) and the Python version."""
    pins = sorted(
        {
            f"{_normalise(dist.metadata['Name'])}=={dist.version}"
            for dist in importlib.metadata.distributions()
            if dist.metadata["Name"] and _normalise(dist.metadata["Name"]) not in _SELF
        }
    )
    digest = hashlib.sha256(sys.version.encode())
    digest.update("\n".join(pins).encode())
    return digest.hexdigest()


def source_fingerprint(paths: list[Path]) -> str:
    """Hash of every source file under the given package folders (bytecode caches ignored)."""
    digest = hashlib.sha256()
    for root in sorted(paths):
        if not root.exists():
            raise FileNotFoundError(f"package folder to fingerprint does not exist: {root}")
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(path.relative_to(root.parent).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def execution_input(nb: nbformat.NotebookNode, kernel_name: str = "python3") -> bytes:
    """What the kernel runs for a chapter whose profile is applied: its code cells and the kernel.

    Each code cell contributes its source and its execution tags (`EXECUTION_TAGS`); Markdown
    cells and display-only metadata contribute nothing.
    """
    cells = [
        {
            "source": cell.source,
            "tags": sorted(set(cell.metadata.get("tags", [])) & EXECUTION_TAGS),
        }
        for cell in nb.cells
        if cell.cell_type == "code"
    ]
    return json.dumps({"cells": cells, "kernel": kernel_name}, sort_keys=True).encode()


@dataclass(frozen=True)
class Fingerprints:
    """The parts of the cache key shared by every chapter of one build."""

    packages: str
    dependencies: str
    backend: str
    profile: str

    @classmethod
    def of_environment(cls, package_dirs: list[Path], backend: str, profile: str) -> Fingerprints:
        """The fingerprints of this Python environment for the given packages, backend, profile.

        The book build and `python -m bookbuild execute` both call this, so they agree on keys.
        """
        return cls(
            packages=source_fingerprint(package_dirs),
            dependencies=dependency_fingerprint(),
            backend=backend,
            profile=profile,
        )

    def for_backend(self, backend: str) -> Fingerprints:
        """The same fingerprints for a chapter that runs on `backend` (its header pins it)."""
        return self if backend == self.backend else replace(self, backend=backend)

    def key(self, chapter_input: bytes) -> str:
        """The cache key of a chapter, from its `execution_input`."""
        parts = {
            "chapter": hashlib.sha256(chapter_input).hexdigest(),
            "packages": self.packages,
            "dependencies": self.dependencies,
            "backend": self.backend,
            "profile": self.profile,
            "execution": EXECUTION_VERSION,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class NotebookCache:
    """Executed notebooks on disk: `<root>/<profile>-<backend>/<chapter>/<key>.ipynb`.

    Only the newest entry per chapter, profile and backend is kept, so switching profile or backend
    and back is still a cache hit.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, fingerprints: Fingerprints, stem: str) -> Path:
        return self.root / f"{fingerprints.profile}-{fingerprints.backend}" / stem

    def path(self, fingerprints: Fingerprints, stem: str, key: str) -> Path:
        """Where the entry of `stem` under `key` is (or would be) stored."""
        return self._folder(fingerprints, stem) / f"{key}.ipynb"

    def get(self, fingerprints: Fingerprints, stem: str, key: str) -> nbformat.NotebookNode | None:
        path = self.path(fingerprints, stem, key)
        if not path.is_file():
            return None
        try:
            return nbformat.read(path, as_version=4)
        except Exception:  # a truncated or hand-edited entry is a miss, not an error
            path.unlink(missing_ok=True)
            return None

    def put(
        self, fingerprints: Fingerprints, stem: str, key: str, nb: nbformat.NotebookNode
    ) -> Path:
        path = self.path(fingerprints, stem, key)
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        nbformat.write(nb, tmp)
        tmp.replace(path)
        for stale in folder.glob("*.ipynb"):
            if stale != path:
                stale.unlink(missing_ok=True)
        return path
