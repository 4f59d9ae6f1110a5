"""Tests for dlguide.data: the registry, mirror → cache → download lookup, checksums and loaders.

No test touches the network: downloads go through `file://` URLs or a replaced opener, on small
fixtures generated in a temporary folder. Real-data tests read the read-only mirror
(`$DLGUIDE_DATA_MIRROR`, else `../shared/data` next to the repository).
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from dlguide import data

REPO = Path(__file__).resolve().parents[1]
_DEFAULT_MIRROR = REPO.parent / "shared" / "data"


def _real_mirror() -> Path | None:
    value = os.environ.get("DLGUIDE_DATA_MIRROR", "")
    path = Path(value) if value else _DEFAULT_MIRROR
    return path if (path / "concrete_data.csv").is_file() else None


REAL_MIRROR = _real_mirror()
needs_mirror = pytest.mark.skipif(
    REAL_MIRROR is None, reason="no data mirror: set DLGUIDE_DATA_MIRROR to a copy of shared/data"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty cache folder and the real mirror (when there is one)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("DLGUIDE_DATA_HOME", str(cache))
    if REAL_MIRROR is not None:
        monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(REAL_MIRROR))
    else:
        monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    monkeypatch.setattr(data, "_VERIFIED", {})
    return cache


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("the test tried to open a URL")


def _register(
    monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, bytes], source: Path
) -> None:
    """Register data set `name` whose files are `files`, downloadable from `source` via file://."""
    specs = []
    for filename, payload in files.items():
        src = source / filename
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(payload)
        specs.append(
            data.DataFile(
                url=src.as_uri(),
                filename=filename,
                sha256=hashlib.sha256(payload).hexdigest(),
                size=len(payload),
            )
        )
    monkeypatch.setitem(
        data.DATASETS, name, data.Dataset(name, tuple(specs), "test fixture", "test")
    )


# ------------------------------------------------------------------------------------------------
# Registry and folders
# ------------------------------------------------------------------------------------------------


def test_registry_names_and_fields() -> None:
    assert {"concrete", "fashion_mnist", "mnist"} <= set(data.DATASETS)
    for name, ds in data.DATASETS.items():
        assert ds.name == name
        assert ds.files
        for f in ds.files:
            assert f.url.startswith("https://")
            assert len(f.sha256) == 64 and set(f.sha256) <= set("0123456789abcdef")
            assert f.size > 0
    with pytest.raises(AttributeError):
        data.DATASETS["concrete"].files[0].sha256 = "0" * 64  # type: ignore[misc]


def test_mnist_checksum_matches_keras() -> None:
    # Our registry and keras.datasets.mnist must agree on the canonical file.
    from keras.src.datasets import mnist as keras_mnist

    source = inspect.getsource(keras_mnist)
    assert data.DATASETS["mnist"].files[0].sha256 in source
    folder, _, fname = data.DATASETS["mnist"].files[0].url.rpartition("/")
    assert f'"{folder}/"' in source and fname == "mnist.npz"


@needs_mirror
def test_registry_matches_mirror_sizes_and_checksums() -> None:
    assert REAL_MIRROR is not None
    for name in ("concrete", "fashion_mnist"):
        for f in data.DATASETS[name].files:
            path = REAL_MIRROR / f.filename
            assert path.stat().st_size == f.size
            assert data.file_sha256(path) == f.sha256


def test_data_home_env_and_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DLGUIDE_DATA_HOME", str(tmp_path / "x"))
    assert data.data_home() == tmp_path / "x"
    monkeypatch.delenv("DLGUIDE_DATA_HOME")
    assert data.data_home() == Path.home() / ".cache" / "dlguide"


def test_mirror_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    assert data.mirror_dir() is None
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", "")
    assert data.mirror_dir() is None
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(tmp_path))
    assert data.mirror_dir() == tmp_path
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="not an existing folder"):
        data.mirror_dir()


def test_file_sha256(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"abc" * 1_000_000)  # > one 1 MiB chunk
    assert data.file_sha256(p) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()


# ------------------------------------------------------------------------------------------------
# fetch: bad names, mirror, cache, download
# ------------------------------------------------------------------------------------------------


