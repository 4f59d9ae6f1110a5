"""Executing a chapter: a fresh kernel, a per-cell timeout, a scratch work folder, a run stamp."""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from .chapter import Chapter, ChapterError, apply_profile, chapter_backend

STAMP_MIME = "application/vnd.dlguide.stamp+json"
STAMP_TAG = "dlguide-stamp"

# Runs in the chapter's kernel after its last cell, so it reports what the chapter really ran on.
STAMP_SOURCE = r"""
import importlib.metadata as _md, json as _json, platform as _platform, sys as _sys
from IPython.display import display as _display

def _dlguide_stamp():
    def version(name):
        try:
            return _md.version(name)
        except _md.PackageNotFoundError:
            return None

    cpu = _platform.processor() or _platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    device, backend = f"CPU ({cpu})", None
    if "keras" in _sys.modules:
        import keras
        backend = keras.backend.backend()
        try:
            if backend == "tensorflow":
                import tensorflow as tf
                gpus = tf.config.list_physical_devices("GPU")
                if gpus:
                    details = tf.config.experimental.get_device_details(gpus[0])
                    device = f"GPU ({details.get('device_name', gpus[0].name)})"
            elif backend == "jax":
                import jax
                first = jax.devices()[0]
                if first.platform != "cpu":
                    device = f"{first.platform.upper()} ({first.device_kind})"
            elif backend == "torch":
                import torch
                if torch.cuda.is_available():
                    device = f"GPU ({torch.cuda.get_device_name(0)})"
        except Exception as error:  # report, never fail the chapter over the stamp
            device += f"; accelerator query failed: {error}"
    return {
        "python": _platform.python_version(),
        "keras": version("keras"),
        "tensorflow": version("tensorflow") or version("tensorflow-cpu"),
        "jax": version("jax"),
        "torch": version("torch"),
        "numpy": version("numpy"),
        "backend_loaded": backend,
        "device": device,
    }

_display({"application/vnd.dlguide.stamp+json": _dlguide_stamp()}, raw=True)
"""


class ChapterExecutionError(ChapterError):
    """A cell raised, timed out or killed the kernel."""


@dataclass
class ExecutionResult:
    notebook: nbformat.NotebookNode
    seconds: float
    overrides: dict[str, Any] = field(default_factory=dict)


def _source_line(chapter: Chapter, nb: nbformat.NotebookNode, cell_index: int) -> int | None:
    """Line in the `.py` source where code cell `cell_index` starts (best effort)."""
    try:
        text = chapter.path.read_text(encoding="utf-8")
    except OSError:
        return None
    position = 0
    line_no = None
    for index, cell in enumerate(nb.cells[: cell_index + 1]):
        first = next((line for line in cell.source.splitlines() if line.strip()), None)
        if first is None or cell.cell_type != "code":
            continue
        found = text.find(first, position)
        if found < 0:
            return None
        position = found + len(first)
        if index == cell_index:
            line_no = text.count("\n", 0, found) + 1
    return line_no


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _describe_failure(
    chapter: Chapter,
    nb: nbformat.NotebookNode,
    cell_index: int | None,
    what: str,
    source_nb: nbformat.NotebookNode | None = None,
) -> str:
    if cell_index is None:
        return f"chapter {chapter.src_uri} failed before its first cell: {what}"
    code_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    cell = nb.cells[cell_index]
    if cell.metadata.get("tags") and STAMP_TAG in cell.metadata["tags"]:
        where = "in the run-stamp cell added by the build"
    else:
        number = code_cells.index(cell_index) + 1 if cell_index in code_cells else "?"
        line = _source_line(chapter, source_nb or nb, cell_index)
        where = f"in code cell {number} of {len(code_cells) - 1}" + (
            f" (line {line} of {chapter.src_uri})" if line else ""
        )
    excerpt = "\n".join("    " + line for line in cell.source.splitlines()[:8])
    message = f"chapter {chapter.src_uri} failed {where}:\n{excerpt}\n{_ANSI.sub('', what)}"
    return message + _last_printed(nb, code_cells, cell_index)


