"""Tests for dlguide.data's tar archives, the aircraft damage images and the MobileNet weights.

A data set published as a tar archive is registered member by member (`DataFile.member`): fetch
downloads the archive once and keeps only members whose bytes match their SHA-256. No test touches
the network: archives are built in a temporary folder and served through `file://` URLs. Real-data
tests read the read-only mirror (`$DLGUIDE_DATA_MIRROR`, else `../shared/data`).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import urllib.error
from collections import Counter
from pathlib import Path

import pytest

from dlguide import data

REPO = Path(__file__).resolve().parents[1]


def _real_mirror() -> Path | None:
    value = os.environ.get("DLGUIDE_DATA_MIRROR", "")
    path = Path(value) if value else REPO.parent / "shared" / "data"
    return path if (path / "aircraft_damage_dataset_v1").is_dir() else None


REAL_MIRROR = _real_mirror()
needs_mirror = pytest.mark.skipif(
    REAL_MIRROR is None, reason="no data mirror: set DLGUIDE_DATA_MIRROR to a copy of shared/data"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty cache folder, no mirror, and a fresh verification memo."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("DLGUIDE_DATA_HOME", str(cache))
    monkeypatch.delenv("DLGUIDE_DATA_MIRROR", raising=False)
    monkeypatch.setattr(data, "_VERIFIED", {})
    return cache


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("the test tried to open a URL")


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    """Write an uncompressed tar at `path` holding `members` (name → bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def _register_archive(
    monkeypatch: pytest.MonkeyPatch, name: str, archive: Path, expected: dict[str, bytes]
) -> None:
    """Register data set `name`: the files `expected` (member name → bytes) inside `archive`."""
    specs = tuple(
        data.DataFile(
            url=archive.as_uri(),
            filename=archive.name,
            sha256=hashlib.sha256(payload).hexdigest(),
            size=len(payload),
            member=member,
        )
        for member, payload in expected.items()
    )
    monkeypatch.setitem(data.DATASETS, name, data.Dataset(name, specs, "test fixture", "test"))


FILES = {"pack/a/one.jpg": b"\xff\xd8first", "pack/b/two.jpg": b"\xff\xd8second" * 1000}


# ------------------------------------------------------------------------------------------------
# Archives: one download, verified members, nothing else kept
# ------------------------------------------------------------------------------------------------


def test_archive_is_downloaded_once_and_members_verified(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    # "./" prefixes (as GNU tar writes them) are ignored; unlisted members are not extracted.
    archive = _tar(
        tmp_path / "origin" / "pack.tar",
        {"./" + k: v for k, v in FILES.items()} | {"pack/extra.txt": b"x", "../evil": b"y"},
    )
    _register_archive(monkeypatch, "toy", archive, FILES)
    opened: list[str] = []
    real_open = data._urlopen

    def counting(url: str, timeout: float) -> object:
        opened.append(url)
        return real_open(url, timeout=timeout)

    monkeypatch.setattr(data, "_urlopen", counting)
    paths = data.fetch("toy")
    assert opened == [archive.as_uri()]  # two files, one download
    assert paths == [_isolated / "pack" / "a" / "one.jpg", _isolated / "pack" / "b" / "two.jpg"]
    assert [p.read_bytes() for p in paths] == list(FILES.values())
    kept = sorted(str(p.relative_to(_isolated)) for p in _isolated.rglob("*") if p.is_file())
    assert kept == ["pack.tar", "pack/a/one.jpg", "pack/b/two.jpg"]  # no extra member, no .part
    assert not (tmp_path / "evil").exists()
    # Second call: verified from the cache, no download.
    monkeypatch.setattr(data, "_urlopen", _no_network)
    monkeypatch.setattr(data, "_VERIFIED", {})
    assert data.fetch("toy") == paths


def test_only_missing_members_are_extracted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    archive = _tar(tmp_path / "origin" / "pack.tar", FILES)
    _register_archive(monkeypatch, "toy", archive, FILES)
    paths = data.fetch("toy")
    assert isinstance(paths, list)
    paths[1].unlink()
    before = paths[0].stat().st_mtime_ns
    assert data.fetch("toy") == paths
    assert (
        paths[0].stat().st_mtime_ns == before and paths[1].read_bytes() == FILES["pack/b/two.jpg"]
    )


def test_corrupt_member_is_not_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    served = dict(FILES) | {"pack/b/two.jpg": b"\xff\xd8tampered"}
    archive = _tar(tmp_path / "origin" / "pack.tar", served)
    _register_archive(monkeypatch, "toy", archive, FILES)
    with pytest.raises(
        ValueError, match=r"pack/b/two\.jpg extracted from .* not the expected"
    ) as info:
        data.fetch("toy")
    assert hashlib.sha256(FILES["pack/b/two.jpg"]).hexdigest() in str(info.value)
    assert hashlib.sha256(b"\xff\xd8tampered").hexdigest() in str(info.value)
    kept = sorted(str(p.relative_to(_isolated)) for p in _isolated.rglob("*") if p.is_file())
    assert kept == ["pack.tar", "pack/a/one.jpg"]  # the good member stays, the bad one does not


def test_missing_member_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    archive = _tar(tmp_path / "origin" / "pack.tar", {"pack/a/one.jpg": FILES["pack/a/one.jpg"]})
    _register_archive(monkeypatch, "toy", archive, FILES)
    with pytest.raises(ValueError, match=r"not a tar archive holding pack/b/two\.jpg"):
        data.fetch("toy")


def test_archive_download_failure_says_how_to_work_offline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    _register_archive(monkeypatch, "toy", tmp_path / "nowhere.tar", FILES)

    def refuse(url: str, timeout: float) -> io.BytesIO:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(data, "_urlopen", refuse)
    with pytest.raises(OSError, match=r"could not download .*DLGUIDE_DATA_MIRROR.*nowhere\.tar"):
        data.fetch("toy")
    assert [p for p in _isolated.rglob("*") if p.is_file()] == []


def test_archive_members_in_mirror_need_no_download(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    _register_archive(monkeypatch, "toy", tmp_path / "nowhere.tar", FILES)
    mirror = tmp_path / "mirror"
    for name, payload in FILES.items():
        (mirror / name).parent.mkdir(parents=True, exist_ok=True)
        (mirror / name).write_bytes(payload)
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    assert data.fetch("toy") == [mirror / name for name in FILES]


# ------------------------------------------------------------------------------------------------
# aircraft_damage_dir
# ------------------------------------------------------------------------------------------------


def _fake_aircraft(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, dict]:
    """Register a two-image stand-in for the aircraft set and put it in a mirror folder."""
    images = {
        "aircraft_damage_dataset_v1/train/crack/a.jpg": b"crack",
        "aircraft_damage_dataset_v1/test/dent/b.jpg": b"dent",
    }
    _register_archive(monkeypatch, "aircraft_damage", tmp_path / "nowhere.tar", images)
    mirror = tmp_path / "mirror"
    for name, payload in images.items():
        (mirror / name).parent.mkdir(parents=True, exist_ok=True)
        (mirror / name).write_bytes(payload)
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    return mirror, images


def test_aircraft_damage_dir_refuses_unlisted_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mirror, _ = _fake_aircraft(monkeypatch, tmp_path)
    assert data.aircraft_damage_dir() == mirror / "aircraft_damage_dataset_v1"
    (mirror / "aircraft_damage_dataset_v1" / "train" / "dent").mkdir()
    (mirror / "aircraft_damage_dataset_v1" / "train" / "dent" / "stray.jpg").write_bytes(b"?")
    with pytest.raises(ValueError, match=r"1 file\(s\) the registry does not list.*stray\.jpg"):
        data.aircraft_damage_dir()


def test_aircraft_damage_dir_refuses_split_copies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolated: Path
) -> None:
    mirror, images = _fake_aircraft(monkeypatch, tmp_path)
    moved = next(iter(images))
    (_isolated / moved).parent.mkdir(parents=True)
    (mirror / moved).rename(_isolated / moved)  # one image in the cache, the other in the mirror
    with pytest.raises(ValueError, match="split over"):
        data.aircraft_damage_dir()


# ------------------------------------------------------------------------------------------------
# The real registry entries against the mirror
# ------------------------------------------------------------------------------------------------


def test_registry_entries_for_chapter_13() -> None:
    images = data.DATASETS["aircraft_damage"].files
    assert len(images) == 446
    assert {f.url for f in images} == {
        "https://cf-courses-data.s3.us.cloud-object-storage.appdomain.cloud/"
        "ZjXM4RKxlBK9__ZjHBLl5A/aircraft-damage-dataset-v1.tar"
    }
    assert {f.filename for f in images} == {"aircraft-damage-dataset-v1.tar"}
    assert all(str(f.member).startswith("aircraft_damage_dataset_v1/") for f in images)
    counts = Counter(tuple(str(f.member).split("/")[1:3]) for f in images)
    assert counts == {
        ("train", "crack"): 150,
        ("train", "dent"): 150,
        ("valid", "crack"): 48,
        ("valid", "dent"): 48,
        ("test", "crack"): 25,
        ("test", "dent"): 25,
    }
    assert sum(f.size for f in images) == 16_830_048
    (weights,) = data.DATASETS["mobilenet_025_imagenet"].files
    assert weights.url == (
        "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
        "mobilenet_2_5_224_tf_no_top.h5"
    )
    assert data.AIRCRAFT_DAMAGE_CLASSES == ("crack", "dent")


@needs_mirror
def test_aircraft_damage_and_weights_match_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_MIRROR is not None
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(REAL_MIRROR))
    monkeypatch.setattr(data, "_urlopen", _no_network)
    folder = data.aircraft_damage_dir()  # hashes all 446 images
    assert folder == REAL_MIRROR / "aircraft_damage_dataset_v1"
    assert sorted(p.name for p in folder.iterdir()) == ["test", "train", "valid"]
    for split in ("train", "valid", "test"):
        assert sorted(p.name for p in (folder / split).iterdir()) == ["crack", "dent"]
    for f in data.DATASETS["aircraft_damage"].files:
        assert (REAL_MIRROR / str(f.member)).stat().st_size == f.size
    weights = data.fetch("mobilenet_025_imagenet")
    assert weights == REAL_MIRROR / "keras-applications" / "mobilenet_2_5_224_tf_no_top.h5"


@needs_mirror
def test_mobilenet_weights_load_into_keras() -> None:
    import keras

    assert REAL_MIRROR is not None
    path = REAL_MIRROR / "keras-applications" / "mobilenet_2_5_224_tf_no_top.h5"
    base = keras.applications.MobileNet(
        alpha=0.25, include_top=False, input_shape=(96, 96, 3), weights=str(path)
    )
    assert base.count_params() == 218_544
