"""zoo.data: the fixed splits issue 7 specifies, and clear errors for bad files."""

import os

import numpy as np
import pytest

from zoo import data
from zoo.corpora import corpus_path
from zoo.training.batching import bucket_edges, bucketed, evaluation_batches, split_batches


# --- splits -------------------------------------------------------------------------


def test_shakespeare_char_is_nanogpts_split():
    corpus = data.shakespeare_char()
    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as f:
        text = f.read()
    assert corpus.vocabulary == sorted(set(text)) and corpus.vocabulary_size == 65
    cut = int(len(text) * 0.9)
    assert len(corpus.train_ids) == cut == 1003854 and len(corpus.val_ids) == len(text) - cut == 111540
    decoded = "".join(corpus.vocabulary[i] for i in corpus.val_ids[:200])
    assert decoded == text[cut: cut + 200]


def test_char_windows_are_shifted_pairs_and_seeded():
    ids = np.arange(1000, dtype=np.int32)
    first = [(x.numpy(), y.numpy()) for x, y in data.char_windows(ids, 16, 4, seed=3).take(2)]
    again = [(x.numpy(), y.numpy()) for x, y in data.char_windows(ids, 16, 4, seed=3).take(2)]
    for (x, y), (x2, y2) in zip(first, again):
        assert x.shape == y.shape == (4, 16)
        np.testing.assert_array_equal(x + 1, y)  # consecutive ids: y is x shifted by one
        np.testing.assert_array_equal(x, x2)
        assert x.max() < 1000 and y.max() < 1000


def test_char_eval_windows_cover_the_split_once():
    ids = np.arange(1001, dtype=np.int32)
    batches = list(data.char_eval_windows(ids, block_size=10, batch_size=25))
    xs = np.concatenate([x.numpy() for x, _ in batches])
    assert xs.shape == (100, 10)
    np.testing.assert_array_equal(xs.ravel(), np.arange(1000))
    few = np.concatenate([x.numpy() for x, _ in data.char_eval_windows(ids, 10, 5, max_windows=5)])
    np.testing.assert_array_equal(few[:, 0], [0, 250, 500, 740, 990])


def test_rt_polarity_split_matches_the_issue():
    splits = data.rt_polarity_splits()
    sizes = {name: len(texts) for name, (texts, _) in splits.items()}
    assert sizes == {"train": 8529, "val": 1066, "test": 1067}
    positive = data.read_lines(corpus_path("rt-polarity.pos"))
    negative = data.read_lines(corpus_path("rt-polarity.neg"))
    everything = positive + negative
    order = np.random.default_rng(0).permutation(len(everything))
    expected_test = [everything[i] for i in order[9595:]]
    assert splits["test"][0] == expected_test
    np.testing.assert_array_equal(splits["test"][1], [1 if i < len(positive) else 0 for i in order[9595:]])
    assert sum(len(t) for t, _ in splits.values()) == 2 * 5331


def test_multi30k_has_its_official_pair_counts():
    for split, count in {"train": 29000, "val": 1014, "test": 1000}.items():
        de, en = data.multi30k_pairs(split)
        assert len(de) == len(en) == count
    de, en = data.multi30k_pairs("val")
    assert de[0] and en[0] and not de[-1].isspace()
    with pytest.raises(ValueError, match="Unknown Multi30k split"):
        data.multi30k_pairs("dev")


# --- bad files ---------------------------------------------------------------------


