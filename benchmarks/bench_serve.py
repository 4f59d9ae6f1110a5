"""Load test of dlguide.serve: a real uvicorn process on loopback, concurrent async httpx clients.

The script saves the model shape chapter 13 serves (MobileNet v1 alpha=0.25 at 224x224 with
ImageNet weights and a one-unit sigmoid head; the head's weights do not change the cost) as a
`.keras` file, starts `python -m dlguide.serve` on a free port of 127.0.0.1, waits for `/health`,
then lets `$BENCH_CLIENTS` clients (default 8) post a real 640x640 test photograph of the aircraft
damage set to `/predict` in a loop for `$BENCH_SECONDS` seconds (default 20). Each client sends its
next request as soon as the previous answer arrives. It prints

- requests completed, requests per second;
- latency percentiles p50 / p95 / p99 and the maximum, in milliseconds;
- errors: answers other than 200 plus requests that failed (goal: 0).

Nothing leaves the machine: the server listens on 127.0.0.1 only and is stopped at the end, also on
error. Run it with `python benchmarks/bench_serve.py` (about 30-60 s on 2 cores, mostly the
server's start).
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import httpx
import keras
import numpy as np
from PIL import Image

from dlguide.data import aircraft_damage_dir, fetch

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
START_TIMEOUT = 180.0  # seconds for the server to import TensorFlow and load the model


def save_model(path: Path) -> None:
    """The chapter's architecture: rescaling, MobileNet alpha=0.25 (ImageNet), pooling, sigmoid."""
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNet(
        input_shape=(224, 224, 3),
        alpha=0.25,
        include_top=False,
        weights=str(fetch("mobilenet_025_imagenet")),
    )
    model = keras.Sequential(
        [
            keras.Input((224, 224, 3)),
            keras.layers.Rescaling(1 / 127.5, offset=-1),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.save(path)


def test_photo() -> bytes:
    """A real test photograph (640x640 JPEG), or a seeded noise JPEG of that size without data."""
    try:
        return sorted((aircraft_damage_dir() / "test" / "dent").glob("*.jpg"))[0].read_bytes()
    except (OSError, ValueError):
        pixels = np.random.default_rng(0).integers(0, 256, (640, 640, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG")
        return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return httpx.get(f"{url}/health", timeout=5).json()
        except httpx.TransportError:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with code {server.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"no answer from {url}/health in {START_TIMEOUT:.0f} s"
                ) from None
            time.sleep(0.5)


async def client(
    http: httpx.AsyncClient, photo: bytes, stop_at: float, latencies: list, errors: list
) -> None:
    while time.perf_counter() < stop_at:
        start = time.perf_counter()
        try:
            r = await http.post("/predict", files={"file": ("photo.jpg", photo, "image/jpeg")})
            if r.status_code != 200:
                errors.append(f"HTTP {r.status_code}: {r.text[:80]}")
                continue
        except httpx.HTTPError as err:
            errors.append(f"{type(err).__name__}: {err}")
            continue
        latencies.append(time.perf_counter() - start)


async def load(url: str, photo: bytes) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        start = time.perf_counter()
        stop_at = start + SECONDS
        await asyncio.gather(
            *(client(http, photo, stop_at, latencies, errors) for _ in range(CLIENTS))
        )
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    photo = test_photo()
    with tempfile.TemporaryDirectory() as folder:
        model_path = Path(folder) / "mobilenet_025.keras"
        save_model(model_path)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "dlguide.serve", str(model_path), "--classes"]
        command += ["crack,dent", "--host", "127.0.0.1", "--port", str(port)]
        started = time.perf_counter()
        server = subprocess.Popen(command)
        try:
            health = wait_until_healthy(url, server)
            ready = time.perf_counter() - started
            # one request to warm the connection and the model before timing
            httpx.post(f"{url}/predict", files={"file": ("photo.jpg", photo)}, timeout=60)
            latencies, errors, elapsed = asyncio.run(load(url, photo))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    ms = [1000 * t for t in latencies]
    print(f"model {health['model_version']}, input {health['input_size']}, photo {len(photo):,} B")
    print(f"server ready after {ready:.1f} s (process start, imports, model load, warm-up)")
    print(f"{CLIENTS} concurrent clients for {elapsed:.1f} s on 127.0.0.1")
    print(f"requests completed: {len(latencies)}  ({len(latencies) / elapsed:.1f} requests/s)")
    print(
        f"latency ms: p50 {percentile(ms, 50):.0f}  p95 {percentile(ms, 95):.0f}  "
        f"p99 {percentile(ms, 99):.0f}  max {max(ms, default=float('nan')):.0f}  "
        f"mean {statistics.fmean(ms) if ms else float('nan'):.0f}"
    )
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    main()
