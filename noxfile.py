"""Sessions that build the book and check it: `nox -l` lists them, `nox -s NAME` runs one.

Environment variables the sessions pass on:

- `DLGUIDE_PROFILE` — `fast` (default: CPU, minutes) or `full` (seed-size data and epochs).
- `KERAS_BACKEND` — `tensorflow` (default), `jax` or `torch`.
- `DLGUIDE_DATA_MIRROR` — a local folder of the book's data files; defaults to `../shared/data`
  when that folder exists, so nothing is downloaded.
- `DLGUIDE_CELL_TIMEOUT` — seconds a notebook cell may run before the build fails (default 600).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
PYTHON = "3.11"

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


def _env() -> dict[str, str]:
    env = {"NO_MKDOCS_2_WARNING": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    mirror = ROOT.parent / "shared" / "data"
    if "DLGUIDE_DATA_MIRROR" not in os.environ and mirror.is_dir():
        env["DLGUIDE_DATA_MIRROR"] = str(mirror.resolve())
    return env


# docs, serve, tests and bench install the same set, so their environments fingerprint alike and
# share the execution cache: `nox -s tests` after `nox -s docs` executes no chapter again.
BOOK_EXTRAS = ("book", "serve", "docs", "test")


def _install_book(session: nox.Session, *extras: str) -> None:
    """Install dlguide (editable) with the given extras and the book's build plugin, pinned."""
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-c", str(CONSTRAINTS), "-e", spec, "-e", "tools/bookbuild")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the whole book into site/ (strict; chapters executed or taken from the cache)."""
    _install_book(session, *BOOK_EXTRAS)
    session.run("mkdocs", "build", "--strict", *session.posargs, env=_env())


@nox.session(python=PYTHON, default=False)
def serve(session: nox.Session) -> None:
    """Preview the book at http://127.0.0.1:8000; only edited chapters re-execute."""
    _install_book(session, *BOOK_EXTRAS)
    session.run("mkdocs", "serve", *session.posargs, env=_env())


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit tests of dlguide, tests of the build pipeline, and a strict build of the site."""
    _install_book(session, *BOOK_EXTRAS)
    session.run("pytest", *session.posargs, env=_env())


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and format --check over every Python file (chapters included); mypy on dlguide."""
    session.install("-c", str(CONSTRAINTS), "ruff", "mypy", "numpy")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "dlguide")


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Run every benchmarks/bench_*.py and print its figures and ratios."""
    _install_book(session, *BOOK_EXTRAS)
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if session.posargs:
        scripts = [s for s in scripts if any(arg in s.name for arg in session.posargs)]
    for script in scripts:
        session.log(f"--- {script.name}")
        session.run("python", str(script), env=_env())


@nox.session(python=PYTHON, default=False)
def lock(session: nox.Session) -> None:
    """Re-resolve the dependencies and rewrite requirements/constraints.txt (the pinned set)."""
    session.install("-e", ".[book,serve,docs,test]", "-e", "tools/bookbuild", "ruff")
    frozen = session.run("pip", "freeze", "--exclude-editable", silent=True)
    pins = sorted(line for line in str(frozen).splitlines() if "==" in line)
    CONSTRAINTS.write_text(
        "# Pinned dependency set for the docs build and the tests. Regenerate: nox -s lock\n"
        + "\n".join(pins)
        + "\n"
    )
    session.log(f"wrote {len(pins)} pins to {CONSTRAINTS.relative_to(ROOT)}")


@nox.session(python=PYTHON, default=False, venv_params=["--system-site-packages"])
def gpu(session: nox.Session) -> None:
    """Build the book with the full profile on a GPU runner (reuses its CUDA JAX/PyTorch).

    Set KERAS_BACKEND (default jax here). The session fails if Keras sees no GPU, then runs the
    GPU-marked tests and the full-profile strict build.
    """
    backend = os.environ.get("KERAS_BACKEND", "jax")
    _install_book(session, "docs", "test")
    env = {**_env(), "KERAS_BACKEND": backend, "DLGUIDE_PROFILE": "full"}
    session.run("python", "tools/check_gpu.py", env=env)
    session.run("pytest", "-m", "gpu", env=env, success_codes=[0, 5])
    session.run("mkdocs", "build", "--strict", *session.posargs, env=env)
