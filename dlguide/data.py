r"""Data sets of the book: a small registry of verified downloads.

Every data set the chapters use is a [`Dataset`][dlguide.data.Dataset] in
[`DATASETS`][dlguide.data.DATASETS]: for each file its canonical URL, its name, its SHA-256 and its
size. [`fetch`][dlguide.data.fetch] returns local copies that match those checksums. It looks in
three places, in this order:

1. the **mirror** folder named by `$DLGUIDE_DATA_MIRROR` (offline copies, read-only; see
   [`mirror_dir`][dlguide.data.mirror_dir]);
2. the **cache** folder `$DLGUIDE_DATA_HOME` (default `~/.cache/dlguide`; see
   [`data_home`][dlguide.data.data_home]);
3. the **canonical URL**, downloaded into the cache.

A file found in the mirror or the cache is checked against its SHA-256 before use. A file that does
not match is never used: you get a `ValueError` that names the file, both checksums and the fix. A
download that does not match is deleted.

Some archives are re-packed by mirrors, so their bytes differ while their content does not. For
those the registry checks the **extracted member** instead of the archive: a `DataFile` with a
`member` (e.g. `spa-eng/spa.txt` inside `spa-eng.zip`) carries the member's SHA-256, and `fetch`
extracts it into the cache and verifies it there. The same holds for archives published with no
checksum at all, such as the tar of the aircraft damage images: each of its 446 images is
registered with its own SHA-256, and the archive is downloaded once for all of them.

The loaders ([`load_concrete`][dlguide.data.load_concrete],
[`load_fashion_mnist`][dlguide.data.load_fashion_mnist], [`load_mnist`][dlguide.data.load_mnist],
[`load_co2`][dlguide.data.load_co2]) turn the verified files into pandas tables and NumPy arrays;
[`fashion_mnist_splits`][dlguide.data.fashion_mnist_splits] adds the stratified validation set that
chapter 8 carves out and later chapters reuse;
[`aircraft_damage_dir`][dlguide.data.aircraft_damage_dir] returns the verified image folder that
`keras.utils.image_dataset_from_directory` reads.
The English–Spanish pairs are read by
[`dlguide.text.load_translation_pairs`][dlguide.text.load_translation_pairs].
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from dlguide._checks import check_int

__all__ = [
    "AIRCRAFT_DAMAGE_CLASSES",
    "CO2_SOURCE",
    "CONCRETE_COLUMNS",
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "DataFile",
    "Dataset",
    "aircraft_damage_dir",
    "data_home",
    "fetch",
    "file_sha256",
    "load_co2",
    "load_concrete",
    "load_fashion_mnist",
    "load_mnist",
    "mirror_dir",
]

_CHUNK = 1 << 20  # read and hash files 1 MiB at a time

_KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class DataFile:
    r"""One file of a data set.

    Attributes:
        url: Canonical download address.
        filename: Path of the file relative to the mirror and cache folders, with `/` separators,
            e.g. `"fashion-mnist/train-labels-idx1-ubyte.gz"`.
        sha256: Expected SHA-256 of the file's bytes, 64 lowercase hex digits; of the member's
            bytes when `member` is set.
        size: Expected size in bytes (of the member when `member` is set).
        member: `None` for a plain file. Otherwise `filename` is a zip or tar archive whose bytes
            are not checked (mirrors re-pack it), and `member` is the path inside it, e.g.
            `"spa-eng/spa.txt"`, whose bytes `sha256` and `size` describe. The member is extracted
            to the cache under the same path and [`fetch`][dlguide.data.fetch] returns it.
    """

    url: str
    filename: str
    sha256: str
    size: int
    member: str | None = None


@dataclass(frozen=True)
class Dataset:
    r"""A named data set: one or more [`DataFile`][dlguide.data.DataFile]s and where they come from.

    Attributes:
        name: Registry key, e.g. `"concrete"`.
        files: The files, in the order [`fetch`][dlguide.data.fetch] returns them.
        description: One line on what the data is.
        license: Licence and attribution.
    """

    name: str
    files: tuple[DataFile, ...]
    description: str
    license: str


DATASETS: dict[str, Dataset] = {
    "concrete": Dataset(
        name="concrete",
        files=(
            DataFile(
                url=(
                    "https://s3-api.us-geo.objectstorage.softlayer.net/cf-courses-data/"
                    "CognitiveClass/DL0101EN/labs/data/concrete_data.csv"
                ),
                filename="concrete_data.csv",
                sha256="07866685127575e44c3a61f9bfc1169e59e207a8a9e87aa3ff2af507b6fd0af3",
                size=56_928,
            ),
        ),
        description="Concrete compressive strength: 1,030 mixtures, 8 predictors, target Strength.",
        license="CC BY 4.0; I-Cheng Yeh, UCI Machine Learning Repository (IBM DL0101EN copy).",
    ),
    "fashion_mnist": Dataset(
        name="fashion_mnist",
        files=tuple(
            DataFile(
                url=_KERAS_DATASETS + name, filename="fashion-mnist/" + name, sha256=sha, size=n
            )
            for name, sha, n in (
                (
                    "train-images-idx3-ubyte.gz",
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    26_421_880,
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    29_515,
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    4_422_102,
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                    5_148,
                ),
            )
        ),
        description="Fashion-MNIST: 70,000 grey 28x28 images of 10 kinds of clothing.",
        license="MIT; (c) 2017 Zalando SE.",
    ),
    "mnist": Dataset(
        name="mnist",
        files=(
            DataFile(
                url=_KERAS_DATASETS + "mnist.npz",
                filename="mnist.npz",
                sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                size=11_490_434,
            ),
        ),
        description="MNIST: 70,000 grey 28x28 images of handwritten digits (Keras' mnist.npz).",
        license="CC BY-SA 3.0; Yann LeCun and Corinna Cortes.",
    ),
    "spa_eng": Dataset(
        name="spa_eng",
        files=(
            DataFile(
                url="https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip",
                filename="spa-eng.zip",
                member="spa-eng/spa.txt",
                sha256="6ec60e212f812ee3430f7568ea6f33b6fb080e32193c5952e8da0ee8ba45574c",
                size=8_042_772,
            ),
        ),
        description=(
            "English-Spanish sentence pairs: 118,964 lines 'English<TAB>Spanish' (manythings.org "
            "Anki file of 2018-05-13, as in the TensorFlow and keras-io translation examples)."
        ),
        license="CC BY 2.0 FR; sentences from tatoeba.org, pairs from manythings.org/anki.",
    ),
    "aircraft_damage": Dataset(
        name="aircraft_damage",
        files=tuple(
            DataFile(
                url=(
                    "https://cf-courses-data.s3.us.cloud-object-storage.appdomain.cloud/"
                    "ZjXM4RKxlBK9__ZjHBLl5A/aircraft-damage-dataset-v1.tar"
                ),
                filename="aircraft-damage-dataset-v1.tar",
                member="aircraft_damage_dataset_v1/" + path,
                sha256=sha,
                size=n,
            )
            for path, (sha, n) in json.loads(
                (
                    Path(__file__).parent / "checksums" / "aircraft_damage_dataset_v1.json"
                ).read_text()
            )["files"].items()
        ),
        description=(
            "Aircraft damage: 446 640x640 JPEG photographs, crack or dent, in train (150/150), "
            "valid (48/48) and test (25/25) folders (the IBM course's tar archive)."
        ),
        license="CC BY 4.0; Roboflow 'Aircraft Damage Detection' images (IBM Skills Network copy).",
    ),
    "mobilenet_025_imagenet": Dataset(
        name="mobilenet_025_imagenet",
        files=(
            DataFile(
                url=_KERAS_APPLICATIONS + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",
                filename="keras-applications/mobilenet_2_5_224_tf_no_top.h5",
                sha256="dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",
                size=2_108_140,
            ),
        ),
        description=(
            "ImageNet weights of MobileNet v1, alpha 0.25, 224x224, without the classifier top "
            "(for keras.applications.MobileNet(alpha=0.25, include_top=False, weights=path))."
        ),
        license="Apache-2.0; converted by Keras from Google's MobileNet v1 checkpoints.",
    ),
}
"""The registry: data set name → [`Dataset`][dlguide.data.Dataset]."""

AIRCRAFT_DAMAGE_CLASSES: tuple[str, ...] = ("crack", "dent")
"""Aircraft damage class names, in the alphabetical folder order in which Keras labels them:
`crack`=0, `dent`=1."""

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""Fashion-MNIST class names; label `k` is `FASHION_MNIST_CLASSES[k]`."""

