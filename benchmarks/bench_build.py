"""Book build timings and page weight, printed as figures and ratios.

Copies the project into a temporary folder (so the real cache is untouched) and measures:

1. a cold build (empty execution cache: every chapter executes);
2. a warm rebuild with nothing changed (goal: <= 10 s);
3. a rebuild after editing one chapter (only that chapter re-executes);
4. the weight of a chapter page (HTML + the CSS it links, images excluded; goal: <= 300 KB) and the
   size of the whole site.

Run it with `nox -s bench` (or `python benchmarks/bench_build.py` inside the docs environment).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".nox", ".cache", "site", "__pycache__", "*.egg-info"
)


def build(project: Path) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(project), "NO_MKDOCS_2_WARNING": "1"}
    env.setdefault("DLGUIDE_PROFILE", "fast")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr[-4000:]}")
    return seconds, result.stderr


def page_weight(site: Path, page: str) -> tuple[int, int]:
    """(HTML bytes, CSS bytes) of one page: the HTML and every stylesheet it links."""
    index = site / page / "index.html"
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    css = 0
    for link in soup.find_all("link", rel="stylesheet"):
        css += (index.parent / link["href"]).resolve().stat().st_size
    return index.stat().st_size, css


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dlguide-bench-") as tmp:
        project = Path(tmp) / "book"
        shutil.copytree(ROOT, project, ignore=IGNORE)
        chapters = sorted((project / "docs" / "chapters").glob("[0-9]*.py"))

        cold, _ = build(project)
        warm, log = build(project)
        assert "chapters are cached" in log, "warm build executed something"
        first = chapters[0]
        first.write_text(first.read_text() + "\n# %% [markdown]\n# An edit.\n")
        edited, log = build(project)
        executed = re.findall(r"executed (chapters/\S+) in", log)

        site = project / "site"
        html, css = page_weight(site, f"chapters/{first.stem}")
        total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())

    rows = [
        ("cold build (every chapter executes)", f"{cold:8.1f} s", "1.00"),
        ("warm rebuild, nothing changed", f"{warm:8.1f} s", f"{warm / cold:.3f} of cold"),
        (
            f"rebuild after editing {first.name}",
            f"{edited:8.1f} s",
            f"{edited / cold:.3f} of cold; executed {executed}",
        ),
        (
            f"chapter page weight ({first.stem}: HTML + CSS)",
            f"{(html + css) / 1e3:8.1f} KB",
            f"HTML {html / 1e3:.1f} KB + CSS {css / 1e3:.1f} KB; "
            f"{(html + css) / 300e3:.2f} of the 300 KB goal",
        ),
        ("whole site", f"{total / 1e6:8.1f} MB", f"{len(chapters)} chapters"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>11}  ratio / note")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>11}  {note}")
    print(f"warm rebuild goal (<= 10 s): {'met' if warm <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