def _last_printed(
    nb: nbformat.NotebookNode, code_cells: list[int], cell_index: int, max_lines: int = 6
) -> str:
    """The last lines the chapter printed up to the failure, as a note for the error message.

    A bare `assert` fails without saying what it compared; the numbers the chapter printed just
    before (an accuracy, a loss) usually do. Looks in the failing cell, then back through the
    earlier code cells to the nearest one that printed text.
    """
    for index in reversed([i for i in code_cells if i <= cell_index]):
        text = "".join(
            output.get("text", "")
            if output.get("output_type") == "stream"
            else output.get("data", {}).get("text/plain", "")
            for output in nb.cells[index].get("outputs", [])
            if output.get("output_type") in ("stream", "execute_result")
        )
        if text.strip():
            lines = _ANSI.sub("", text).rstrip().splitlines()[-max_lines:]
            shown = "\n".join("    " + line for line in lines)
            return f"\nlast printed, by code cell {code_cells.index(index) + 1}:\n{shown}"
    return ""


def prepare(chapter: Chapter, profile: str) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """The chapter as the kernel runs it: its source with the profile's values applied.

    Cells get ids from their position (jupytext draws random ones at each read), so the same
    source gives the same notebook and the downloaded notebook changes only when it does.
    """
    nb, overrides = apply_profile(chapter.read(), profile, chapter.src_uri)
    for index, cell in enumerate(nb.cells):
        if "id" in cell:
            cell.id = f"cell-{index}"
    return nb, overrides


def attach_outputs(
    prepared: nbformat.NotebookNode, executed: nbformat.NotebookNode
) -> nbformat.NotebookNode | None:
    """The current chapter `prepared` (see `prepare`) with the outputs of an executed notebook.

    Markdown cells and display metadata (captions, titles, tags) come from `prepared`, outputs,
    execution counts, the run stamp and the run record from `executed`. This is how a prose edit
    re-renders a page without re-executing it. Returns `None` when the code cells of the two
    differ (the executed notebook is not a run of this chapter), so the caller re-executes.
    """

    def code(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
        return [
            cell
            for cell in nb.cells
            if cell.cell_type == "code" and STAMP_TAG not in cell.metadata.get("tags", [])
        ]

    ran = code(executed)
    nb = copy.deepcopy(prepared)
    cells = code(nb)
    if len(cells) != len(ran) or any(a.source != b.source for a, b in zip(cells, ran, strict=True)):
        return None
    for cell, done in zip(cells, ran, strict=True):
        cell.outputs = copy.deepcopy(done.get("outputs", []))
        cell.execution_count = done.get("execution_count")
        if "execution" in done.metadata:
            cell.metadata["execution"] = copy.deepcopy(done.metadata["execution"])
    nb.cells.extend(
        copy.deepcopy(cell) for cell in executed.cells if STAMP_TAG in cell.metadata.get("tags", [])
    )
    for name in ("kernelspec", "language_info"):
        if name in executed.metadata:
            nb.metadata[name] = copy.deepcopy(executed.metadata[name])
    run = (executed.metadata.get("dlguide") or {}).get("run")
    if run is not None:
        nb.metadata["dlguide"] = {**(nb.metadata.get("dlguide") or {}), "run": copy.deepcopy(run)}
    return nb


# Environment variables that size the thread pools of the numerical libraries a chapter uses.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",  # OpenMP (oneDNN builds, scikit-learn)
    "OPENBLAS_NUM_THREADS",  # NumPy's BLAS
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",  # TensorFlow
    "TF_NUM_INTEROP_THREADS",
)


