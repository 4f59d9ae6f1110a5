"""The `dlguide-book` MkDocs plugin: chapter sources in, executed and stamped pages out.

For every `docs/<chapters>/*.py` chapter the plugin looks up the executed notebook in the cache
(see [`bookbuild.cache`]), executes the chapters that miss (in parallel, each cell under a
timeout), and adds to the site: the rendered page (`NN-slug.md`), the executed notebook for
download (`NN-slug.ipynb`) and its figures. It also adds a build-status page, renders every page's
math to MathML at build time (see [`bookbuild.mathml`]), so no page loads a math engine, and slims
every page's HTML (see [`bookbuild.slim`]).

The page is always rendered from the current chapter source (its Markdown cells, captions, tags)
with the outputs of the cached run, so a prose edit executes nothing. With `execute: false` a
cache miss is an error: the final job of a sharded build uses it to prove it executes nothing.
Under `mkdocs serve` the plugin keeps its state between rebuilds (it defines `on_startup`), so
unchanged cache entries are not read again. Under `mkdocs serve --dirty` (what `nox -s serve`
runs), MkDocs rebuilds only the Markdown pages whose files changed; when the package source
changes, the plugin marks every Markdown page changed, since API pages render its docstrings.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from .cache import Fingerprints, NotebookCache, execution_input
from .chapter import BACKENDS, PROFILES, Chapter, ChapterError, chapter_backend, find_chapters
from .execute import attach_outputs, execute_chapter, prepare, thread_limits
from .mathml import MathError, render_math
from .render import downloadable_notebook, format_time, render_notebook, title_of
from .report import new_issue_url
from .slim import slim_html
from .speedups import Memo, memoise_search_index, memoise_signature_formatting

log = logging.getLogger("mkdocs.plugins.dlguide_book")


class BookConfig(Config):
    chapters = c.Type(str, default="chapters")
    profile = c.Choice(PROFILES, default="fast")
    backend = c.Choice(BACKENDS, default="tensorflow")  # a chapter's header may pin another
    timeout = c.Type(int, default=600)
    jobs = c.Type(int, default=0)
    cache_dir = c.Type(str, default=".cache/dlguide-book")
    packages = c.ListOfItems(c.Type(str), default=["dlguide"])
    colab_branch = c.Optional(c.Type(str))
    status_page = c.Type(str, default="status.md")
    mathml = c.Type(bool, default=True)
    slim = c.Type(bool, default=True)
    execute = c.Type(bool, default=True)
    memoise = c.Type(bool, default=True)  # see bookbuild.speedups


def build_commit(project_dir: Path) -> str | None:
    """The commit this build is made from: `DLGUIDE_BUILD_COMMIT`, else `GITHUB_SHA`, else the
    checkout's `HEAD`; `None` outside a git checkout.

    It pins what the downloaded notebooks install; it is never part of the execution cache key.
    """
    for name in ("DLGUIDE_BUILD_COMMIT", "GITHUB_SHA"):
        if os.environ.get(name):
            return os.environ[name].strip()
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--verify", "HEAD"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


@dataclass
class ChapterRecord:
    chapter: Chapter
    title: str
    status: str  # "executed" or "cached"
    run: dict[str, Any]


class BookPlugin(BasePlugin[BookConfig]):
    """Execute, cache, stamp and render the book's chapters."""

    def __init__(self) -> None:
        self.records: list[ChapterRecord] = []
        self.executed: list[str] = []
        self.commit: str | None = None
        # Cache entries already read, by path: (modification time, notebook). Kept between the
        # rebuilds of `mkdocs serve`, where this object lives as long as the server.
        self._entries: dict[Path, tuple[float, Any]] = {}
        self._packages: str | None = None  # the package fingerprint of the previous build
        self._memo: Memo | None = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Defining this hook keeps the plugin object between the rebuilds of `mkdocs serve`.
        pass

    # -- configuration -------------------------------------------------------------------------
    def _project_dir(self, config: MkDocsConfig) -> Path:
        return Path(config.config_file_path or ".").resolve().parent

    def _package_dirs(self, config: MkDocsConfig) -> list[Path]:
        root = self._project_dir(config)
        return [(root / package).resolve() for package in self.config.packages]

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if self.config.timeout <= 0:
            raise PluginError(
                "dlguide-book: timeout must be a positive number of seconds, "
                f"got {self.config.timeout}"
            )
        if self.config.jobs < 0:
            raise PluginError(
                f"dlguide-book: jobs must be 0 (automatic) or more, got {self.config.jobs}"
            )
        self.commit = build_commit(self._project_dir(config))
        return config

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        for folder in self._package_dirs(config):
            server.watch(str(folder))
        return server

    # -- the build -----------------------------------------------------------------------------
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        docs_dir = Path(config.docs_dir)
        chapters = find_chapters(docs_dir, self.config.chapters)
        for chapter in chapters:
            source = files.get_file_from_path(chapter.src_uri)
            if source is not None:
                files.remove(source)

        fingerprints = Fingerprints.of_environment(
            self._package_dirs(config), backend=self.config.backend, profile=self.config.profile
        )
        if self._packages is not None and fingerprints.packages != self._packages:
            # A rebuild of `mkdocs serve --dirty` after a package edit: the API pages show its
            # docstrings, so no Markdown page counts as unchanged (generated content always does).
            for file in files.documentation_pages():
                if file.abs_src_path is not None:
                    file.content_string = file.content_string
        self._packages = fingerprints.packages
        cache = NotebookCache(self._project_dir(config) / self.config.cache_dir)
        if self.config.memoise:
            self._memo = Memo(cache.root / "memo.json", namespace=fingerprints.dependencies)
            memoise_search_index(config, self._memo)
            memoise_signature_formatting(self._memo)
        notebooks, statuses = self._notebooks(chapters, fingerprints, cache)

        self.records = []
        for chapter in chapters:
            nb = notebooks[chapter.src_uri]
            status = statuses[chapter.src_uri]
            rendered = render_notebook(
                nb,
                chapter,
                status=status,
                colab_url=self._colab_url(config, chapter),
                commit=self.commit,
                new_issue_url=new_issue_url(config.repo_url),
            )
            page = File.generated(config, chapter.page_uri, content=rendered.markdown)
            page.edit_uri = self._edit_uri(config, chapter)
            files.append(page)
            files.append(
                File.generated(
                    config,
                    chapter.notebook_uri,
                    content=downloadable_notebook(nb, install=self._install_requirement(config)),
                )
            )
            for uri, payload in rendered.assets.items():
                files.append(File.generated(config, uri, content=payload))
            run = (nb.metadata.get("dlguide") or {}).get("run") or {}
            self.records.append(ChapterRecord(chapter, rendered.title, status, run))

        if self.config.status_page:
            files.append(
                File.generated(config, self.config.status_page, content=self._status_markdown())
            )
        return files

    def on_page_content(self, html: str, *, page: Any, config: MkDocsConfig, files: Files) -> str:
        if not self.config.mathml:
            return html
        try:
            rendered, _ = render_math(html)
        except MathError as error:
            raise PluginError(f"dlguide-book: {page.file.src_uri}: {error}") from error
        return rendered

    def on_post_page(self, output: str, *, page: Any, config: MkDocsConfig) -> str:
        return slim_html(output) if self.config.slim else output

    def _notebooks(
        self, chapters: list[Chapter], fingerprints: Fingerprints, cache: NotebookCache
    ) -> tuple[dict[str, Any], dict[str, str]]:
        notebooks: dict[str, Any] = {}
        statuses: dict[str, str] = {}
        stale: list[tuple[Chapter, Fingerprints, str]] = []
        for chapter in chapters:
            try:
                prepared, _ = prepare(chapter, fingerprints.profile)
                backend = chapter_backend(prepared, fingerprints.backend, chapter.src_uri)
            except ChapterError as error:
                raise PluginError(f"dlguide-book: {error}") from None
            own = fingerprints.for_backend(backend)  # the backend the chapter runs on
            key = own.key(execution_input(prepared))
            cached = self._cached(cache, own, chapter, key)
            nb = attach_outputs(prepared, cached) if cached is not None else None
            if nb is None:
                stale.append((chapter, own, key))
            else:
                notebooks[chapter.src_uri] = nb
                statuses[chapter.src_uri] = "cached"
        self.executed = [chapter.src_uri for chapter, _, _ in stale]
        if not stale:
            log.info("dlguide-book: all %d chapters are cached", len(chapters))
            return notebooks, statuses
        if not self.config.execute:
            raise PluginError(
                f"dlguide-book: {len(stale)} chapter(s) are not in the cache and execute is off "
                f"({fingerprints.profile} profile, {fingerprints.backend} backend): "
                + ", ".join(chapter.src_uri for chapter, _, _ in stale)
            )

        jobs = self.config.jobs or min(len(stale), max(1, os.cpu_count() or 1), 4)
        log.info(
            "dlguide-book: executing %d of %d chapters (%s profile, %s backend, %d at a time)",
            len(stale),
            len(chapters),
            fingerprints.profile,
            fingerprints.backend,
            jobs,
        )
        workdir = cache.root / "work"

        def run(item: tuple[Chapter, Fingerprints, str]) -> tuple[Chapter, Fingerprints, str, Any]:
            chapter, own, key = item
            started = time.perf_counter()
            try:
                result = execute_chapter(
                    chapter,
                    profile=own.profile,
                    backend=own.backend,
                    timeout=self.config.timeout,
                    workdir=workdir / chapter.stem,
                    env=thread_limits(jobs),
                )
            except ChapterError as error:
                log.error("dlguide-book: %s", error)
                return chapter, own, key, error
            log.info(
                "dlguide-book: executed %s in %.1f s",
                chapter.src_uri,
                time.perf_counter() - started,
            )
            return chapter, own, key, result.notebook

        failures: list[str] = []
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for chapter, own, key, outcome in pool.map(run, stale):
                if isinstance(outcome, Exception):
                    failures.append(str(outcome))
                    continue
                cache.put(own, chapter.stem, key, outcome)
                notebooks[chapter.src_uri] = outcome
                statuses[chapter.src_uri] = "executed"
        if failures:
            raise PluginError(
                f"dlguide-book: {len(failures)} chapter(s) failed to execute:\n\n"
                + "\n\n".join(failures)
            )
        return notebooks, statuses

    def _cached(
        self, cache: NotebookCache, fingerprints: Fingerprints, chapter: Chapter, key: str
    ) -> Any:
        path = cache.path(fingerprints, chapter.stem, key)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        seen = self._entries.get(path)
        if seen is not None and seen[0] == mtime:
            return seen[1]
        nb = cache.get(fingerprints, chapter.stem, key)
        if nb is not None:
            self._entries[path] = (mtime, nb)
        return nb

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self._memo is not None:
            self._memo.save()
            self._memo = None

    # -- links and extra pages -----------------------------------------------------------------
    def _edit_uri(self, config: MkDocsConfig, chapter: Chapter) -> str | None:
        if not config.edit_uri:
            return None
        return chapter.src_uri

    def _colab_url(self, config: MkDocsConfig, chapter: Chapter) -> str | None:
        branch = self.config.colab_branch
        match = re.match(
            r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", config.repo_url or ""
        )
        if not branch or not match:
            return None
        owner, repo = match.groups()
        return (
            f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/"
            f"{chapter.notebook_uri}"
        )

    def _install_requirement(self, config: MkDocsConfig) -> str | None:
        """What a downloaded notebook installs: the dlguide of the commit that built the page."""
        if not config.repo_url:
            return None
        url = f"git+{config.repo_url.rstrip('/')}"
        return f"dlguide @ {url}@{self.commit}" if self.commit else f"dlguide @ {url}"

    def _status_markdown(self) -> str:
        lines = [
            "# Build status",
            "",
            "Every chapter of this build, whether it was executed by this build or taken from the "
            "execution cache, and the run stamp of the execution that produced its page.",
            "",
            "| Chapter | Run time | Executed | Run on | This build |",
            "| --- | ---: | --- | --- | --- |",
        ]
        total = 0.0
        for record in self.records:
            run = record.run
            env = run.get("environment") or {}
            seconds = float(run.get("seconds", 0.0))
            total += seconds
            link = f"[{record.title}]({Path(record.chapter.page_uri).as_posix()})"
            device = str(env.get("device", "unknown")).split(" (")[0]
            lines.append(
                f"| {link} | {seconds:.1f} s | "
                f"{format_time(str(run.get('executed_at', '')))} | "
                f"{run.get('profile')} profile, {run.get('backend')}, {device} | {record.status} |"
            )
        lines += ["", f"Total execution time of the chapters: {total:.1f} s.", ""]
        return "\n".join(lines)


__all__ = ["BookPlugin", "title_of"]