def test_fetch_unknown_name_lists_known() -> None:
    with pytest.raises(
        ValueError, match=r"unknown data set 'cifar'.*concrete.*fashion_mnist.*mnist"
    ):
        data.fetch("cifar")
    with pytest.raises(TypeError, match="str"):
        data.fetch(3)  # type: ignore[arg-type]


@needs_mirror
def test_fetch_uses_mirror_without_copying(
    monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    monkeypatch.setattr(data, "_urlopen", _no_network)
    assert REAL_MIRROR is not None
    path = data.fetch("concrete")
    assert path == REAL_MIRROR / "concrete_data.csv"
    paths = data.fetch("fashion_mnist")
    assert isinstance(paths, list) and len(paths) == 4
    assert [p.name for p in paths] == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert not _isolated.exists()  # nothing was copied into the cache


def test_corrupt_mirror_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _register(monkeypatch, "toy", {"toy.csv": b"a,b\n1,2\n"}, tmp_path / "origin")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "toy.csv").write_bytes(b"a,b\n1,3\n")  # one byte differs
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    expected = data.DATASETS["toy"].files[0].sha256
    actual = hashlib.sha256(b"a,b\n1,3\n").hexdigest()
    with pytest.raises(ValueError) as info:
        data.fetch("toy")
    message = str(info.value)
    assert str(mirror / "toy.csv") in message
    assert expected in message and actual in message
    assert "good copy" in message
    assert not (data.data_home() / "toy.csv").exists()  # not copied, not downloaded around it


def test_corrupt_cache_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR")
    _register(monkeypatch, "toy", {"sub/toy.bin": b"\x00\x01\x02"}, tmp_path / "origin")
    cached = data.data_home() / "sub" / "toy.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"\x00\x01")  # truncated
    monkeypatch.setattr(data, "_urlopen", _no_network)
    with pytest.raises(ValueError, match=r"Delete it") as info:
        data.fetch("toy")
    assert str(cached) in str(info.value)
    assert hashlib.sha256(b"\x00\x01").hexdigest() in str(info.value)
    # Deleting it, as the message says, makes fetch download a good copy.
    cached.unlink()
    monkeypatch.setattr(data, "_urlopen", data.urllib.request.urlopen)
    assert data.fetch("toy") == cached
    assert cached.read_bytes() == b"\x00\x01\x02"


def test_download_into_cache_then_reuse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR")
    payload = os.urandom(3 << 20)  # 3 MiB: several read chunks
    _register(monkeypatch, "toy", {"a/toy.bin": payload, "b.txt": b"hello"}, tmp_path / "origin")
    paths = data.fetch("toy")
    assert paths == [data.data_home() / "a" / "toy.bin", data.data_home() / "b.txt"]
    assert paths[0].read_bytes() == payload
    assert sorted(p.name for p in (data.data_home() / "a").iterdir()) == ["toy.bin"]  # no .part
    # Second call: verified from the cache, no download.
    monkeypatch.setattr(data, "_urlopen", _no_network)
    monkeypatch.setattr(data, "_VERIFIED", {})
    assert data.fetch("toy") == paths


def test_mirror_missing_file_falls_back_to_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register(monkeypatch, "toy", {"toy.txt": b"payload"}, tmp_path / "origin")
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(empty_mirror))
    assert data.fetch("toy") == data.data_home() / "toy.txt"
    assert list(empty_mirror.iterdir()) == []


def test_bad_download_is_deleted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR")
    _register(monkeypatch, "toy", {"toy.txt": b"good"}, tmp_path / "origin")
    (tmp_path / "origin" / "toy.txt").write_bytes(b"evil")  # the server now serves other bytes
    with pytest.raises(ValueError, match="was deleted") as info:
        data.fetch("toy")
    assert hashlib.sha256(b"good").hexdigest() in str(info.value)
    assert hashlib.sha256(b"evil").hexdigest() in str(info.value)
    assert list(data.data_home().iterdir()) == []  # neither the file nor a .part remains


