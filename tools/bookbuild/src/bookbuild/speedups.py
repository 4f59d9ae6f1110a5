"""Memoised steps of a warm build: search indexing and API signature formatting.

A warm build with no chapter to execute spent most of its time in two pure functions of their
input: Material's search plugin parsing every page's HTML into index entries (a Python HTML
parser over a few MB), and mkdocstrings formatting each long API signature by running `ruff
format` in a subprocess. Both results are stored in one JSON file in the execution cache folder,
keyed by a digest of everything the result depends on (the page HTML, URL, title, metadata and
table of contents; the code and line length), under a namespace of the installed dependency set,
so an upgrade of Material, mkdocstrings or ruff starts afresh. Each build keeps only the entries
it used. The site is the same with or without it (`tests/test_bookbuild.py` checks the index).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.plugins.dlguide_book")

#: Bump when what is stored, or how its keys are made, changes.
VERSION = "1"


class Memo:
    """A JSON file of results by key, for one namespace; only entries used in a build are kept."""

    def __init__(self, path: Path, namespace: str) -> None:
        self.path = path
        self.namespace = f"{VERSION}:{namespace}"
        self.old: dict[str, Any] = {}
        self.used: dict[str, Any] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("namespace") == self.namespace:
                self.old = data.get("entries", {})
        except (OSError, ValueError, AttributeError):
            pass  # no file, or an unreadable one: start afresh

    def get(self, key: str) -> Any:
        if key in self.used:
            return self.used[key]
        if key in self.old:
            self.used[key] = self.old[key]
            return self.used[key]
        return None

    def put(self, key: str, value: Any) -> None:
        self.used[key] = value

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"namespace": self.namespace, "entries": self.used}))
        tmp.replace(self.path)


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _toc(items: Any) -> list[Any]:
    return [[item.id, item.url, item.title, _toc(item.children)] for item in items]


def memoise_search_index(config: Any, memo: Memo) -> bool:
    """Make the search plugin's indexing of a page a lookup when the page is unchanged."""
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    index = getattr(plugin, "search_index", None)
    add = getattr(index, "add_entry_from_context", None)
    if index is None or add is None or not isinstance(getattr(index, "entries", None), list):
        return False

    def add_entry_from_context(page: Any) -> None:
        key = "search:" + _digest(
            page.url,
            page.title,
            page.meta.get("title"),
            page.meta.get("search"),
            page.meta.get("tags"),
            _toc(page.toc),
            page.content,
        )
        entries = memo.get(key)
        if entries is None:
            start = len(index.entries)
            add(page)
            entries = index.entries[start:]
            memo.put(key, entries)
        else:
            index.entries.extend(json.loads(json.dumps(entries)))

    index.add_entry_from_context = add_entry_from_context
    return True


def memoise_signature_formatting(memo: Memo) -> bool:
    """Make mkdocstrings-python's signature formatter (ruff or black) a lookup for known code."""
    try:
        from mkdocstrings_handlers.python._internal import rendering
    except ImportError:
        return False
    get_formatter = getattr(rendering, "_get_formatter", None)
    if get_formatter is None:
        return False
    original: Callable[[], Callable[[str, int], str]] = getattr(
        get_formatter, "__wrapped_by_bookbuild__", get_formatter
    )

    def memoised_get_formatter() -> Callable[[str, int], str]:
        formatter = original()

        def format_code(code: str, line_length: int) -> str:
            key = "signature:" + _digest(code, line_length)
            formatted = memo.get(key)
            if formatted is None:
                formatted = formatter(code, line_length)
                memo.put(key, formatted)
            return str(formatted)

        return format_code

    memoised_get_formatter.__wrapped_by_bookbuild__ = original  # type: ignore[attr-defined]
    rendering._get_formatter = memoised_get_formatter
    return True
