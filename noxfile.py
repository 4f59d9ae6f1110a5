"""Sessions that build the book and check it: `nox -l` lists them, `nox -s NAME` runs one.

Environment variables the sessions pass on:

- `DLGUIDE_PROFILE` — `fast` (default: CPU, minutes) or `full` (seed-size data and epochs).
- `KERAS_BACKEND` — `tensorflow` (default), `jax` or `torch`.
- `DLGUIDE_DATA_MIRROR` — a local folder of the book's data files; defaults to `../shared/data`
  when that folder exists, so nothing is downloaded.
- `DLGUIDE_CELL_TIMEOUT` — seconds a notebook cell may run before the build fails (default 600).
- `DLGUIDE_LINKCHECK` — `true` runs the HTML link check (htmlproofer) in the build; the `tests`
  session and the deploy turn it on, local builds leave it off (it is most of a warm build).
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


#: How `nox -s serve` runs `mkdocs serve` (benchmarks/bench_build.py measures the same).
SERVE_OPTIONS = ("--dirty", "--no-strict")

# docs, serve, tests and bench install the same set, so their environments fingerprint alike and
# share the execution cache: `nox -s tests` after `nox -s docs` executes no chapter again.
BOOK_EXTRAS = ("book", "serve", "docs", "test")


def _install_book(session: nox.Session, *extras: str) -> None:
    """Install dlguide (editable) with the given extras and the book's build plugin, pinned."""
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-c", str(CONSTRAINTS), "-e", spec, "-e", "tools/bookbuild")


#: A GPU runner's own accelerator stack (CUDA builds of JAX or PyTorch, preinstalled in its system
#: Python). The `gpu` session takes them from there: it never pins them, so pip keeps the
#: runner's build where it satisfies the book's requirement instead of installing a CPU build.
ACCELERATOR_DISTRIBUTIONS = frozenset({"jax", "jaxlib", "torch", "torchvision", "triton"})


def _distribution(line: str) -> str:
    name = line.split(";")[0].split("==")[0].split("[")[0].strip()
    return name.lower().replace("_", "-").replace(".", "-")


def gpu_constraints(pins: str) -> str:
    """The constraints file of the `gpu` session: the pinned set without the accelerator stack."""
    return "".join(
        line + "\n"
        for line in pins.splitlines()
        if line.startswith("#") or _distribution(line) not in ACCELERATOR_DISTRIBUTIONS
    )


def gpu_install_arguments(constraints: Path) -> list[str]:
    """What the `gpu` session passes to `pip install`: the book's full dependency set."""
    return ["-c", str(constraints), "-e", f".[{','.join(BOOK_EXTRAS)}]", "-e", "tools/bookbuild"]


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the whole book into site/ (strict; chapters executed or taken from the cache)."""
    _install_book(session, *BOOK_EXTRAS)
    session.run("mkdocs", "build", "--strict", *session.posargs, env=_env())


@nox.session(python=PYTHON, default=False)
def serve(session: nox.Session) -> None:
    """Preview the book at http://127.0.0.1:8000; only edited chapters re-execute.

    `--dirty` rebuilds only the pages that changed (a prose edit takes seconds); MkDocs warns
    about dirty builds, so strict mode is off here (`nox -s docs` stays strict).
    """
    _install_book(session, *BOOK_EXTRAS)
    session.run("mkdocs", "serve", *SERVE_OPTIONS, *session.posargs, env=_env())


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit tests of dlguide and of the build pipeline; a strict build with the link check."""
    _install_book(session, *BOOK_EXTRAS)
    session.run("pytest", *session.posargs, env={**_env(), "DLGUIDE_LINKCHECK": "true"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and format --check (chapters included); mypy on dlguide; the CI workflows.

    Workflows are checked offline: against GitHub's workflow schema (check-jsonschema ships it)
    and by zizmor's security audit (each accepted finding is justified where it is silenced).
    """
    session.install("-c", str(CONSTRAINTS), "ruff", "mypy", "numpy", "check-jsonschema", "zizmor")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "dlguide")
    workflows = sorted(str(path) for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("zizmor", "--offline", *workflows)


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


# No fixed Python: the session runs on the interpreter that runs nox (`--force-python` picks
# another), so a runner's system Python with its CUDA JAX/PyTorch is the one used.
@nox.session(python=None, default=False, venv_params=["--system-site-packages"])
def gpu(session: nox.Session) -> None:
    """The full profile on a GPU runner, reusing its preinstalled CUDA JAX or PyTorch.

    Installs what `docs` and `tests` install (every extra the chapters need) except the
    accelerator stack, which comes from the runner. KERAS_BACKEND defaults to jax here; TensorFlow
    (the CPU build, a core dependency) is installed all the same, for the chapters whose header
    pins the TensorFlow backend and for `dlguide.text` (TextVectorization, tf.data).

    - `nox -s gpu` — fail unless Keras sees a GPU, run the GPU tests, build the whole site.
    - `nox -s gpu -- execute CHAPTER.py ...` — fail unless Keras sees a GPU, then execute those
      chapters into the execution cache (one shard of the deploy); extra `bookbuild execute`
      options such as `--export DIR` pass through.
    - `nox -s gpu -- assemble` — build the site (with the link check) from the cache alone: a
      chapter missing from it fails the build instead of executing.
    """
    backend = os.environ.get("KERAS_BACKEND", "jax")
    constraints = Path(session.create_tmp()) / "constraints-gpu.txt"
    constraints.write_text(gpu_constraints(CONSTRAINTS.read_text()))
    session.install(*gpu_install_arguments(constraints))
    env = {**_env(), "KERAS_BACKEND": backend, "DLGUIDE_PROFILE": "full"}
    command, *rest = session.posargs or ["build"]
    if command == "execute":
        session.run("python", "tools/check_gpu.py", env=env)
        session.run(
            "python", "-m", "bookbuild", "execute", "--profile", "full", "--backend", backend,
            "--cache-dir", ".cache/dlguide-book", *rest, env=env,
        )  # fmt: skip
    elif command == "assemble":
        env |= {"DLGUIDE_EXECUTE": "false", "DLGUIDE_LINKCHECK": "true"}
        session.run("mkdocs", "build", "--strict", *rest, env=env)
    elif command == "build":
        session.run("python", "tools/check_gpu.py", env=env)
        session.run("pytest", "-m", "gpu", env=env, success_codes=[0, 5])
        session.run("mkdocs", "build", "--strict", *rest, env=env)
    else:
        session.error(f"unknown gpu command {command!r}: expected build, execute or assemble")
