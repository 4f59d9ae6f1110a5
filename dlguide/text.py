r"""English→Spanish translation data, vectorisation, greedy decoding and BLEU.

What chapter 10 (an RNN encoder–decoder) and chapter 11 (a transformer) share, so that both are
trained and scored on exactly the same data with exactly the same metric:

1. [`load_translation_pairs`][dlguide.text.load_translation_pairs] reads the 118,964 verified
   English–Spanish pairs (data set `"spa_eng"` of [`dlguide.data`][dlguide.data]).
2. [`split_pairs`][dlguide.text.split_pairs] makes a fixed, seeded train/validation/test split.
   It splits by **English sentence**, so a test sentence never appears in training, not even with
   another translation. Smaller subsets (`max_words`, `max_pairs`) are taken inside each split, so
   the fast profile's test set is a subset of the full one.
3. [`make_vectorizers`][dlguide.text.make_vectorizers] builds the two
   `keras.layers.TextVectorization` layers; targets are wrapped as `[start] … [end]`.
4. [`teacher_forcing_arrays`][dlguide.text.teacher_forcing_arrays] and
   [`make_dataset`][dlguide.text.make_dataset] give `((encoder_tokens, decoder_inputs),
   decoder_targets)`, the decoder targets being the decoder inputs shifted one step left.
5. [`greedy_decode`][dlguide.text.greedy_decode] and [`translate`][dlguide.text.translate] generate
   translations from any model through a "next-token scores" function.
6. [`corpus_bleu`][dlguide.text.corpus_bleu] scores them with sacrebleu.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dlguide._checks import as_finite_array, check_int

__all__ = [
    "END",
    "SPLIT_NAMES",
    "SPLIT_SEED",
    "START",
    "PairSplit",
    "corpus_bleu",
    "decode_tokens",
    "greedy_decode",
    "load_splits",
    "load_translation_pairs",
    "make_dataset",
    "make_vectorizers",
    "split_pairs",
    "standardize",
    "teacher_forcing_arrays",
    "translate",
    "word_count",
]

START = "[start]"
"""Token that opens every target sentence; the decoder's first input."""
END = "[end]"
"""Token that closes every target sentence; greedy decoding stops when it is produced."""
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
"""The names of the three splits, in order."""
SPLIT_SEED = 2024
"""Seed of the split's permutation; chapters 10 and 11 both use it."""

Pair = tuple[str, str]

# Punctuation removed by standardisation: ASCII punctuation except the brackets of [start]/[end],
# plus the Spanish opening marks.
_STRIP = "".join(c for c in "!\"#$%&'()*+,-./:;<=>?@\\^_`{|}~" if c not in "[]") + "¿¡«»"
_STRIP_RE = "[" + re.escape(_STRIP) + "]"


# --------------------------------------------------------------------------------------------------
# Loading and splitting
# --------------------------------------------------------------------------------------------------


def load_translation_pairs(path: str | Path | None = None) -> list[Pair]:
    r"""Read English–Spanish sentence pairs, one `English<TAB>Spanish` line each.

    Args:
        path: A `spa.txt`-style file; by default the verified `spa-eng/spa.txt` of data set
            `"spa_eng"` from [`dlguide.data.fetch`][dlguide.data.fetch].

    Returns:
        The pairs `(english, spanish)` in file order (118,964 for the default file).

    Raises:
        ValueError: If a line does not hold exactly one tab.

    Examples:
        >>> pairs = load_translation_pairs()  # doctest: +SKIP
        >>> len(pairs), pairs[0]  # doctest: +SKIP
        (118964, ('Go.', 'Ve.'))
    """
    if path is None:
        from dlguide.data import fetch

        fetched = fetch("spa_eng")
        assert isinstance(fetched, Path)
        path = fetched
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2:
                raise ValueError(
                    f"{path}, line {number}: expected 'English<TAB>Spanish', got "
                    f"{len(fields) - 1} tab(s) in {line[:60]!r}"
                )
            pairs.append((fields[0], fields[1]))
    return pairs