CONCRETE_COLUMNS: tuple[str, ...] = (
    "Cement",
    "Blast Furnace Slag",
    "Fly Ash",
    "Water",
    "Superplasticizer",
    "Coarse Aggregate",
    "Fine Aggregate",
    "Age",
    "Strength",
)
"""Columns of the concrete table: eight predictors, then the target `Strength`."""


# --------------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------------


def data_home() -> Path:
    r"""Return the cache folder that downloads go to.

    It is `$DLGUIDE_DATA_HOME` when that variable is set and not empty, else `~/.cache/dlguide`.
    The folder is not created here; [`fetch`][dlguide.data.fetch] creates it when it downloads.

    Returns:
        The cache folder as an absolute path.

    Examples:
        >>> import os
        >>> saved = os.environ.get("DLGUIDE_DATA_HOME")
        >>> os.environ["DLGUIDE_DATA_HOME"] = "/tmp/dlguide-cache"
        >>> str(data_home())
        '/tmp/dlguide-cache'
        >>> if saved is None: del os.environ["DLGUIDE_DATA_HOME"]
        ... else: os.environ["DLGUIDE_DATA_HOME"] = saved
    """
    value = os.environ.get("DLGUIDE_DATA_HOME", "")
    if value:
        return Path(value).expanduser().absolute()
    return Path.home() / ".cache" / "dlguide"


