"""Tests for dlguide.text: split, vectorisation, teacher forcing, greedy decoding and BLEU.

Real-data tests read the English-Spanish pairs from the read-only mirror (`$DLGUIDE_DATA_MIRROR`,
else `../shared/data` next to the repository); the rest run on small made-up pairs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import sacrebleu

from dlguide import data, text

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    value = os.environ.get("DLGUIDE_DATA_MIRROR", "")
    path = Path(value) if value else REPO.parent / "shared" / "data"
    return path if (path / "spa-eng.zip").is_file() else None


MIRROR = _mirror()
needs_mirror = pytest.mark.skipif(MIRROR is None, reason="no data mirror holding spa-eng.zip")

TOY = [(f"I see {i} cats.", f"Veo {i} gatos.") for i in range(60)] + [
    ("Go.", "Ve."),
    ("Go.", "Vete."),
    ("Go.", "Vaya."),
    ("Run!", "¡Corre!"),
    ("Where is the station, please?", "¿Dónde está la estación, por favor?"),
]


@pytest.fixture(scope="module")
def real_pairs() -> list[tuple[str, str]]:
    if MIRROR is None:
        pytest.skip("no data mirror holding spa-eng.zip")
    mp = pytest.MonkeyPatch()
    mp.setenv("DLGUIDE_DATA_MIRROR", str(MIRROR))
    try:
        return text.load_translation_pairs()
    finally:
        mp.undo()


# ------------------------------------------------------------------------------------------------
# Loading and splitting
# ------------------------------------------------------------------------------------------------


@needs_mirror
def test_load_translation_pairs(real_pairs: list[tuple[str, str]]) -> None:
    assert len(real_pairs) == 118_964
    assert real_pairs[:3] == [("Go.", "Ve."), ("Go.", "Vete."), ("Go.", "Vaya.")]
    assert all(e and s for e, s in real_pairs)


def test_load_translation_pairs_rejects_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "spa.txt"
    path.write_text("Go.\tVe.\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: expected 'English<TAB>Spanish', got 0 tab"):
        text.load_translation_pairs(path)


def test_standardize_matches_the_vectorizer() -> None:
    sentences = ["¿Dónde está el BAÑO?", "Tom's car, isn't it!", "Él dijo: «¡ya!»", "[start] sí"]
    assert [text.standardize(s) for s in sentences] == [
        "dónde está el baño",
        "toms car isnt it",
        "él dijo ya",
        "[start] sí",
    ]
    src, _ = text.make_vectorizers([(s, "x") for s in sentences], sequence_length=8)
    vocab = src.get_vocabulary()
    for s in sentences:
        tokens = [vocab[i] for i in np.asarray(src([s]))[0] if i != 0]
        assert " ".join(tokens) == text.standardize(s)


def test_split_is_deterministic_disjoint_and_complete() -> None:
    a = text.split_pairs(TOY)
    b = text.split_pairs(list(TOY))
    assert a == b
    assert sum(a.sizes().values()) == len(TOY)
    sources = [{e for e, _ in a[name]} for name in text.SPLIT_NAMES]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    # All three translations of "Go." stay together.
    holder = next(name for name in text.SPLIT_NAMES if ("Go.", "Ve.") in a[name])
    assert {("Go.", "Vete."), ("Go.", "Vaya.")} <= set(a[holder])
    assert text.split_pairs(TOY, seed=1) != a


def test_subsets_are_prefixes_of_the_full_split() -> None:
    full = text.split_pairs(TOY)
    short = text.split_pairs(TOY, max_words=4)
    small = text.split_pairs(TOY, max_words=4, max_pairs=20)
    for name in text.SPLIT_NAMES:
        assert all(max(text.word_count(e), text.word_count(s)) <= 4 for e, s in short[name])
        assert short[name] == [p for p in full[name] if p in short[name]]
        assert small[name] == short[name][: len(small[name])]
    assert small.sizes() == {"train": 14, "validation": 3, "test": 3}
    assert sum(short.sizes().values()) == len(TOY) - 1


@needs_mirror
def test_real_split_sizes_and_disjointness(real_pairs: list[tuple[str, str]]) -> None:
    split = text.split_pairs(real_pairs)
    sizes = split.sizes()
    assert sum(sizes.values()) == len(real_pairs)
    assert all(
        abs(sizes[n] / len(real_pairs) - f) < 0.01
        for n, f in zip(text.SPLIT_NAMES, (0.7, 0.15, 0.15), strict=True)
    )
    train = {e for e, _ in split.train}
    assert not train & {e for e, _ in split.test}
    assert not train & {e for e, _ in split.validation}
    small = text.split_pairs(real_pairs, max_words=6, max_pairs=1000)
    assert small.sizes() == {"train": 700, "validation": 150, "test": 150}
    assert set(small.test) <= set(split.test)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"pairs": []}, ValueError, "must not be empty", id="empty"),
        pytest.param({"pairs": [("a", "b", "c")]}, ValueError, "two strings", id="three-sides"),
        pytest.param({"pairs": [("a", 3)]}, ValueError, "two strings", id="non-string"),
        pytest.param({"fractions": (0.5, 0.5, 0.5)}, ValueError, "summing to 1", id="fractions"),
        pytest.param({"fractions": (1.0, 0.0, 0.0)}, ValueError, "positive", id="zero-share"),
        pytest.param({"max_words": 0}, ValueError, "max_words must be at least 1", id="max-words"),
        pytest.param({"max_pairs": 2.5}, TypeError, "max_pairs must be an int", id="max-pairs"),
    ],
)
def test_split_bad_input(kwargs: dict, error: type[Exception], match: str) -> None:
    args = {"pairs": TOY, **kwargs}
    with pytest.raises(error, match=match):
        text.split_pairs(args.pop("pairs"), **args)


@pytest.mark.parametrize("name", ["Test", "val", "", "dev"])
def test_unknown_split_name(name: str) -> None:
    with pytest.raises(ValueError, match=r"unknown split name .*'train', 'validation', 'test'"):
        text.split_pairs(TOY)[name]


# ------------------------------------------------------------------------------------------------
# Vectorisation and teacher forcing
# ------------------------------------------------------------------------------------------------


def test_vectorizers_and_teacher_forcing() -> None:
    src, tgt = text.make_vectorizers(TOY, sequence_length=6)
    vocab = tgt.get_vocabulary()
    assert vocab[:2] == ["", "[UNK]"] and text.START in vocab and text.END in vocab
    (enc, dec_in), dec_out = text.teacher_forcing_arrays([("Run!", "¡Corre!")], src, tgt)
    assert enc.shape == (1, 6) and dec_in.shape == (1, 6) and dec_out.shape == (1, 6)
    assert enc.dtype == np.int64
    words = [vocab[i] for i in dec_in[0]]
    assert words == ["[start]", "corre", "[end]", "", "", ""]
    assert [vocab[i] for i in dec_out[0]] == ["corre", "[end]", "", "", "", ""]
    np.testing.assert_array_equal(dec_in[:, 1:], dec_out[:, :-1])
    # The dataset yields the same arrays, batched, and shuffles reproducibly.
    ds = text.make_dataset(TOY, src, tgt, batch_size=64)
    (e, d), y = next(iter(ds))
    (e2, d2), y2 = text.teacher_forcing_arrays(TOY[:64], src, tgt)
    np.testing.assert_array_equal(e.numpy(), e2)
    np.testing.assert_array_equal(d.numpy(), d2)
    np.testing.assert_array_equal(y.numpy(), y2)
    first = [b[1].numpy() for b in text.make_dataset(TOY, src, tgt, batch_size=8, shuffle_seed=3)]
    again = [b[1].numpy() for b in text.make_dataset(TOY, src, tgt, batch_size=8, shuffle_seed=3)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    assert not np.array_equal(np.concatenate(first), text.teacher_forcing_arrays(TOY, src, tgt)[1])


def test_vectorizer_vocabulary_comes_from_train_only() -> None:
    src, tgt = text.make_vectorizers([("Go.", "Ve.")], sequence_length=3)
    (enc, _), dec_out = text.teacher_forcing_arrays([("Stop.", "Para.")], src, tgt)
    assert enc[0].tolist() == [1, 0, 0]  # [UNK]
    assert dec_out[0, 0] == 1


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: text.make_vectorizers([]), id="vectorizers-empty"),
        pytest.param(lambda: text.teacher_forcing_arrays([], None, None), id="arrays-empty"),
    ],
)
def test_vectorisation_bad_input(call: object) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        call()  # type: ignore[operator]


# ------------------------------------------------------------------------------------------------
# Greedy decoding
# ------------------------------------------------------------------------------------------------

START_ID, END_ID, VOCAB = 2, 3, 10


def _scripted(script: dict[int, list[int]]) -> text.NextTokenScores:
    """Scores that make source sentence k (its first token) produce script[k], then repeat 9."""

    def scores(src: np.ndarray, dec: np.ndarray) -> np.ndarray:
        assert (dec[:, 0] == START_ID).all()
        out = np.zeros((len(src), VOCAB))
        for row, (s, d) in enumerate(zip(src, dec, strict=True)):
            seq = script[int(s[0])]
            step = d.shape[0] - 1
            out[row, seq[step] if step < len(seq) else 9] = 1.0
        return out

    return scores


def test_greedy_decode_stops_at_end_token() -> None:
    calls: list[int] = []
    inner = _scripted({0: [5, 6, END_ID], 1: [END_ID], 2: [7, 7, 7, 7, END_ID]})

    def scores(src: np.ndarray, dec: np.ndarray) -> np.ndarray:
        calls.append(len(src))
        return inner(src, dec)

    out = text.greedy_decode(
        scores, [[0, 4], [1, 4], [2, 4]], start_id=START_ID, end_id=END_ID, max_length=20
    )
    assert out == [[5, 6], [], [7, 7, 7, 7]]
    # Finished sentences are not decoded further; the loop ends when all have ended.
    assert calls == [3, 2, 2, 1, 1]


@pytest.mark.parametrize("max_length", [1, 2, 3, 7])
def test_greedy_decode_never_exceeds_the_length_limit(max_length: int) -> None:
    never_ends = _scripted({0: [], 1: [5, END_ID]})
    out = text.greedy_decode(
        never_ends, [[0], [1]], start_id=START_ID, end_id=END_ID, max_length=max_length
    )
    assert out[0] == [9] * max_length
    assert out[1] == [5][:max_length]
    assert all(len(ids) <= max_length for ids in out)


def test_greedy_decode_batches_give_the_same_result() -> None:
    script = {k: [4 + k % 5] * (k % 4) + [END_ID] for k in range(12)}
    src = [[k] for k in range(12)]
    kwargs = {"start_id": START_ID, "end_id": END_ID, "max_length": 6}
    one = text.greedy_decode(_scripted(script), src, batch_size=1, **kwargs)
    many = text.greedy_decode(_scripted(script), src, batch_size=5, **kwargs)
    assert one == many == [script[k][:-1] for k in range(12)]


@pytest.mark.parametrize(
    ("source", "kwargs", "match"),
    [
        pytest.param([1, 2], {}, r"2 dimension\(s\)", id="rank-1"),
        pytest.param([[[1]]], {}, r"2 dimension\(s\)", id="rank-3"),
        pytest.param(np.zeros((0, 4)), {}, "must not be empty", id="empty"),
        pytest.param([[1.0, np.nan]], {}, "finite", id="nan"),
        pytest.param([[1.5, 2.0]], {}, "integer token ids", id="fractional"),
        pytest.param([[1, 2]], {"max_length": 0}, "max_length must be at least 1", id="length-0"),
    ],
)
def test_greedy_decode_bad_input(source: object, kwargs: dict, match: str) -> None:
    args = {"start_id": START_ID, "end_id": END_ID, "max_length": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        text.greedy_decode(_scripted({}), source, **args)  # type: ignore[arg-type]


def test_greedy_decode_checks_the_score_shape() -> None:
    with pytest.raises(ValueError, match=r"must return shape \(2, vocab_size\), got \(2,\)"):
        text.greedy_decode(
            lambda s, d: np.zeros(len(s)), [[0], [1]], start_id=2, end_id=3, max_length=3
        )


def test_translate_with_a_perfect_lookup_model() -> None:
    # A "model" that knows the test answers: its translations must reproduce the references.
    src, tgt = text.make_vectorizers(TOY, sequence_length=8)
    vocab = tgt.get_vocabulary()
    pairs = TOY[:10] + TOY[-1:]  # one sentence of 4+ words: BLEU needs 4-grams
    (enc, _), dec_out = text.teacher_forcing_arrays(pairs, src, tgt)
    answers = {tuple(e): y for e, y in zip(enc.tolist(), dec_out, strict=True)}

    def scores(s: np.ndarray, d: np.ndarray) -> np.ndarray:
        nxt = np.array([answers[tuple(row)][d.shape[1] - 1] for row in s.tolist()])
        return np.eye(len(vocab))[nxt]

    out = text.translate(scores, [e for e, _ in pairs], src, tgt)
    assert out == [text.standardize(s) for _, s in pairs]
    assert text.corpus_bleu(out, [s for _, s in pairs]) == pytest.approx(100.0)


# ------------------------------------------------------------------------------------------------
# BLEU
# ------------------------------------------------------------------------------------------------


def test_bleu_of_a_perfect_translation_is_100() -> None:
    refs = [s for _, s in TOY]
    assert text.corpus_bleu(refs, refs) == pytest.approx(100.0)
    assert text.corpus_bleu([text.standardize(r) for r in refs], refs) == pytest.approx(100.0)


def test_bleu_matches_sacrebleu() -> None:
    hyps = ["el gato está sobre la mesa", "veo tres perros", "dónde está la estación"]
    refs = ["El gato está en la mesa.", "Veo tres gatos.", "¿Dónde está la estación, por favor?"]
    expected = sacrebleu.corpus_bleu(hyps, [[text.standardize(r) for r in refs]]).score
    assert text.corpus_bleu(hyps, refs) == pytest.approx(expected)
    assert 0 < text.corpus_bleu(hyps, refs) < 100
    assert text.corpus_bleu(["x y z w"], ["a b c d"]) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("hyps", "refs", "match"),
    [
        pytest.param([], [], "non-empty", id="empty"),
        pytest.param(["a"], ["a", "b"], "same length, got 1 and 2", id="length-mismatch"),
        pytest.param([3], ["a"], "hypotheses must be strings", id="non-string"),
    ],
)
def test_bleu_bad_input(hyps: list, refs: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        text.corpus_bleu(hyps, refs)


# ------------------------------------------------------------------------------------------------
# The registry entry: verified by the extracted member, not the re-packed zip
# ------------------------------------------------------------------------------------------------


@needs_mirror
def test_spa_eng_registry_verifies_the_member(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert MIRROR is not None
    spec = data.DATASETS["spa_eng"].files[0]
    assert spec.member == "spa-eng/spa.txt"
    assert spec.url == "https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
    monkeypatch.setenv("DLGUIDE_DATA_MIRROR", str(MIRROR))
    monkeypatch.setenv("DLGUIDE_DATA_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "_VERIFIED", {})
    # The mirror's zip differs from the canonical zip, yet the member matches.
    assert data.file_sha256(MIRROR / "spa-eng.zip") != spec.sha256
    path = data.fetch("spa_eng")
    assert path == tmp_path / "cache" / "spa-eng" / "spa.txt"
    assert data.file_sha256(path) == spec.sha256 and path.stat().st_size == spec.size
