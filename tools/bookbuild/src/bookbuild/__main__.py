"""Command line: execute one chapter the way the book build does, without building the site.

python -m bookbuild execute docs/chapters/01-neurons.py --profile fast -o /tmp/01.ipynb
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from .chapter import PROFILES, Chapter, ChapterError
from .execute import execute_chapter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlguide-book", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("execute", help="execute a chapter source and report its run time")
    run.add_argument("source", type=Path, help="chapter source, e.g. docs/chapters/01-neurons.py")
    run.add_argument(
        "--profile", choices=PROFILES, default=os.environ.get("DLGUIDE_PROFILE", "fast")
    )
    run.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    run.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    run.add_argument("-o", "--output", type=Path, help="write the executed notebook here")
    args = parser.parse_args(argv)

    source = args.source.resolve()
    if not source.is_file():
        parser.error(f"chapter source not found: {args.source}")
    chapter = Chapter(path=source, src_uri=f"chapters/{source.name}")
    with tempfile.TemporaryDirectory(prefix="dlguide-book-") as scratch:
        try:
            result = execute_chapter(
                chapter,
                profile=args.profile,
                backend=args.backend,
                timeout=args.timeout,
                workdir=Path(scratch) / chapter.stem,
            )
        except ChapterError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    if args.output:
        nbformat.write(result.notebook, args.output)
    env = result.notebook.metadata["dlguide"]["run"]["environment"]
    print(
        f"{chapter.src_uri}: executed in {result.seconds:.1f} s "
        f"({args.profile} profile, {args.backend}, {env.get('device')})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