def thread_limits(jobs: int, cores: int | None = None) -> dict[str, str]:
    """Kernel environment that shares `cores` between `jobs` chapters executing at once.

    Each kernel gets `cores // jobs` threads (at least one) in every library that would otherwise
    start one thread per core. Without this, two kernels on two cores run four busy threads, and
    OpenBLAS threads spin-waiting for a core make a NumPy-heavy chapter several times slower.
    Variables already set in the environment are left alone, and one job gets no limits at all.
    XLA (the JAX backend) is limited through `XLA_FLAGS`, appended to any flags already set.
    """
    if jobs <= 1:
        return {}
    threads = str(max(1, (cores or os.cpu_count() or 1) // jobs))
    env = {name: threads for name in THREAD_VARIABLES if name not in os.environ}
    if threads == "1" and "xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        env["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    return env


def execute_chapter(
    chapter: Chapter,
    *,
    profile: str,
    backend: str,
    timeout: int,
    workdir: Path,
    env: dict[str, str] | None = None,
    kernel_name: str = "python3",
) -> ExecutionResult:
    """Execute `chapter` in a fresh kernel with the profile applied.

    Args:
        chapter: The chapter to run.
        profile: `fast` or `full`; its overrides are written into the parameters cell.
        backend: The book's Keras backend (`KERAS_BACKEND` in the kernel's environment), unless
            the chapter's header pins another (`dlguide: backend: ...`), which then runs.
        timeout: Seconds any single cell may run before the build fails.
        workdir: Scratch folder used as the kernel's working directory (emptied first).
        env: Extra environment variables for the kernel.
        kernel_name: Jupyter kernel to run.

    Raises:
        ChapterError: The chapter's header pins an unknown backend or its profile is invalid.
        ChapterExecutionError: A cell raised, exceeded `timeout` or the kernel died; the message
            names the chapter, the cell (with its line in the source) and the error.
    """
    source_nb = chapter.read()
    backend = chapter_backend(source_nb, backend, chapter.src_uri)
    nb, overrides = prepare(chapter, profile)
    stamp = nbformat.v4.new_code_cell(STAMP_SOURCE.strip(), metadata={"tags": [STAMP_TAG]})
    nb.cells.append(stamp)
    nb.metadata["kernelspec"] = {
        "name": kernel_name,
        "display_name": "Python 3",
        "language": "python",
    }

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    kernel_env = {
        **os.environ,
        **(env or {}),
        "KERAS_BACKEND": backend,
        "DLGUIDE_PROFILE": profile,
        "PYTHONDONTWRITEBYTECODE": "1",  # never write into watched source folders
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }

    current: dict[str, int | None] = {"cell": None}

    def on_cell_start(cell: nbformat.NotebookNode, cell_index: int, **_: Any) -> None:
        current["cell"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=120,
        kernel_name=kernel_name,
        # C-level library logs (TensorFlow, XLA) go to kernel.log, not onto the page; what Python
        # code prints or warns is still captured as cell output.
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_start=on_cell_start,
    )
    started = time.perf_counter()
    # The kernel process's own stderr (C-level library logs, not cell output) goes to a log file.
    kernel_log = (workdir / "kernel.log").open("w")
    try:
        client.execute(env=kernel_env, cwd=str(workdir), stderr=kernel_log)
    except CellTimeoutError:
        raise ChapterExecutionError(
            _describe_failure(
                chapter,
                nb,
                current["cell"],
                f"the cell exceeded the cell timeout of {timeout} s",
                source_nb,
            )
        ) from None
    except CellExecutionError as error:
        what = f"{error.ename}: {error.evalue}"
        raise ChapterExecutionError(
            _describe_failure(chapter, nb, current["cell"], what, source_nb)
        ) from None
    except DeadKernelError as error:
        raise ChapterExecutionError(
            _describe_failure(chapter, nb, current["cell"], f"the kernel died: {error}", source_nb)
        ) from None
    finally:
        kernel_log.close()
    seconds = time.perf_counter() - started

    nb.metadata["dlguide"] = {
        **(nb.metadata.get("dlguide") or {}),
        "run": {
            "executed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds, 2),
            "profile": profile,
            "backend": backend,
            # Whether the chapter's header chose the backend (the book's may differ).
            "backend_pinned": "backend" in (source_nb.metadata.get("dlguide") or {}),
            "overrides": {name: repr(value) for name, value in overrides.items()},
            "environment": _stamp_output(nb),
        },
    }
    return ExecutionResult(notebook=nb, seconds=seconds, overrides=overrides)


def _stamp_output(nb: nbformat.NotebookNode) -> dict[str, Any]:
    for cell in reversed(nb.cells):
        if STAMP_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if STAMP_MIME in data:
                    return dict(data[STAMP_MIME])
    return {}