def mirror_dir() -> Path | None:
    r"""Return the offline mirror folder, or `None` when there is none.

    The mirror is named by `$DLGUIDE_DATA_MIRROR`. It is laid out like the registry's file names:
    `concrete_data.csv`, `fashion-mnist/*.gz`, `mnist.npz`. Files in it are only read, never
    written.

    Returns:
        The mirror folder, or `None` when the variable is unset or empty.

    Raises:
        ValueError: If the variable names something that is not an existing folder.

    Examples:
        >>> import os
        >>> saved = os.environ.pop("DLGUIDE_DATA_MIRROR", None)
        >>> mirror_dir() is None
        True
        >>> if saved is not None: os.environ["DLGUIDE_DATA_MIRROR"] = saved
    """
    value = os.environ.get("DLGUIDE_DATA_MIRROR", "")
    if not value:
        return None
    path = Path(value).expanduser().absolute()
    if not path.is_dir():
        raise ValueError(
            f"DLGUIDE_DATA_MIRROR={value!r} is not an existing folder; expected a folder laid out "
            "like shared/data (concrete_data.csv, fashion-mnist/*.gz, mnist.npz), or unset the "
            "variable to download into the cache instead"
        )
    return path


# --------------------------------------------------------------------------------------------------
# Verification and download
# --------------------------------------------------------------------------------------------------


def file_sha256(path: str | os.PathLike[str]) -> str:
    r"""Return the SHA-256 of a file's bytes as 64 lowercase hex digits.

    Args:
        path: The file.

    Returns:
        The hex digest, as `sha256sum` prints it.

    Raises:
        FileNotFoundError: If the file does not exist.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "empty"
        >>> _ = p.write_bytes(b"")
        >>> file_sha256(p)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# Paths already verified in this process, keyed by (path, size, mtime_ns) → sha256, so that loading
# a data set twice does not hash 30 MB twice. A file that changes on disk changes its key.
_VERIFIED: dict[tuple[str, int, int], str] = {}


def _check(path: Path, spec: DataFile, where: str, fix: str) -> Path:
    """Return `path` if its bytes match `spec`, else raise a ValueError naming both checksums."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    actual = _VERIFIED.get(key)
    if actual is None:
        actual = file_sha256(path)
    if actual != spec.sha256:
        raise ValueError(
            f"{where} file {path} is corrupt or not the expected file: expected SHA-256 "
            f"{spec.sha256} ({spec.size} bytes), got {actual} ({stat.st_size} bytes). {fix}"
        )
    _VERIFIED[key] = actual
    return path


