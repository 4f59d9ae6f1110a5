"""What `nox -s gpu` installs on a GPU runner, checked on a CPU machine.

The session runs on whatever Python runs nox, in a virtualenv that sees the runner's system
packages (its CUDA JAX or PyTorch), and installs the book's full dependency set except the
accelerator stack. These tests check that set, and that every module a chapter imports is
provided by it (and resolves here, where the same extras are installed).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "docs" / "chapters").glob("[0-9]*.py"))


@pytest.fixture(scope="module")
def noxfile() -> ModuleType:
    pytest.importorskip("nox")  # in the `test` extra; absent only outside the nox environments
    spec = importlib.util.spec_from_file_location("dlguide_noxfile", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def installed_extras(noxfile: ModuleType) -> set[str]:
    arguments = noxfile.gpu_install_arguments(Path("constraints.txt"))
    assert arguments[:2] == ["-c", "constraints.txt"]
    editables = [arguments[i + 1] for i, a in enumerate(arguments) if a == "-e"]
    assert "tools/bookbuild" in editables, "the build plugin is installed"
    project = [e for e in editables if e.startswith(".[")]
    assert len(project) == 1, f"dlguide itself is installed once, with extras: {editables}"
    return set(re.fullmatch(r"\.\[(.*)\]", project[0]).group(1).split(","))


def test_gpu_session_runs_on_any_python_with_the_system_packages(noxfile: ModuleType):
    assert noxfile.gpu.python is None, "no fixed Python version: the runner's own is used"
    assert "--system-site-packages" in (noxfile.gpu.venv_params or [])


def test_gpu_session_installs_every_extra_the_book_needs(noxfile: ModuleType):
    extras = installed_extras(noxfile)
    assert extras == set(noxfile.BOOK_EXTRAS), "the same set as docs and tests"
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ])  # fmt: skip
    assert {"book", "serve", "docs", "test"} <= extras <= declared


def test_gpu_constraints_leave_the_accelerator_stack_to_the_runner(noxfile: ModuleType):
    pins = (ROOT / "requirements" / "constraints.txt").read_text()
    kept = noxfile.gpu_constraints(pins).splitlines()
    names = {canonicalize_name(re.split(r"[=;\[ ]", line)[0]) for line in kept if "==" in line}
    assert not names & {"jax", "jaxlib", "torch"}, "a pin would replace the runner's CUDA build"
    dropped = [line for line in pins.splitlines() if line not in kept]
    assert all(canonicalize_name(line.split("==")[0]) in {"jax", "jaxlib"} for line in dropped)
    assert any(line.startswith("keras==") for line in kept), "everything else stays pinned"


def test_gpu_session_installs_tensorflow_for_the_chapters_that_need_it(noxfile: ModuleType):
    """A JAX or PyTorch runner has no TensorFlow of its own, but the session must provide it:
    a chapter whose header pins the TensorFlow backend runs on it (on the CPU), and
    dlguide.text uses TensorFlow's TextVectorization and tf.data under any backend."""
    from bookbuild.chapter import chapter_backend, find_chapters

    runner_backend = "jax"  # the deploy's default; torch runners are treated alike
    pinned = {
        chapter.src_uri: chapter_backend(chapter.read(), runner_backend, chapter.src_uri)
        for chapter in find_chapters(ROOT / "docs", "chapters")
    }
    needs_tensorflow = sorted(uri for uri, backend in pinned.items() if backend == "tensorflow")
    assert "chapters/13-aircraft-damage.py" in needs_tensorflow
    assert not set(pinned.values()) - {runner_backend, "tensorflow"}, (
        f"a chapter pins a backend the gpu session does not install: {pinned}"
    )
    assert "tensorflow" in imported_modules(ROOT / "dlguide" / "text.py", top_level_only=False)
    # TensorFlow is a core dependency (the CPU build on x86-64), pinned like everything else.
    closure = requirement_closure(installed_extras(noxfile))
    tensorflow = {"tensorflow-cpu", "tensorflow"} & closure
    assert tensorflow, "dlguide's dependencies install no TensorFlow"
    assert not {d.replace("-", "_") for d in tensorflow} & {
        d.replace("-", "_") for d in noxfile.ACCELERATOR_DISTRIBUTIONS
    }, "TensorFlow must not be left to the runner"
    kept = noxfile.gpu_constraints((ROOT / "requirements" / "constraints.txt").read_text())
    pins = {canonicalize_name(line.split("==")[0]) for line in kept.splitlines() if "==" in line}
    assert tensorflow & pins, "the gpu session pins TensorFlow as the other sessions do"


def requirement_closure(extras: set[str]) -> set[str]:
    """Distributions `pip install dlguide[extras]` installs, from the installed metadata."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [(Requirement(r), "") for r in project["dependencies"]]
    for extra in sorted(extras):
        todo += [(Requirement(r), "") for r in project["optional-dependencies"][extra]]
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    while todo:
        requirement, parent_extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": parent_extra}):
            continue
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        names.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: its own imports are checked where it is
        for line in requires:
            child = Requirement(line)
            for extra in {"", *requirement.extras}:
                if child.marker is None or child.marker.evaluate({"extra": extra}):
                    todo.append((child, extra))
                    break
    return names


def imported_modules(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))  # a percent chapter is plain Python
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"__future__"}


def test_every_chapter_import_is_provided_by_the_gpu_environment(noxfile: ModuleType):
    assert CHAPTERS, "the book has chapters"
    closure = requirement_closure(installed_extras(noxfile))
    providers = metadata.packages_distributions()
    needed: dict[str, set[str]] = {}
    for chapter in CHAPTERS:
        for module in imported_modules(chapter, top_level_only=False):
            needed.setdefault(module, set()).add(chapter.name)
    # dlguide's modules are imported by the chapters; what they import at module level too.
    for module_path in sorted((ROOT / "dlguide").glob("*.py")):
        for module in imported_modules(module_path, top_level_only=True):
            needed.setdefault(module, set()).add(f"dlguide/{module_path.name}")
    needed.pop("dlguide", None)
    problems = []
    for module, users in sorted(needed.items()):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} (imported by {sorted(users)}) does not resolve")
            continue
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & closure:
            problems.append(
                f"{module} (imported by {sorted(users)}) comes from {sorted(dists)}, which the "
                "gpu session does not install"
            )
    assert not problems, "\n".join(problems)
