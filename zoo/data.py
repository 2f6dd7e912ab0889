"""tf.data loaders over the shipped corpora, with fixed, seeded splits.

    corpus = shakespeare_char()                        # nanoGPT's split: 90 % / 10 % of the characters
    train = char_windows(corpus.train_ids, block_size=64, batch_size=12, seed=0)   # (x, y), endless
    val = char_eval_windows(corpus.val_ids, block_size=64, batch_size=64)          # every window once

    splits = rt_polarity_splits()                      # {"train": (texts, labels), "val": ..., "test": ...}
    de, en = multi30k_pairs("train")                   # Multi30k's own train / val / test

Why these splits: results must compare with the peers named in issue 7.
Tiny Shakespeare is split the way nanoGPT does (vocabulary = the sorted
characters of the whole file; the first 90 % of the characters train, the
last 10 % validate). rt-polarity has no official split: the positive lines
then the negative lines, in file order, are permuted by
``numpy.random.default_rng(0).permutation``; the first 80 % train, the next
10 % validate, the last 10 % test (``int(0.8 n)`` and ``int(0.9 n)`` are the
cut points). Multi30k ships its own split (29,000 / 1,014 / 1,000 pairs).

Files are read strictly: a missing or unreadable file, text that is not
UTF-8, an empty line inside a line-per-example file, and parallel files of
different lengths all raise :class:`DataError` naming the file and the line.
A single trailing blank line at the end of a file (an artefact of how
Multi30k is distributed) is not an example and is dropped.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from zoo.corpora import corpus_path

SHAKESPEARE = "tinyshakespeare.txt"
RT_POLARITY = ("rt-polarity.pos", "rt-polarity.neg")
MULTI30K_SPLITS = {"train": 29000, "val": 1014, "test": 1000}
RT_POLARITY_LINES = 5331  # per file
SPLIT_NAMES = ("train", "val", "test")


class DataError(ValueError):
    """A data file that cannot be used as it is; the message says which file and why."""


# --- reading files -------------------------------------------------------------


def read_text(path, what="Data file"):
    """The whole file as a string; clear errors for missing, unreadable or non-UTF-8 files."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} {path!r} does not exist. Check the path (shipped corpora: zoo/corpora/).")
    if os.path.isdir(path):
        raise DataError(f"{what} {path!r} is a folder; pass the text file inside it.")
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except PermissionError:
        raise PermissionError(f"{what} {path!r} is not readable (permission denied); fix its permissions.") from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"{what} {path!r} is not UTF-8 text (byte {error.start}: {error.reason}); "
            "re-encode it as UTF-8."
        ) from None
    except OSError as error:
        raise DataError(f"{what} {path!r} could not be read ({error}).") from None
    if not text.strip():
        raise DataError(f"{what} {path!r} is empty; it must contain text.")
    return text


def read_lines(path, what="Data file"):
    """One example per line; a blank line inside the file raises (with its line number).

    Line endings (``\\n`` or ``\\r\\n``) are removed; one trailing blank line
    at the very end is dropped.
    """
    lines = read_text(path, what).split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    while lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataError(
                f"{what} {os.fspath(path)!r} has an empty line at line {number}; every line must be "
                "one example. Remove the blank line (or fix the file's alignment)."
            )
    return lines


def read_parallel(source_path, target_path, expected_pairs=None):
    """Aligned source/target lines (pair i = line i of both files).

    Raises when the files have different numbers of lines, or when
    ``expected_pairs`` is given and the count differs from it.
    """
    source = read_lines(source_path, "Source file")
    target = read_lines(target_path, "Target file")
    if len(source) != len(target):
        raise DataError(
            f"Parallel files differ in length: {os.fspath(source_path)!r} has {len(source)} lines, "
            f"{os.fspath(target_path)!r} has {len(target)}. Line i of one must translate line i of "
            "the other; repair the files before training."
        )
    if expected_pairs is not None and len(source) != expected_pairs:
        raise DataError(
            f"{os.fspath(source_path)!r} / {os.fspath(target_path)!r} hold {len(source)} pairs; "
            f"expected {expected_pairs}. The corpus is incomplete or not the shipped one."
        )
    return source, target


# --- tiny Shakespeare, characters ----------------------------------------------


@dataclasses.dataclass
class CharCorpus:
    """A text as character ids: ``vocabulary`` (sorted characters), train and val id arrays."""

    vocabulary: list
    train_ids: np.ndarray
    val_ids: np.ndarray

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)


def shakespeare_char(path=None, train_fraction=0.9):
    """Tiny Shakespeare as nanoGPT prepares it (``data/shakespeare_char/prepare.py``'s recipe).

    Vocabulary: the sorted distinct characters of the whole file. Split: the
    first ``train_fraction`` of the characters train, the rest validate.
    """
    text = read_text(path or corpus_path(SHAKESPEARE), "Text corpus")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}.")
    vocabulary = sorted(set(text))
    lookup = {char: index for index, char in enumerate(vocabulary)}
    ids = np.fromiter((lookup[c] for c in text), dtype=np.int32, count=len(text))
    cut = int(len(ids) * train_fraction)
    return CharCorpus(vocabulary, ids[:cut], ids[cut:])


def _check_window(ids, block_size, what):
    if len(ids) < block_size + 1:
        raise DataError(
            f"The {what} text has {len(ids)} characters, fewer than block_size + 1 = {block_size + 1}; "
            "use a smaller block_size or more text."
        )