def standardize(text: str) -> str:
    r"""Lower-case `text`, remove punctuation (keeping `[` and `]`) and collapse white space.

    This is the standardisation of the vectorizers of
    [`make_vectorizers`][dlguide.text.make_vectorizers], in plain Python, so that references can
    be compared with model output in [`corpus_bleu`][dlguide.text.corpus_bleu].

    Args:
        text: A sentence.

    Returns:
        The standardised sentence, words separated by single spaces.

    Examples:
        >>> standardize("¿Dónde está el baño?  Tom's.")
        'dónde está el baño toms'
    """
    return " ".join(re.sub(_STRIP_RE, "", text.lower()).split())


def word_count(text: str) -> int:
    r"""Number of words of `text` after [`standardize`][dlguide.text.standardize].

    Examples:
        >>> word_count("I'm hungry!")
        2
    """
    return len(standardize(text).split())


@dataclass(frozen=True)
class PairSplit:
    r"""A train/validation/test split of sentence pairs.

    Attributes:
        train: Pairs to fit on (model weights and vocabularies).
        validation: Pairs to choose epochs and settings with.
        test: Pairs to report BLEU on, once.

    `split["test"]` is the same as `split.test`; any other name than those of
    [`SPLIT_NAMES`][dlguide.text.SPLIT_NAMES] raises a `ValueError`.
    """

    train: list[Pair]
    validation: list[Pair]
    test: list[Pair]

    def __getitem__(self, name: str) -> list[Pair]:
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split name {name!r}; expected one of {SPLIT_NAMES}")
        split: list[Pair] = getattr(self, name)
        return split

    def sizes(self) -> dict[str, int]:
        """Number of pairs per split, e.g. `{"train": 700, "validation": 150, "test": 150}`."""
        return {name: len(self[name]) for name in SPLIT_NAMES}


def split_pairs(
    pairs: Sequence[Pair],
    *,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = SPLIT_SEED,
    max_words: int | None = None,
    max_pairs: int | None = None,
) -> PairSplit:
    r"""Split pairs into train, validation and test, by English sentence, reproducibly.

    The distinct English sentences are shuffled with `numpy.random.default_rng(seed)` and cut by
    `fractions`; every pair goes to the split of its English sentence, so no English sentence is in
    two splits. Then, inside each split and in its shuffled order, pairs with more than
    `max_words` words on either side are dropped, and only the first
    $\lfloor f_s \cdot \text{max\_pairs} \rceil$ pairs of split $s$ are kept. A smaller subset is
    therefore always a prefix of a larger one, and its test set a subset of the full test set.

    Args:
        pairs: `(english, spanish)` pairs, e.g. from
            [`load_translation_pairs`][dlguide.text.load_translation_pairs].
        fractions: Shares of English sentences for train, validation and test; positive, sum 1.
        seed: Seed of the shuffle; [`SPLIT_SEED`][dlguide.text.SPLIT_SEED] by default.
        max_words: Keep only pairs whose sides both have at most this many words (counted by
            [`word_count`][dlguide.text.word_count]); `None` keeps all.
        max_pairs: Keep about this many pairs in total, shared by `fractions`; `None` keeps all.

    Returns:
        The [`PairSplit`][dlguide.text.PairSplit].

    Raises:
        ValueError: If `pairs` is empty or holds something other than two strings, or
            `fractions` are not three positive numbers summing to 1.

    Examples:
        >>> pairs = [(f"sentence {i}", f"frase {i}") for i in range(100)]
        >>> split = split_pairs(pairs)
        >>> split.sizes()
        {'train': 70, 'validation': 15, 'test': 15}
        >>> split_pairs(pairs, max_pairs=20).test == split.test[:3]
        True
    """
    if len(pairs) == 0:
        raise ValueError("pairs must not be empty")
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(side, str) for side in pair):
            raise ValueError(f"each pair must be two strings (english, spanish), got {pair!r}")
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    if max_words is not None:
        check_int(max_words, "max_words", 1)
    if max_pairs is not None:
        check_int(max_pairs, "max_pairs", 3)

    # Distinct English sentences in a seeded random order, each with its pairs.
    by_source: dict[str, list[Pair]] = {}
    for english, spanish in pairs:
        by_source.setdefault(english, []).append((english, spanish))
    sources = list(by_source)
    order = np.random.default_rng(seed).permutation(len(sources))
    cuts = np.round(np.cumsum(fractions)[:2] * len(sources)).astype(int)
    groups = np.split(order, cuts)

    result = []
    for share, group in zip(fractions, groups, strict=True):
        chosen = [pair for i in group for pair in by_source[sources[i]]]
        if max_words is not None:
            chosen = [p for p in chosen if max(word_count(p[0]), word_count(p[1])) <= max_words]
        if max_pairs is not None:
            chosen = chosen[: round(share * max_pairs)]
        result.append(chosen)
    return PairSplit(*result)