def test_download_failure_says_how_to_work_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR")

    def refuse(url: str, timeout: float) -> io.BytesIO:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(data, "_urlopen", refuse)
    with pytest.raises(
        OSError, match=r"could not download .*concrete_data\.csv.*DLGUIDE_DATA_MIRROR"
    ):
        data.fetch("concrete")
    assert list(data.data_home().rglob("*")) == []


def test_download_through_replaced_opener(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR")
    _register(monkeypatch, "toy", {"toy.txt": b"served"}, tmp_path / "origin")
    seen: list[str] = []

    def opener(url: str, timeout: float) -> io.BytesIO:
        seen.append(url)
        return io.BytesIO(b"served")

    monkeypatch.setattr(data, "_urlopen", opener)
    path = data.fetch("toy")
    assert seen == [data.DATASETS["toy"].files[0].url]
    assert path.read_bytes() == b"served"


# ------------------------------------------------------------------------------------------------
# Loaders on the real files
# ------------------------------------------------------------------------------------------------


@needs_mirror
def test_load_concrete() -> None:
    df = data.load_concrete()
    assert df.shape == (1030, 9)
    assert tuple(df.columns) == data.CONCRETE_COLUMNS
    assert df.columns[-1] == "Strength"
    # First row and target mean of Yeh's table (UCI), exact to the CSV's decimals.
    np.testing.assert_allclose(
        df.iloc[0].to_numpy(), [540.0, 0.0, 0.0, 162.0, 2.5, 1040.0, 676.0, 28, 79.99]
    )
    assert abs(df["Strength"].mean() - 35.8178) < 5e-4
    assert df.isna().sum().sum() == 0


@needs_mirror
def test_load_fashion_mnist_matches_keras(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    assert len(data.FASHION_MNIST_CLASSES) == 10
    assert data.FASHION_MNIST_CLASSES[9] == "Ankle boot"
    # Cross-check with Keras' own loader, pointed at links to the same mirror files.
    import keras
    from keras.src.backend import config

    assert REAL_MIRROR is not None
    home = tmp_path / "keras_home"
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for f in data.DATASETS["fashion_mnist"].files:
        (folder / Path(f.filename).name).symlink_to(REAL_MIRROR / f.filename)
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    (kx_train, ky_train), (kx_test, ky_test) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, kx_train)
    np.testing.assert_array_equal(y_train, ky_train)
    np.testing.assert_array_equal(x_test, kx_test)
    np.testing.assert_array_equal(y_test, ky_test)


# ------------------------------------------------------------------------------------------------
# Loaders on small generated fixtures (same formats)
# ------------------------------------------------------------------------------------------------


def _idx(array: np.ndarray) -> bytes:
    header = np.array([0x800 + array.ndim, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def _fake_fashion(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, n: int = 5) -> tuple:
    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n, dtype=np.uint8),
        rng.integers(0, 256, (n - 2, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n - 2, dtype=np.uint8),
    )
    names = [f.filename for f in data.DATASETS["fashion_mnist"].files]
    _register(
        monkeypatch,
        "fashion_mnist",
        {k: _idx(a) for k, a in zip(names, arrays, strict=True)},
        tmp_path,
    )
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    return arrays


def test_load_fashion_mnist_parses_idx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    xa, ya, xb, yb = _fake_fashion(monkeypatch, tmp_path)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    for got, want in ((x_train, xa), (y_train, ya), (x_test, xb), (y_test, yb)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.uint8
    assert x_train.flags.writeable  # a copy, not a read-only view of the file's bytes


def test_load_fashion_mnist_rejects_wrong_magic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    names = [f.filename for f in data.DATASETS["fashion_mnist"].files]
    labels_as_images = _idx(np.zeros(100, dtype=np.uint8))  # 1-D where 3-D belongs
    payloads = {names[0]: labels_as_images}
    payloads.update({k: _idx(np.zeros((4, 28, 28) if "images" in k else 4)) for k in names[1:]})
    _register(monkeypatch, "fashion_mnist", payloads, tmp_path)
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    with pytest.raises(ValueError, match=r"expected IDX magic 0x00000803, got 0x00000801"):
        data.load_fashion_mnist()


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def test_load_mnist_on_fixture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # mnist.npz itself is not available offline; a small file in the same format stands in for it,
    # registered with its own checksum and "downloaded" through file://.
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    _register(monkeypatch, "mnist", {"mnist.npz": _npz(**arrays)}, tmp_path / "origin")
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert (data.data_home() / "mnist.npz").is_file()


def test_load_mnist_rejects_missing_arrays_and_bad_shapes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    x = np.zeros((2, 28, 28), np.uint8)
    y = np.zeros(2, np.uint8)
    _register(monkeypatch, "mnist", {"mnist.npz": _npz(x_train=x, y_train=y)}, tmp_path / "o1")
    with pytest.raises(ValueError, match=r"lacks the arrays \['x_test', 'y_test'\]"):
        data.load_mnist()
    monkeypatch.setenv("DLGUIDE_DATA_HOME", str(tmp_path / "cache2"))
    bad = _npz(x_train=x, y_train=np.zeros(3, np.uint8), x_test=x, y_test=y)
    _register(monkeypatch, "mnist", {"mnist.npz": bad}, tmp_path / "o2")
    with pytest.raises(ValueError, match=r"mnist train: expected images \(n, 28, 28\)"):
        data.load_mnist()


def test_load_mnist_refuses_wrong_file_in_cache(
    monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    # The real registry entry: a wrong file where mnist.npz belongs is refused, not loaded.
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    _isolated.mkdir()
    (_isolated / "mnist.npz").write_bytes(_npz(x_train=np.zeros((1, 28, 28), np.uint8)))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    with pytest.raises(ValueError, match=data.DATASETS["mnist"].files[0].sha256):
        data.load_mnist()


# ------------------------------------------------------------------------------------------------
# Archives checked by their extracted member (spa-eng.zip: mirrors re-pack it)
# ------------------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return buffer.getvalue()


def _register_member(
    monkeypatch: pytest.MonkeyPatch, origin: Path, archive: bytes, member: bytes
) -> data.DataFile:
    origin.mkdir(parents=True, exist_ok=True)
    (origin / "pairs.zip").write_bytes(archive)
    spec = data.DataFile(
        url=(origin / "pairs.zip").as_uri(),
        filename="pairs.zip",
        member="pairs/text.txt",
        sha256=hashlib.sha256(member).hexdigest(),
        size=len(member),
    )
    monkeypatch.setitem(data.DATASETS, "pairs", data.Dataset("pairs", (spec,), "fixture", "test"))
    return spec


MEMBER = "Go.\tVe.\nRun!\t¡Corre!\n".encode()


def test_member_of_a_repacked_archive_is_accepted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Two archives with different bytes (another order, another member) hold the same text.
    canonical = _zip({"pairs/text.txt": MEMBER, "pairs/about.txt": b"a"})
    repacked = _zip({"pairs/about.txt": b"a", "pairs/extra.txt": b"b", "pairs/text.txt": MEMBER})
    assert canonical != repacked
    _register_member(monkeypatch, tmp_path / "origin", canonical, MEMBER)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "pairs.zip").write_bytes(repacked)
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    path = data.fetch("pairs")
    assert path == data.data_home() / "pairs" / "text.txt"
    assert path.read_bytes() == MEMBER
    assert sorted(p.name for p in mirror.iterdir()) == ["pairs.zip"]  # the mirror is read-only
    # Second call: the extracted member is used from the cache, even without the mirror.
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR")
    monkeypatch.setattr(data, "_VERIFIED", {})
    assert data.fetch("pairs") == path


def test_member_from_a_downloaded_archive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    _register_member(monkeypatch, tmp_path / "origin", _zip({"pairs/text.txt": MEMBER}), MEMBER)
    path = data.fetch("pairs")
    assert path.read_bytes() == MEMBER
    assert sorted(p.name for p in data.data_home().rglob("*")) == ["pairs", "pairs.zip", "text.txt"]


def test_member_extracted_member_in_the_mirror_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register_member(monkeypatch, tmp_path / "origin", b"not used", MEMBER)
    mirror = tmp_path / "mirror"
    (mirror / "pairs").mkdir(parents=True)
    (mirror / "pairs" / "text.txt").write_bytes(MEMBER)
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    assert data.fetch("pairs") == mirror / "pairs" / "text.txt"


def test_wrong_member_is_refused_and_not_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    other = b"Go.\tVete.\n"
    _register_member(monkeypatch, tmp_path / "origin", _zip({"pairs/text.txt": other}), MEMBER)
    with pytest.raises(ValueError, match=r"pairs/text.txt extracted from .* not the expected") as e:
        data.fetch("pairs")
    assert hashlib.sha256(other).hexdigest() in str(e.value)
    assert hashlib.sha256(MEMBER).hexdigest() in str(e.value)
    assert [p for p in data.data_home().rglob("*") if p.is_file()] == []  # neither zip nor text


@pytest.mark.parametrize(
    ("archive", "match"),
    [
        pytest.param(b"plain bytes", "not a zip archive", id="not-a-zip"),
        pytest.param(_zip({"other.txt": MEMBER}), "not a zip archive holding", id="no-member"),
    ],
)
def test_bad_archive_in_the_mirror(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, archive: bytes, match: str
) -> None:
    _register_member(monkeypatch, tmp_path / "origin", archive, MEMBER)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "pairs.zip").write_bytes(archive)
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    with pytest.raises(ValueError, match=match):
        data.fetch("pairs")


@needs_mirror
def test_load_co2_names_its_source() -> None:
    co2 = data.load_co2()
    assert len(co2) == 2284 and int(co2.isna().sum()) == 59
    assert co2.index[0].strftime("%Y-%m-%d") == "1958-03-29"
    assert co2.iloc[0] == pytest.approx(316.1)
    assert "Mauna Loa" in data.CO2_SOURCE and "statsmodels" in data.CO2_SOURCE


# ---------------------------------------------------------------------------------------------
# fashion_mnist_splits: chapter 8's stratified split, reused by chapters 9 and 12
# ---------------------------------------------------------------------------------------------


@needs_mirror
def test_fashion_mnist_splits_is_the_stratified_split_of_the_training_images() -> None:
    from sklearn.model_selection import train_test_split

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = data.fashion_mnist_splits(2_000, 1_000, seed=7)
    (x_all, y_all), (x_test, y_test) = data.load_fashion_mnist()
    expected = train_test_split(
        x_all, y_all, train_size=2_000, test_size=1_000, stratify=y_all, random_state=7
    )
    for got, want in zip((x_tr, x_va, y_tr, y_va), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x_te, x_test)
    np.testing.assert_array_equal(y_te, y_test)
    assert x_tr.shape == (2_000, 28, 28) and x_va.shape == (1_000, 28, 28)
    assert np.all(np.bincount(y_tr, minlength=10) == 200)
    assert np.all(np.bincount(y_va, minlength=10) == 100)
    # Training and validation images are different images of the 60,000 (no row in both).
    rows_tr = {row.tobytes() for row in x_tr}
    assert not any(row.tobytes() in rows_tr for row in x_va)
    # Same seed, same split; another seed, another one.
    again = data.fashion_mnist_splits(2_000, 1_000, seed=7)
    np.testing.assert_array_equal(again[0][1], y_tr)
    other = data.fashion_mnist_splits(2_000, 1_000, seed=8)
    assert not np.array_equal(other[0][0], x_tr)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"n_train": 5}, ValueError, "n_train must be at least 10", id="too-few-train"),
        pytest.param({"n_val": 0}, ValueError, "n_val must be at least 10", id="too-few-val"),
        pytest.param(
            {"n_train": 59_000, "n_val": 2_000},
            ValueError,
            "at most 60000, got 61000",
            id="more-than-the-training-set",
        ),
        pytest.param({"n_train": 1_000.0}, TypeError, "n_train must be an int", id="float-size"),
        pytest.param({"seed": -1}, ValueError, "seed must be at least 0", id="negative-seed"),
        pytest.param({"seed": None}, TypeError, "seed must be an int, got NoneType", id="no-seed"),
    ],
)
def test_fashion_mnist_splits_rejects_bad_sizes(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    args: dict[str, object] = {"n_train": 1_000, "n_val": 500, "seed": 0, **kwargs}
    with pytest.raises(error, match=match):
        data.fashion_mnist_splits(**args)  # type: ignore[arg-type]