# The function used to open URLs; tests replace it to simulate downloads without a network.
_urlopen = urllib.request.urlopen


def _download(spec: DataFile, dest: Path, *, verify: bool = True) -> Path:
    """Download `spec.url` to `dest` through a temporary file, verify it, then move it in place.

    With `verify=False` (an archive whose member is checked instead) the bytes are not checked.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out, _urlopen(spec.url, timeout=60) as response:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if verify and actual != spec.sha256:
            raise ValueError(
                f"download of {spec.url} does not match the registry: expected SHA-256 "
                f"{spec.sha256} ({spec.size} bytes), got {actual} ({size} bytes). The download "
                f"was deleted. Retry later, or put a verified copy at {dest} or under "
                f"$DLGUIDE_DATA_MIRROR as {spec.filename}"
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as err:
        raise OSError(
            f"could not download {spec.url} ({err}). Without network access, set "
            f"DLGUIDE_DATA_MIRROR to a folder holding {spec.filename}, or put a verified copy "
            f"at {dest}"
        ) from err
    finally:
        tmp.unlink(missing_ok=True)
    if verify:
        st = dest.stat()
        _VERIFIED[(str(dest), st.st_size, st.st_mtime_ns)] = spec.sha256
    return dest


@contextlib.contextmanager
def _open_member(archive: Path, member: str) -> Iterator[IO[bytes]]:
    """Open `member` of a zip or tar `archive` for reading (a tar's leading `./` is ignored)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src:
            yield src
        return
    with tarfile.open(archive) as tar:
        names = {info.name.removeprefix("./"): info for info in tar.getmembers() if info.isfile()}
        stream = tar.extractfile(names[member])  # KeyError if absent
        assert stream is not None
        yield stream


def _extract_member(spec: DataFile, archive: Path, dest: Path) -> Path:
    """Extract `spec.member` of a zip or tar `archive` to `dest` and verify it; a bad member is
    deleted."""
    assert spec.member is not None
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, _open_member(archive, spec.member) as src:
                shutil.copyfileobj(src, out, _CHUNK)
        except (zipfile.BadZipFile, tarfile.TarError, KeyError) as err:
            raise ValueError(
                f"{archive} is not a {'tar' if '.tar' in archive.name else 'zip'} archive holding "
                f"{spec.member} ({err}). Replace it with a copy of {spec.url}"
            ) from err
        actual = file_sha256(tmp)
        if actual != spec.sha256:
            raise ValueError(
                f"{spec.member} extracted from {archive} is not the expected file: expected "
                f"SHA-256 {spec.sha256} ({spec.size} bytes), got {actual} ({tmp.stat().st_size} "
                f"bytes). It was not kept. Replace the archive with a copy of {spec.url}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    st = dest.stat()
    _VERIFIED[(str(dest), st.st_size, st.st_mtime_ns)] = spec.sha256
    return dest


def _fetch_member(spec: DataFile) -> Path:
    """Return a verified extracted archive member: the member itself in the mirror or the cache,
    else extracted from the archive in the mirror or the cache, else from a downloaded archive."""
    assert spec.member is not None
    mirror = mirror_dir()
    cached = data_home() / spec.member
    if mirror is not None and (mirror / spec.member).is_file():
        fix = "Replace it with a good copy, or unset DLGUIDE_DATA_MIRROR."
        return _check(mirror / spec.member, spec, "mirror", fix)
    if cached.is_file():
        fix = f"Delete it ({cached}) and call fetch again to extract it afresh."
        return _check(cached, spec, "cached", fix)
    for folder in (mirror, data_home()):
        if folder is not None and (folder / spec.filename).is_file():
            return _extract_member(spec, folder / spec.filename, cached)
    archive = _download(spec, data_home() / spec.filename, verify=False)
    try:
        return _extract_member(spec, archive, cached)
    except ValueError:
        archive.unlink(missing_ok=True)  # a bad download is not kept either
        raise


def _fetch_file(spec: DataFile) -> Path:
    """Return a verified local copy of one file: mirror, else cache, else download."""
    if spec.member is not None:
        return _fetch_member(spec)
    mirror = mirror_dir()
    if mirror is not None:
        candidate = mirror / spec.filename
        if candidate.is_file():
            return _check(
                candidate,
                spec,
                "mirror",
                f"Replace it with a good copy (from {spec.url}), or unset DLGUIDE_DATA_MIRROR to "
                "use the cache and the canonical download instead.",
            )
    cached = data_home() / spec.filename
    if cached.is_file():
        return _check(
            cached,
            spec,
            "cached",
            f"Delete it ({cached}) and call fetch again to download it afresh.",
        )
    return _download(spec, cached)


def fetch(name: str) -> Path | list[Path]:
    r"""Return verified local copies of the files of data set `name`.

    Each file is looked up in the mirror (`$DLGUIDE_DATA_MIRROR`), then in the cache
    ([`data_home`][dlguide.data.data_home]), and downloaded from its canonical URL into the cache
    when neither has it. A file is used only if its SHA-256 matches the registry. For a file with
    a `member` (see [`DataFile`][dlguide.data.DataFile]) the extracted member is what is looked up,
    verified and returned; the archive is only opened to extract it into the cache.

    Args:
        name: A key of [`DATASETS`][dlguide.data.DATASETS], e.g. `"concrete"`.

    Returns:
        The local path of the file for a one-file data set, else the list of paths in the order of
        `DATASETS[name].files`.

    Raises:
        TypeError: If `name` is not a string.
        ValueError: If `name` is unknown, or a mirror, cached or downloaded file has the wrong
            SHA-256 (the message names the file, both checksums and the fix).
        OSError: If a download is needed and fails.

    Examples:
        >>> path = fetch("concrete")  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'concrete_data.csv'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(
            f"unknown data set {name!r}; known data sets: {', '.join(sorted(DATASETS))}"
        )
    paths = [_fetch_file(spec) for spec in DATASETS[name].files]
    return paths[0] if len(paths) == 1 else paths


# --------------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------------


def load_concrete() -> pd.DataFrame:
    r"""Load the concrete compressive strength table of the IBM course.

    Each of the 1,030 rows is one concrete mixture: seven ingredient amounts in kg per m³, the age
    in days, and the compressive strength $y$ in MPa measured at that age.

    Returns:
        A DataFrame of shape `(1030, 9)` with the columns
        [`CONCRETE_COLUMNS`][dlguide.data.CONCRETE_COLUMNS]; the last one, `Strength`, is the
        target.

    Raises:
        ValueError: If the file is corrupt (see [`fetch`][dlguide.data.fetch]).

    Examples:
        >>> df = load_concrete()  # doctest: +SKIP
        >>> df.shape  # doctest: +SKIP
        (1030, 9)
    """
    path = fetch("concrete")
    assert isinstance(path, Path)
    frame = pd.read_csv(path)
    if tuple(frame.columns) != CONCRETE_COLUMNS or frame.shape != (1030, 9):
        raise ValueError(
            f"{path} parsed to shape {frame.shape} with columns {list(frame.columns)}; expected "
            f"(1030, 9) with columns {list(CONCRETE_COLUMNS)}"
        )
    return frame


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    r"""Parse one gzip-compressed IDX file (the MNIST format) into a uint8 array.

    The header is a big-endian 32-bit magic number `0x0000080N` (`0x08` = unsigned byte, `N` =
    number of dimensions), then `N` big-endian 32-bit sizes, then the bytes in C order.
    """
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise ValueError(f"{path} is too short for an IDX header ({len(raw)} bytes)")
    fields = np.frombuffer(raw, dtype=">u4", count=1 + ndim)
    if int(fields[0]) != magic:
        raise ValueError(f"{path}: expected IDX magic {magic:#010x}, got {int(fields[0]):#010x}")
    shape = tuple(int(d) for d in fields[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, but holds {data.size} values")
    return data.reshape(shape).copy()


def load_fashion_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    r"""Load Fashion-MNIST from its four IDX gzip files, as `keras.datasets.fashion_mnist` does.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: `x_train` uint8 `(60000, 28, 28)` with pixel
        values in $[0, 255]$, `y_train` uint8 `(60000,)` with labels in $\{0,\dots,9\}$ (names in
        [`FASHION_MNIST_CLASSES`][dlguide.data.FASHION_MNIST_CLASSES]), `x_test` uint8
        `(10000, 28, 28)`, `y_test` uint8 `(10000,)`.

    Raises:
        ValueError: If a file is corrupt (see [`fetch`][dlguide.data.fetch]).

    Examples:
        >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
        >>> x_train.shape, y_test.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000,))
    """
    paths = fetch("fashion_mnist")
    assert isinstance(paths, list)
    x_train_p, y_train_p, x_test_p, y_test_p = paths
    x_train = _read_idx(x_train_p, 0x803, 3)
    y_train = _read_idx(y_train_p, 0x801, 1)
    x_test = _read_idx(x_test_p, 0x803, 3)
    y_test = _read_idx(y_test_p, 0x801, 1)
    _check_pairs(x_train, y_train, x_test, y_test, "fashion_mnist")
    return (x_train, y_train), (x_test, y_test)


def fashion_mnist_splits(
    n_train: int, n_val: int, seed: int
) -> tuple[
    tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]
]:
    """Fashion-MNIST as training, validation and test sets: chapter 8's split, for reuse.

    `n_train` training and `n_val` validation images are drawn from the 60,000 training images
    with `sklearn.model_selection.train_test_split`, stratified by class and seeded by `seed`;
    the test set is the untouched 10,000 test images.

    Returns:
        `((x_train, y_train), (x_val, y_val), (x_test, y_test))`, uint8 images `(n, 28, 28)` and
        uint8 labels `(n,)` as from [`load_fashion_mnist`][dlguide.data.load_fashion_mnist].

    Raises:
        ValueError: If `n_train` or `n_val` is below 10 (one image per class), together they
            exceed 60,000, or `seed` is negative.
        TypeError: If `n_train`, `n_val` or `seed` is not an int.

    Examples:
        >>> train, val, test = fashion_mnist_splits(1000, 500, seed=0)  # doctest: +SKIP
        >>> len(train[1]), len(val[1]), len(test[1])  # doctest: +SKIP
        (1000, 500, 10000)
    """
    check_int(seed, "seed", 0)
    if check_int(n_train, "n_train", 10) + check_int(n_val, "n_val", 10) > 60_000:
        raise ValueError(f"n_train + n_val must be at most 60000, got {n_train + n_val}")
    (x_all, y_all), test = load_fashion_mnist()
    x_train, x_val, y_train, y_val = train_test_split(
        x_all, y_all, train_size=n_train, test_size=n_val, stratify=y_all, random_state=seed
    )
    return (x_train, y_train), (x_val, y_val), test


def _check_pairs(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, name: str
) -> None:
    """Raise ValueError unless images are (n, 28, 28) uint8 and labels (n,) uint8 of the same n."""
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{name} {split}: expected images (n, 28, 28) and labels (n,), got {x.shape} and "
                f"{y.shape}"
            )
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise ValueError(
                f"{name} {split}: expected uint8 images and labels, got {x.dtype} and {y.dtype}"
            )


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    r"""Load MNIST from Keras' `mnist.npz`, as `keras.datasets.mnist.load_data()` does.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: `x_train` uint8 `(60000, 28, 28)` with pixel
        values in $[0, 255]$, `y_train` uint8 `(60000,)` with digits $0,\dots,9$, `x_test` uint8
        `(10000, 28, 28)`, `y_test` uint8 `(10000,)`.

    Raises:
        ValueError: If the file is corrupt (see [`fetch`][dlguide.data.fetch]) or lacks one of the
            arrays `x_train`, `y_train`, `x_test`, `y_test`.

    Examples:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
        >>> x_train.dtype, x_train.shape  # doctest: +SKIP
        (dtype('uint8'), (60000, 28, 28))
    """
    path = fetch("mnist")
    assert isinstance(path, Path)
    with np.load(path, allow_pickle=False) as npz:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(npz.files)
        if missing:
            raise ValueError(f"{path} lacks the arrays {sorted(missing)}; it holds {npz.files}")
        arrays: dict[str, Any] = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    _check_pairs(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], "mnist")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


CO2_SOURCE = (
    "Weekly atmospheric CO2 at Mauna Loa Observatory, Hawaii, March 1958 to December 2001, in ppm "
    "(parts per million by volume): C. D. Keeling and T. P. Whorf, Scripps Institution of "
    "Oceanography, distributed by CDIAC; the copy bundled with statsmodels "
    "(statsmodels.datasets.co2). Public domain."
)
"""Where [`load_co2`][dlguide.data.load_co2]'s series comes from."""