def load_splits(*, max_words: int | None = None, max_pairs: int | None = None) -> PairSplit:
    r"""The book's split: [`split_pairs`][dlguide.text.split_pairs] of all the pairs.

    Chapters 10 and 11 both call it, so they train and test on the same sentences.

    Args:
        max_words: As in [`split_pairs`][dlguide.text.split_pairs].
        max_pairs: As in [`split_pairs`][dlguide.text.split_pairs].

    Returns:
        The [`PairSplit`][dlguide.text.PairSplit] with the default fractions and seed.

    Examples:
        >>> split = load_splits(max_words=6, max_pairs=1000)  # doctest: +SKIP
        >>> split.sizes()  # doctest: +SKIP
        {'train': 700, 'validation': 150, 'test': 150}
    """
    return split_pairs(load_translation_pairs(), max_words=max_words, max_pairs=max_pairs)


# --------------------------------------------------------------------------------------------------
# Vectorisation and teacher forcing
# --------------------------------------------------------------------------------------------------


def _tf_standardize(text: Any) -> Any:
    """TensorFlow twin of `standardize` (lower case, punctuation removed) for TextVectorization."""
    import tensorflow as tf

    return tf.strings.regex_replace(tf.strings.lower(text, encoding="utf-8"), _STRIP_RE, "")


def _target_text(spanish: str) -> str:
    return f"{START} {spanish} {END}"


def make_vectorizers(
    train_pairs: Sequence[Pair], *, vocab_size: int = 15000, sequence_length: int = 20
) -> tuple[Any, Any]:
    r"""Build and adapt the source and target `keras.layers.TextVectorization` layers.

    Both standardise like [`standardize`][dlguide.text.standardize] and split on white space.
    Token 0 is padding and token 1 is `[UNK]`. The target layer sees each Spanish sentence as
    `[start] … [end]` and returns `sequence_length + 1` tokens, so that decoder inputs and targets
    (its first and last `sequence_length` tokens) both have `sequence_length`.

    Args:
        train_pairs: The training pairs; the vocabularies are learnt from them only.
        vocab_size: Largest vocabulary per language, padding and `[UNK]` included.
        sequence_length: Tokens per encoder input and per decoder input/target.

    Returns:
        `(source_vectorizer, target_vectorizer)`.

    Raises:
        ValueError: If `train_pairs` is empty.

    Examples:
        >>> src, tgt = make_vectorizers([("Go.", "Ve."), ("Run!", "¡Corre!")], sequence_length=4)
        >>> tgt.get_vocabulary()[:2]
        ['', '[UNK]']
        >>> src(["go run"]).numpy().shape, tgt(["[start] ve [end]"]).numpy().shape
        ((1, 4), (1, 5))
    """
    import keras
    import tensorflow as tf

    if len(train_pairs) == 0:
        raise ValueError("train_pairs must not be empty")
    check_int(vocab_size, "vocab_size", 4)
    check_int(sequence_length, "sequence_length", 2)
    source = keras.layers.TextVectorization(
        max_tokens=vocab_size,
        output_mode="int",
        output_sequence_length=sequence_length,
        standardize=_tf_standardize,
    )
    target = keras.layers.TextVectorization(
        max_tokens=vocab_size,
        output_mode="int",
        output_sequence_length=sequence_length + 1,
        standardize=_tf_standardize,
    )
    source.adapt(tf.data.Dataset.from_tensor_slices([e for e, _ in train_pairs]).batch(1024))
    target.adapt(
        tf.data.Dataset.from_tensor_slices([_target_text(s) for _, s in train_pairs]).batch(1024)
    )
    return source, target