def char_windows(ids, block_size, batch_size, seed=0):
    """Endless batches of random windows, as nanoGPT's ``get_batch`` draws them.

    Each element is ``(x, y)``: x = ids[i : i + block], y = ids[i + 1 : i + block + 1]
    for offsets drawn uniformly by a seeded ``tf.data.Dataset.random``.
    """
    _check_window(ids, block_size, "training")
    data = tf.constant(np.asarray(ids, np.int32))
    span = tf.range(block_size + 1, dtype=tf.int64)
    limit = len(ids) - block_size  # offsets in [0, len - block)

    def windows(random):
        offsets = tf.math.floormod(random, limit)  # (B,)
        window = tf.gather(data, offsets[:, None] + span[None, :])  # (B, block + 1)
        return window[:, :-1], window[:, 1:]

    return (
        tf.data.Dataset.random(seed=seed)
        .batch(batch_size, drop_remainder=True)
        .map(windows, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def char_eval_windows(ids, block_size, batch_size, max_windows=0):
    """Every non-overlapping window of the split once, in fixed-size batches.

    The mean loss over it is the mean cross-entropy per character with the
    same context distribution as nanoGPT's random windows, but exact and
    repeatable (nanoGPT estimates it from a few random batches). A tail
    shorter than one full batch of windows is dropped so every batch has one
    shape (one XLA compilation). ``max_windows`` > 0 keeps that many windows,
    evenly spaced through the split (a cheaper estimate for frequent evaluation).
    """
    _check_window(ids, block_size, "validation")
    count = (len(ids) - 1) // block_size
    usable = count * block_size
    x = np.asarray(ids[:usable], np.int32).reshape(count, block_size)
    y = np.asarray(ids[1 : usable + 1], np.int32).reshape(count, block_size)
    if 0 < max_windows < count:
        keep = np.linspace(0, count - 1, max_windows).round().astype(int)
        x, y, count = x[keep], y[keep], max_windows
    if count < batch_size:
        batch_size = count
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size, drop_remainder=True).cache()


# --- rt-polarity ------------------------------------------------------------------


def rt_polarity_splits(positive_path=None, negative_path=None, expected_lines=None):
    """The fixed rt-polarity split: ``{"train"|"val"|"test": (list of texts, int32 labels)}``.

    Labels: 1 positive, 0 negative. The shipped files must have 5,331
    lines each (``expected_lines``; other files: pass None to skip the check).
    """
    if positive_path is None and negative_path is None and expected_lines is None:
        expected_lines = RT_POLARITY_LINES
    positive = read_lines(positive_path or corpus_path(RT_POLARITY[0]), "Positive-sentence file")
    negative = read_lines(negative_path or corpus_path(RT_POLARITY[1]), "Negative-sentence file")
    if expected_lines is not None:
        for lines, name in ((positive, "positive"), (negative, "negative")):
            if len(lines) != expected_lines:
                raise DataError(
                    f"The {name} rt-polarity file has {len(lines)} lines; expected {expected_lines}. "
                    "It is incomplete or not the shipped one."
                )
    texts = np.array(positive + negative, dtype=object)
    labels = np.array([1] * len(positive) + [0] * len(negative), dtype=np.int32)
    order = np.random.default_rng(0).permutation(len(texts))
    texts, labels = texts[order], labels[order]
    n = len(texts)
    cuts = (0, int(0.8 * n), int(0.9 * n), n)
    return {
        name: (texts[cuts[i] : cuts[i + 1]].tolist(), labels[cuts[i] : cuts[i + 1]])
        for i, name in enumerate(SPLIT_NAMES)
    }


def labelled_sentences(texts, labels, shuffle_seed=None):
    """A ``tf.data`` dataset of (text, label) pairs, unbatched; shuffled per epoch when seeded."""
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(list(texts)), tf.constant(labels, tf.int32)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(texts), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset


# --- Multi30k ----------------------------------------------------------------------


def multi30k_pairs(split, folder=None, source="de", target="en"):
    """(source lines, target lines) of a Multi30k split ("train", "val" or "test").

    The shipped files are checked against the official pair counts.
    """
    if split not in MULTI30K_SPLITS:
        raise ValueError(f"Unknown Multi30k split {split!r}; choose one of {', '.join(MULTI30K_SPLITS)}.")
    if folder is None:
        source_path = corpus_path("multi30k", f"{split}.{source}")
        target_path = corpus_path("multi30k", f"{split}.{target}")
        expected = MULTI30K_SPLITS[split]
    else:
        source_path = os.path.join(os.fspath(folder), f"{split}.{source}")
        target_path = os.path.join(os.fspath(folder), f"{split}.{target}")
        expected = None
    return read_parallel(source_path, target_path, expected)


def text_pairs(sources, targets, shuffle_seed=None):
    """A ``tf.data`` dataset of (source string, target string), unbatched."""
    if len(sources) != len(targets):
        raise DataError(f"{len(sources)} sources but {len(targets)} targets; pass aligned lists.")
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(list(sources)), tf.constant(list(targets))))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(sources), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset


def shakespeare_paragraphs(path=None, train_fraction=0.9):
    """Tiny Shakespeare as blank-line-separated speeches, on nanoGPT's character split.

    Returns ``{"train": [...], "val": [...]}``; a speech that straddles the
    cut is cut with it. Used for masked-LM pretraining.
    """
    text = read_text(path or corpus_path(SHAKESPEARE), "Text corpus")
    cut = int(len(text) * train_fraction)

    def speeches(part):
        return [" ".join(block.split()) for block in part.split("\n\n") if block.strip()]

    return {"train": speeches(text[:cut]), "val": speeches(text[cut:])}
