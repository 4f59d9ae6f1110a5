"""Command line: execute chapters the way the book build does, without building the site.

python -m bookbuild execute docs/chapters/01-neurons.py --profile fast -o /tmp/01.ipynb
python -m bookbuild execute docs/chapters/0[1-4]*.py --profile full --cache-dir .cache/dlguide-book
python -m bookbuild plan --shards 4 docs/chapters

With `--cache-dir`, `execute` stores each executed notebook in the book's execution cache under
the same key as the MkDocs plugin computes (run it from the project root, in the environment that
builds the site), skips chapters already there, and with `--export DIR` also copies the entries
of the chapters it was given into DIR. Cache folders filled on several machines merge by copying
them into one (`cp -r`, or download-artifact's `merge-multiple`): the keys hold no path.
`plan` splits the chapters into shards for a job matrix and prints them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROFILES = ("fast", "full")  # kept equal to bookbuild.chapter.PROFILES (that import is heavier)


def plan(chapters_dir: Path, shards: int) -> list[list[str]]:
    """Chapter sources of `chapters_dir` dealt round-robin into at most `shards` non-empty shards.

    Round-robin keeps neighbouring chapters (which tend to cost alike) on different shards.
    """
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    sources = sorted(
        path.as_posix() for path in chapters_dir.glob("*.py") if not path.name.startswith("_")
    )
    groups = [sources[i::shards] for i in range(min(shards, len(sources)))]
    return [group for group in groups if group]


def _execute(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import nbformat

    from .cache import Fingerprints, NotebookCache, execution_input
    from .chapter import Chapter, ChapterError, chapter_backend
    from .execute import execute_chapter, prepare

    sources = [source.resolve() for source in args.sources]
    for given, source in zip(args.sources, sources, strict=True):
        if not source.is_file():
            parser.error(f"chapter source not found: {given}")
    if args.output and len(sources) != 1:
        parser.error("-o/--output takes exactly one chapter source")
    if args.export and not args.cache_dir:
        parser.error("--export needs --cache-dir")

    cache = fingerprints = None
    if args.cache_dir:
        cache = NotebookCache(args.cache_dir.resolve())
        packages = [Path(package).resolve() for package in args.packages]
        fingerprints = Fingerprints.of_environment(packages, args.backend, args.profile)

    failed = 0
    for source in sources:
        chapter = Chapter(path=source, src_uri=f"{source.parent.name}/{source.name}")
        try:
            prepared, _ = prepare(chapter, args.profile)
            backend = chapter_backend(prepared, args.backend, chapter.src_uri)
        except ChapterError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        key = entry = own = None
        if cache is not None and fingerprints is not None:
            own = fingerprints.for_backend(backend)  # the backend the chapter runs on
            key = own.key(execution_input(prepared))
            entry = cache.path(own, chapter.stem, key)
            if cache.get(own, chapter.stem, key) is not None:
                print(f"{chapter.src_uri}: cached ({entry.relative_to(cache.root)})")
                if args.export:
                    _export(entry, cache.root, args.export)
                if args.output:
                    shutil.copyfile(entry, args.output)
                continue
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="dlguide-book-") as scratch:
            try:
                result = execute_chapter(
                    chapter,
                    profile=args.profile,
                    backend=backend,
                    timeout=args.timeout,
                    workdir=Path(scratch) / chapter.stem,
                )
            except ChapterError as error:
                print(f"error: {error}", file=sys.stderr)
                failed += 1
                continue
        if args.output:
            nbformat.write(result.notebook, args.output)
        if cache is not None and own is not None and key is not None:
            cache.put(own, chapter.stem, key, result.notebook)
            if args.export and entry is not None:
                _export(entry, cache.root, args.export)
        env = result.notebook.metadata["dlguide"]["run"]["environment"]
        # The same words as the plugin's log line, so tools can count executions alike.
        print(
            f"dlguide-book: executed {chapter.src_uri} in {time.perf_counter() - started:.1f} s "
            f"({args.profile} profile, {backend}, {env.get('device')})"
        )
    return 1 if failed else 0


def _export(entry: Path, root: Path, destination: Path) -> None:
    target = destination / entry.relative_to(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entry, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlguide-book", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("execute", help="execute chapter sources and report their run time")
    run.add_argument(
        "sources", type=Path, nargs="+", help="chapter sources, e.g. docs/chapters/01-neurons.py"
    )
    run.add_argument(
        "--profile", choices=PROFILES, default=os.environ.get("DLGUIDE_PROFILE", "fast")
    )
    run.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    run.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    run.add_argument("-o", "--output", type=Path, help="write the executed notebook here")
    run.add_argument(
        "--cache-dir",
        type=Path,
        help="execution cache to read and fill (the book's is .cache/dlguide-book)",
    )
    run.add_argument(
        "--packages",
        nargs="+",
        default=["dlguide"],
        help="package folders in the cache key, as in mkdocs.yml (default: dlguide)",
    )
    run.add_argument(
        "--export", type=Path, help="copy the cache entries of these chapters into this folder"
    )
    shard = commands.add_parser("plan", help="split the chapters into shards, printed as JSON")
    shard.add_argument("chapters", type=Path, help="folder of chapter sources")
    shard.add_argument("--shards", type=int, default=4, help="number of shards (default 4)")
    args = parser.parse_args(argv)

    if args.command == "plan":
        try:
            print(json.dumps(plan(args.chapters, args.shards)))
        except ValueError as error:
            parser.error(str(error))
        return 0
    return _execute(args, parser)


if __name__ == "__main__":
    sys.exit(main())
