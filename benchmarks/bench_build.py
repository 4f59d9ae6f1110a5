"""Book build timings and page weight, printed as figures and ratios.

Copies the project into a temporary folder (so the real cache is untouched) and measures:

1. a cold build (empty execution cache: every chapter executes);
2. a warm rebuild with nothing changed (goal: <= 10 s), and the same with the HTML link check that
   CI and the deploy add (`DLGUIDE_LINKCHECK=true`);
3. a rebuild after editing the prose of one chapter (a Markdown cell: nothing executes);
4. a rebuild after editing a code cell of one chapter (only that chapter re-executes);
5. `mkdocs serve` as `nox -s serve` runs it: from saving a prose edit to the page rebuilt (goal:
   <= 5 s), checked by fetching the page;
6. the weight of a chapter page (HTML + the CSS it links, images excluded; goal: <= 300 KB) and the
   size of the whole site.

Run it with `nox -s bench` (or `python benchmarks/bench_build.py` inside the docs environment).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".nox", ".cache", "site", "__pycache__", "*.egg-info"
)


#: What `nox -s serve` runs (see noxfile.py).
SERVE = ["mkdocs", "serve", "--dirty", "--no-strict"]


def _env(project: Path) -> dict[str, str]:
    # The copy's own dlguide and build plugin, whatever is installed.
    paths = [str(project), str(project / "tools" / "bookbuild" / "src")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "NO_MKDOCS_2_WARNING": "1"}
    env.setdefault("DLGUIDE_PROFILE", "fast")
    return env


#: CPU seconds (user + system, the build and the kernels it ran) of each build, in order: on a
#: shared machine the wall times include waiting for other work, the CPU time does not.
CPU: list[float] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(project: Path, **extra: str) -> tuple[float, str]:
    env = {**_env(project), **extra}
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    CPU.append(_children_cpu() - cpu)
    print(f"build {len(CPU)}: {seconds:.1f} s, CPU {CPU[-1]:.1f} s", file=sys.stderr, flush=True)
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr[-4000:]}")
    return seconds, result.stderr


def serve_prose_edit(project: Path, chapter: Path) -> float:
    """Seconds from saving a prose edit of `chapter` to `mkdocs serve` serving the new page."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = project / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", *SERVE, "-a", f"127.0.0.1:{port}"],
            cwd=project,
            env=_env(project),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def builds() -> int:
        if server.poll() is not None:
            sys.exit(f"mkdocs serve exited:\n{log_path.read_text()[-4000:]}")
        return log_path.read_text().count("Documentation built in")

    try:
        deadline = time.monotonic() + 600
        while "Serving on" not in log_path.read_text():
            builds()
            if time.monotonic() > deadline:
                sys.exit(f"mkdocs serve did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        time.sleep(2)  # let the watcher settle
        done = builds()
        marker = f"Edited while serving {time.time_ns()}."
        started = time.perf_counter()
        chapter.write_text(chapter.read_text() + f"\n# %% [markdown]\n# {marker}\n")
        while builds() == done:
            if time.perf_counter() - started > 300:
                sys.exit(f"no rebuild after the edit:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        text = log_path.read_text()
        if re.search(r"executed (chapters/\S+) in", text):
            sys.exit(f"a prose edit executed a chapter under serve:\n{text[-4000:]}")
        url = f"http://127.0.0.1:{port}/dlguide/chapters/{chapter.stem}/"
        with urllib.request.urlopen(url, timeout=30) as response:
            if marker not in response.read().decode():
                sys.exit(f"the served page {url} lacks the edit")
        print(f"serve: prose edit -> page rebuilt in {seconds:.1f} s", file=sys.stderr, flush=True)
        return seconds
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a rebuild in flight can ignore the interrupt
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


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
        linkcheck, _ = build(project, DLGUIDE_LINKCHECK="true")
        first = chapters[0]
        first.write_text(first.read_text() + "\n# %% [markdown]\n# A prose edit.\n")
        prose, log = build(project)
        prose_executed = re.findall(r"executed (chapters/\S+) in", log)
        first.write_text(first.read_text() + "\n# %%\nprint('a code edit')\n")
        edited, log = build(project)
        executed = re.findall(r"executed (chapters/\S+) in", log)
        served = serve_prose_edit(project, first)

        site = project / "site"
        html, css = page_weight(site, f"chapters/{first.stem}")
        total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())

    cpu = dict(zip(("cold", "warm", "linkcheck", "prose", "edited"), CPU, strict=True))
    rows = [
        ("cold build (every chapter executes)", f"{cold:8.1f} s", f"1.00; CPU {cpu['cold']:.1f} s"),
        (
            "warm rebuild, nothing changed",
            f"{warm:8.1f} s",
            f"{warm / cold:.3f} of cold; CPU {cpu['warm']:.1f} s",
        ),
        (
            "warm rebuild with the link check (CI)",
            f"{linkcheck:8.1f} s",
            f"{linkcheck / cold:.3f} of cold; CPU {cpu['linkcheck']:.1f} s",
        ),
        (
            f"rebuild after a prose edit of {first.name}",
            f"{prose:8.1f} s",
            f"{prose / cold:.3f} of cold; CPU {cpu['prose']:.1f} s; executed {prose_executed}",
        ),
        (
            f"rebuild after a code edit of {first.name}",
            f"{edited:8.1f} s",
            f"{edited / cold:.3f} of cold; CPU {cpu['edited']:.1f} s; executed {executed}",
        ),
        (
            "serve: prose edit saved -> page rebuilt",
            f"{served:8.1f} s",
            f"{served / cold:.3f} of cold; {' '.join(SERVE)}",
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
    print(f"serve prose-edit goal (<= 5 s): {'met' if served <= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