def teacher_forcing_arrays(
    pairs: Sequence[Pair], source_vectorizer: Any, target_vectorizer: Any
) -> tuple[tuple[NDArray[np.int64], NDArray[np.int64]], NDArray[np.int64]]:
    r"""Token arrays for training with teacher forcing.

    With $y = (\texttt{[start]}, y_1, \dots, y_m, \texttt{[end]}, 0, \dots)$ the target tokens,
    the decoder input is $y_{0:T}$ and the decoder target $y_{1:T+1}$: at step $t$ the decoder
    sees the true previous word and learns to predict the next one.

    Args:
        pairs: `(english, spanish)` pairs.
        source_vectorizer: The source layer of [`make_vectorizers`][dlguide.text.make_vectorizers].
        target_vectorizer: The target layer of [`make_vectorizers`][dlguide.text.make_vectorizers].

    Returns:
        `((encoder_tokens, decoder_inputs), decoder_targets)`, int64 arrays of shapes
        `(n, T_src)`, `(n, T)` and `(n, T)`.

    Raises:
        ValueError: If `pairs` is empty.

    Examples:
        >>> src, tgt = make_vectorizers([("Go.", "Ve.")], sequence_length=4)
        >>> (enc, dec_in), dec_out = teacher_forcing_arrays([("Go.", "Ve.")], src, tgt)
        >>> enc.shape, dec_in.shape, bool((dec_in[0, 1:] == dec_out[0, :-1]).all())
        ((1, 4), (1, 4), True)
    """
    if len(pairs) == 0:
        raise ValueError("pairs must not be empty")
    encoder = np.asarray(source_vectorizer([e for e, _ in pairs]), dtype=np.int64)
    target = np.asarray(target_vectorizer([_target_text(s) for _, s in pairs]), dtype=np.int64)
    return (encoder, target[:, :-1]), target[:, 1:]


def make_dataset(
    pairs: Sequence[Pair],
    source_vectorizer: Any,
    target_vectorizer: Any,
    *,
    batch_size: int = 64,
    shuffle_seed: int | None = None,
) -> Any:
    r"""A batched `tf.data.Dataset` of `((encoder_tokens, decoder_inputs), decoder_targets)`.

    The arrays are those of [`teacher_forcing_arrays`][dlguide.text.teacher_forcing_arrays];
    `model.fit(dataset)` works for any model with two inputs (encoder tokens, decoder tokens) and
    one softmax output per decoder position.

    Args:
        pairs: `(english, spanish)` pairs.
        source_vectorizer: Source `TextVectorization`.
        target_vectorizer: Target `TextVectorization`.
        batch_size: Pairs per batch.
        shuffle_seed: Shuffle the pairs anew each epoch with this seed; `None` keeps their order
            (for validation and test).

    Returns:
        The dataset, prefetching.

    Examples:
        >>> src, tgt = make_vectorizers([("Go.", "Ve."), ("Hi.", "Hola.")], sequence_length=3)
        >>> ds = make_dataset([("Go.", "Ve."), ("Hi.", "Hola.")], src, tgt, batch_size=2)
        >>> (enc, dec_in), dec_out = next(iter(ds))
        >>> tuple(enc.shape), tuple(dec_out.shape)
        ((2, 3), (2, 3))
    """
    import tensorflow as tf

    check_int(batch_size, "batch_size", 1)
    inputs, targets = teacher_forcing_arrays(pairs, source_vectorizer, target_vectorizer)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(targets), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------------------------------