def _write(path, text, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)
    return str(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.read_lines(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="train.de.*does not exist"):
        data.multi30k_pairs("train", folder=tmp_path, source="de")


def test_folder_empty_file_and_non_utf8_are_refused(tmp_path):
    with pytest.raises(data.DataError, match="is a folder"):
        data.read_text(tmp_path)
    with pytest.raises(data.DataError, match="is empty"):
        data.read_lines(_write(tmp_path / "empty.txt", "\n\n"))
    with pytest.raises(data.DataError, match="not UTF-8"):
        data.read_lines(_write(tmp_path / "latin.txt", "caf\u00e9\n", encoding="latin-1"))


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_refused(tmp_path):
    path = _write(tmp_path / "secret.txt", "text\n")
    os.chmod(path, 0)
    with pytest.raises(PermissionError, match="not readable"):
        data.read_lines(path)


def test_empty_line_inside_a_file_is_refused_with_its_number(tmp_path):
    path = _write(tmp_path / "lines.txt", "one\ntwo\n\nfour\n")
    with pytest.raises(data.DataError, match="empty line at line 3"):
        data.read_lines(path)
    assert data.read_lines(_write(tmp_path / "ok.txt", "one\r\ntwo\r\n\n")) == ["one", "two"]


def test_parallel_files_of_different_lengths_are_refused(tmp_path):
    _write(tmp_path / "train.de", "eins\nzwei\ndrei\n")
    _write(tmp_path / "train.en", "one\ntwo\n")
    with pytest.raises(data.DataError, match="3 lines.*2"):
        data.multi30k_pairs("train", folder=tmp_path)
    _write(tmp_path / "train.en", "one\ntwo\nthree\n")
    assert data.multi30k_pairs("train", folder=tmp_path)[1] == ["one", "two", "three"]
    with pytest.raises(data.DataError, match="expected 5"):
        data.read_parallel(tmp_path / "train.de", tmp_path / "train.en", expected_pairs=5)


def test_rt_polarity_files_with_wrong_counts_are_refused(tmp_path):
    pos = _write(tmp_path / "p.txt", "good\nfine\n")
    neg = _write(tmp_path / "n.txt", "bad\n")
    with pytest.raises(data.DataError, match="positive.*2 lines; expected 3"):
        data.rt_polarity_splits(pos, neg, expected_lines=3)
    splits = data.rt_polarity_splits(pos, neg)
    assert sum(len(t) for t, _ in splits.values()) == 3


def test_short_text_for_a_block_is_refused():
    with pytest.raises(data.DataError, match="block_size"):
        data.char_windows(np.arange(10, dtype=np.int32), block_size=16, batch_size=2)


# --- length buckets ------------------------------------------------------------------


def test_buckets_pad_to_edges_and_declare_their_count():
    import tensorflow as tf

    assert bucket_edges(64, 16) == [16, 32, 48, 64] and bucket_edges(40, 16) == [16, 32, 40]
    lengths = [3, 5, 17, 20, 33, 40, 40, 64, 1, 2]
    rows = tf.ragged.constant([[7] * n for n in lengths])
    dataset = tf.data.Dataset.from_tensor_slices(rows).map(lambda r: r)
    batched = bucketed(dataset, lambda x: tf.shape(x)[0], 64, batch_size=2, bucket_width=16)
    batches = [b.numpy() for b in batched]
    assert len(batches) == int(batched.cardinality()) == 6
    assert sorted(b.shape[1] for b in batches) == [16, 16, 32, 48, 48, 64]
    assert sum(int((b != 0).sum()) for b in batches) == sum(lengths)
    dropped = bucketed(dataset, lambda x: tf.shape(x)[0], 64, batch_size=2, bucket_width=16, drop_remainder=True)
    assert all(b.shape[0] == 2 for b in dropped) and int(dropped.cardinality()) == 4


def test_evaluation_batches_keep_every_example_and_leave_one_partial_batch():
    """Across bucket edges in length order: each example once, with its label; the same
    padded lengths as bucketed; one partial batch where bucketed leaves one per bucket."""
    import tensorflow as tf

    lengths = [3, 5, 17, 20, 33, 40, 40, 64, 1, 2, 18, 9, 50]
    rows = tf.ragged.constant([[i + 1] * n for i, n in enumerate(lengths)])
    dataset = tf.data.Dataset.from_tensor_slices((rows, tf.range(len(lengths)))).map(lambda r, label: (r, label))
    length_of = lambda ids, label: tf.shape(ids)[0]  # noqa: E731
    batched = evaluation_batches(dataset, length_of, 64, batch_size=3, bucket_width=16)
    batches = [(ids.numpy(), labels.numpy()) for ids, labels in batched]
    assert len(batches) == int(batched.cardinality()) == 5
    assert sorted(ids.shape[0] for ids, _ in batches) == [1, 3, 3, 3, 3]
    seen = {}
    for ids, labels in batches:
        assert ids.shape[1] in (16, 32, 48, 64)
        assert ids.shape[1] - 16 < max(int((row != 0).sum()) for row in ids) <= ids.shape[1]
        for row, label in zip(ids, labels):
            assert set(row[row != 0]) == {label + 1}  # the example's ids travel with its label
            seen[int(label)] = int((row != 0).sum())
    assert seen == dict(enumerate(lengths))
    by_bucket = [ids.shape for ids, _ in bucketed(dataset, length_of, 64, 3, 16)]
    assert sum(rows < 3 for rows, _ in by_bucket) == 2  # the buckets up to 16 and up to 64
    with pytest.raises(ValueError, match="empty"):
        evaluation_batches(dataset.take(0), length_of, 64, 3, 16)
    # What the recipes call: training drops each bucket's partial batch, evaluation keeps all.
    assert all(ids.shape[0] == 3 for ids, _ in split_batches(dataset, length_of, 64, 3, 16, training=True))
    assert int(split_batches(dataset, length_of, 64, 3, 16, training=False).cardinality()) == 5