def load_co2() -> pd.Series:
    r"""Load the weekly Mauna Loa CO₂ series bundled with statsmodels, missing weeks left as NaN.

    The source is [`CO2_SOURCE`][dlguide.data.CO2_SOURCE]. The file ships inside the statsmodels
    package (`statsmodels/datasets/co2/co2.csv`), so no download is needed and the registry holds
    no entry for it.

    Returns:
        A float Series named `co2` in ppm, indexed by the Saturday ending each week
        (`1958-03-29` to `2001-12-29`, 2,284 weeks), with 59 weeks missing (NaN).

    Raises:
        ImportError: If statsmodels is not installed (`pip install statsmodels`).
        ValueError: If the bundled table does not have the expected length.

    Examples:
        >>> co2 = load_co2()  # doctest: +SKIP
        >>> len(co2), int(co2.isna().sum())  # doctest: +SKIP
        (2284, 59)
    """
    from statsmodels.datasets import co2

    series = co2.load_pandas().data["co2"].astype(float)
    if len(series) != 2284:
        raise ValueError(f"statsmodels' co2 table has {len(series)} weeks, expected 2284")
    series.index.name = "week"
    return series


def aircraft_damage_dir() -> Path:
    r"""Return the verified folder of the aircraft damage images, ready for Keras.

    The folder holds `train/`, `valid/` and `test/`, each with one subfolder per class
    ([`AIRCRAFT_DAMAGE_CLASSES`][dlguide.data.AIRCRAFT_DAMAGE_CLASSES]: `crack`, `dent`) of 640×640
    JPEG photographs: 150 + 150 for training, 48 + 48 for validation and 25 + 25 for testing. Every
    image is checked against its own SHA-256 (see [`fetch`][dlguide.data.fetch]); the first call
    without a mirror downloads the course's tar archive (about 17 MB) into the cache and extracts
    the images from it.

    Returns:
        The folder `.../aircraft_damage_dataset_v1`; point
        `keras.utils.image_dataset_from_directory` at `folder / "train"` and so on.

    Raises:
        ValueError: If an image is corrupt, or the folder holds files the registry does not list
            (Keras would read them as images of a class).

    Examples:
        >>> folder = aircraft_damage_dir()  # doctest: +SKIP
        >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
        ['test', 'train', 'valid']
    """
    paths = fetch("aircraft_damage")
    assert isinstance(paths, list)
    depth = len(Path(str(DATASETS["aircraft_damage"].files[0].member)).parts)
    roots = {path.parents[depth - 2] for path in paths}
    if len(roots) != 1:
        raise ValueError(
            f"the aircraft damage images are split over {sorted(map(str, roots))}; keep all of "
            "them in one place (the mirror or the cache)"
        )
    root = roots.pop()
    known = set(paths)
    extra = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path not in known
    )
    if extra:
        raise ValueError(
            f"{root} holds {len(extra)} file(s) the registry does not list, e.g. {extra[0]!r}; "
            "remove them, or Keras would read them as training or test images"
        )
    return root