# Greedy decoding
# --------------------------------------------------------------------------------------------------

NextTokenScores = Callable[[NDArray[np.int64], NDArray[np.int64]], ArrayLike]


def greedy_decode(
    next_token_scores: NextTokenScores,
    source_tokens: ArrayLike,
    *,
    start_id: int,
    end_id: int,
    max_length: int,
    batch_size: int = 256,
) -> list[list[int]]:
    r"""Generate target tokens one at a time, always taking the highest-scoring one.

    Starting from $\hat y_0 = \texttt{[start]}$, step $t$ appends
    $\hat y_t = \arg\max_v s(x, \hat y_{0:t})_v$, where
    $s(x, \hat y_{0:t})$ = `next_token_scores(source_tokens, decoder_tokens)` scores every
    vocabulary entry $v$ as the next token. A sentence stops when it produces `end_id` or after
    `max_length` steps. Any model can be plugged in: an RNN decoder re-run on the prefix, a
    transformer decoder with a causal mask, or a lookup table in a test.

    Args:
        next_token_scores: Function of `(source_tokens (b, T_src), decoder_tokens (b, t))`,
            both int64, returning scores `(b, V)` (logits or probabilities) for the next token.
            It is called only with the sentences not finished yet.
        source_tokens: Encoder tokens `(n, T_src)`, e.g. from the source vectorizer.
        start_id: Token id of `[start]`.
        end_id: Token id of `[end]`.
        max_length: Most tokens generated per sentence, `[end]` included.
        batch_size: Sentences decoded together.

    Returns:
        For each sentence the generated token ids, without `[start]` and `[end]`; each list has at
        most `max_length` ids (`max_length - 1` when `[end]` was produced).

    Raises:
        ValueError: If `source_tokens` is not a non-empty 2-D integer array, or the scores have
            the wrong shape.

    Examples:
        >>> def scores(src, dec):  # next token = previous + 1; token 4 is [end]
        ...     return np.eye(6)[np.minimum(dec[:, -1] + 1, 5)]
        >>> greedy_decode(scores, [[7, 8], [9, 0]], start_id=2, end_id=4, max_length=5)
        [[3], [3]]
        >>> greedy_decode(scores, [[7, 8]], start_id=2, end_id=5, max_length=2)
        [[3, 4]]
    """
    source = as_finite_array(source_tokens, "source_tokens", ndim=2, dtype=np.float64)
    if not np.array_equal(source, np.round(source)):
        raise ValueError("source_tokens must hold integer token ids")
    source_ids = source.astype(np.int64)
    check_int(start_id, "start_id", 0)
    check_int(end_id, "end_id", 0)
    check_int(max_length, "max_length", 1)
    check_int(batch_size, "batch_size", 1)
    results: list[list[int]] = []
    for begin in range(0, len(source_ids), batch_size):
        src = source_ids[begin : begin + batch_size]
        decoded = np.full((len(src), 1), start_id, dtype=np.int64)  # (b, 1 + steps so far)
        active = np.ones(len(src), dtype=bool)  # not yet ended
        for _ in range(max_length):
            rows = np.flatnonzero(active)
            scores = np.asarray(next_token_scores(src[rows], decoded[rows]))
            if scores.ndim != 2 or scores.shape[0] != len(rows):
                raise ValueError(
                    f"next_token_scores must return shape ({len(rows)}, vocab_size), "
                    f"got {scores.shape}"
                )
            token = np.zeros(len(src), dtype=np.int64)  # finished sentences get padding
            token[rows] = scores.argmax(axis=-1)
            decoded = np.concatenate([decoded, token[:, None]], axis=1)
            active &= token != end_id
            if not active.any():
                break
        for row in decoded[:, 1:]:
            ids = row.tolist()
            results.append(ids[: ids.index(end_id)] if end_id in ids else ids)
    return results


def decode_tokens(token_ids: Sequence[Sequence[int]], vocabulary: Sequence[str]) -> list[str]:
    r"""Turn token id lists into sentences: ids looked up in `vocabulary`, padding (0) dropped.

    Examples:
        >>> decode_tokens([[3, 4, 0]], ["", "[UNK]", "[start]", "hola", "amigo"])
        ['hola amigo']
    """
    return [" ".join(vocabulary[i] for i in ids if i != 0) for ids in token_ids]


def translate(
    next_token_scores: NextTokenScores,
    sentences: Sequence[str],
    source_vectorizer: Any,
    target_vectorizer: Any,
    *,
    max_length: int | None = None,
    batch_size: int = 256,
) -> list[str]:
    r"""Translate English sentences with [`greedy_decode`][dlguide.text.greedy_decode].

    Args:
        next_token_scores: As in [`greedy_decode`][dlguide.text.greedy_decode].
        sentences: English sentences.
        source_vectorizer: Source `TextVectorization`.
        target_vectorizer: Target `TextVectorization`.
        max_length: Most tokens generated per sentence; by default the decoder length `T` of the
            target vectorizer (its output length minus one).
        batch_size: Sentences decoded together.

    Returns:
        The translations, standardised (lower case, no punctuation), one per sentence.

    Raises:
        ValueError: If `sentences` is empty.
    """
    if len(sentences) == 0:
        raise ValueError("sentences must not be empty")
    vocabulary = target_vectorizer.get_vocabulary()
    if max_length is None:
        max_length = int(target_vectorizer.get_config()["output_sequence_length"]) - 1
    source = np.asarray(source_vectorizer(list(sentences)), dtype=np.int64)
    ids = greedy_decode(
        next_token_scores,
        source,
        start_id=vocabulary.index(START),
        end_id=vocabulary.index(END),
        max_length=max_length,
        batch_size=batch_size,
    )
    return decode_tokens(ids, vocabulary)


# --------------------------------------------------------------------------------------------------
# BLEU
# --------------------------------------------------------------------------------------------------


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    r"""Corpus BLEU (0–100) of translations against one reference each, with sacrebleu.

    $$\mathrm{BLEU} = 100 \cdot \mathrm{BP} \cdot \exp\Big(\tfrac14 \sum_{n=1}^{4} \log p_n\Big),
    \qquad \mathrm{BP} = \min\big(1, e^{1 - r/c}\big),$$

    where $p_n$ is the share of the hypotheses' $n$-grams found in the references (clipped counts,
    summed over the whole corpus), $c$ the hypotheses' total length and $r$ the references'. Both
    sides are first passed through [`standardize`][dlguide.text.standardize], since model output
    has no capitals or punctuation; then sacrebleu's default `13a` tokenisation applies.

    Args:
        hypotheses: Model translations.
        references: One reference translation per hypothesis, e.g. the Spanish side of the test
            pairs.

    Returns:
        The corpus BLEU score; 100 for a perfect translation.

    Raises:
        ValueError: If the lists are empty, differ in length or hold non-strings.

    Examples:
        >>> round(corpus_bleu(["el gato está en la mesa"], ["El gato está en la mesa."]), 6)
        100.0
        >>> round(corpus_bleu(["el perro está en la mesa"], ["El gato está en la mesa."]), 1)
        53.7
    """
    import sacrebleu

    if len(hypotheses) == 0 or len(hypotheses) != len(references):
        raise ValueError(
            "hypotheses and references must be non-empty and of the same length, got "
            f"{len(hypotheses)} and {len(references)}"
        )
    for name, texts in (("hypotheses", hypotheses), ("references", references)):
        if not all(isinstance(t, str) for t in texts):
            raise ValueError(f"{name} must be strings")
    hyps = [standardize(h) for h in hypotheses]
    refs = [standardize(r) for r in references]
    return float(sacrebleu.corpus_bleu(hyps, [refs]).score)
