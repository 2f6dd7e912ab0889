"""Length-bucketed batches: fewer padded tokens, and few distinct shapes for XLA.

Sentences vary in length (rt-polarity: 3 to ~60 words). Padding every batch
to the longest possible length wastes most of the compute; padding each
batch to its own longest sentence gives a new shape -- a new XLA
compilation -- almost every batch. ``tf.data``'s ``bucket_by_sequence_length``
does both right: examples are grouped by length, and each batch is padded to
its bucket's upper edge, a multiple of ``bucket_width``. At most
``max_length / bucket_width`` shapes are ever compiled.

That is for training, which drops each bucket's partial batch. An
evaluation must see every example, and would keep a partial batch in every
bucket: twice the shapes, each a new XLA compilation or new oneDNN kernels
on first use. :func:`evaluation_batches` therefore batches an evaluation
split in length order, across bucket edges, so that only its last batch is
partial.
"""

import numpy as np
import tensorflow as tf


def bucket_edges(max_length, bucket_width):
    """Padded lengths of the buckets: bucket_width, 2 * bucket_width, ..., max_length."""
    if max_length < 1 or bucket_width < 1:
        raise ValueError(f"max_length and bucket_width must be >= 1, got {max_length}, {bucket_width}.")
    edges = list(range(bucket_width, max_length, bucket_width)) + [max_length]
    return edges


def bucketed(dataset, length_fn, max_length, batch_size, bucket_width=16, drop_remainder=False):
    """Batch ``dataset`` (elements of 1-D id tensors of length <= max_length, and scalars).

    Every variable-length component of a batch is padded with 0 to the same
    bucket edge; ``length_fn(element)`` gives the length that picks the bucket.
    The number of batches is counted once (one pass over the lengths) and
    declared with ``assert_cardinality``, so Keras shows a progress bar with
    a total and the learning-rate schedule knows the exact number of steps.
    With ``drop_remainder`` each bucket's last partial batch is dropped
    (training: every batch has the full batch size, so fewer shapes).
    """
    edges = bucket_edges(max_length, bucket_width)
    lengths = _lengths(dataset, length_fn)
    per_bucket = np.bincount(np.searchsorted(edges, lengths), minlength=len(edges) + 1)
    batches = per_bucket // batch_size if drop_remainder else -(-per_bucket // batch_size)
    if int(batches.sum()) == 0:
        raise ValueError(
            f"batch_size {batch_size} is larger than every length bucket ({per_bucket.tolist()} examples); "
            "use a smaller batch_size or more data."
        )
    batched = dataset.bucket_by_sequence_length(
        element_length_func=length_fn,
        bucket_boundaries=[edge + 1 for edge in edges],
        bucket_batch_sizes=[batch_size] * (len(edges) + 1),
        pad_to_bucket_boundary=True,
        drop_remainder=drop_remainder,
    )
    return batched.apply(tf.data.experimental.assert_cardinality(int(batches.sum())))


def evaluation_batches(dataset, length_fn, max_length, batch_size, bucket_width=16):
    """Batch an evaluation split of ``dataset`` (as :func:`bucketed`) in length order.

    Each batch takes the next ``batch_size`` examples by length, whatever
    their buckets, and is padded to the bucket edge at or above its longest
    example: the same few padded lengths as :func:`bucketed`, about as little
    padding, and one partial batch (the last) instead of one per bucket.
    Measured on bert-sentiment's validation split (bf16, 4-token buckets):
    its first evaluation took 12.25 s against 3.6 s for the next, because
    every new batch shape costs 0.2-0.44 s on first use, and the partial
    batches doubled the shapes (``benchmarks/RESULTS.md``).

    Examples keep their order within a batch; batches come out as they fill.
    ``dataset`` must give its examples in the same order on every pass (an
    unshuffled split): their ranks come from a first pass over the lengths.
    Batches are gathered by rank (``group_by_window``), which can hold the
    whole split in memory at once, as evaluation splits allow.
    """
    edges = np.asarray(bucket_edges(max_length, bucket_width))
    lengths = _lengths(dataset, length_fn)
    if lengths.max() > max_length:
        raise ValueError(f"An example is {lengths.max()} long, more than max_length {max_length}.")
    ranks = np.empty(len(lengths), np.int64)
    ranks[np.argsort(lengths, kind="stable")] = np.arange(len(lengths))
    batch_of = ranks // batch_size
    longest = np.zeros(batch_of.max() + 1, np.int64)
    np.maximum.at(longest, batch_of, lengths)
    padded_length = tf.constant(edges[np.searchsorted(edges, longest)], tf.int64)
    batch_of = tf.constant(batch_of)

    def padded_shapes(length):
        return tf.nest.map_structure(
            lambda spec: tf.reshape(length, [1]) if spec.shape.rank else tf.TensorShape([]), dataset.element_spec)

    def batch(key, window):
        examples = window.map(lambda index, example: example)
        return examples.padded_batch(batch_size, padded_shapes=padded_shapes(tf.gather(padded_length, key)))

    batched = dataset.enumerate().group_by_window(
        key_func=lambda index, example: tf.gather(batch_of, index), reduce_func=batch, window_size=batch_size)
    return batched.apply(tf.data.experimental.assert_cardinality(len(longest)))


def split_batches(dataset, length_fn, max_length, batch_size, bucket_width, training):
    """A split's batches as the recipes make them: a training split :func:`bucketed`
    with each bucket's partial batch dropped, any other as :func:`evaluation_batches`."""
    if training:
        return bucketed(dataset, length_fn, max_length, batch_size, bucket_width, drop_remainder=True)
    return evaluation_batches(dataset, length_fn, max_length, batch_size, bucket_width)


def _lengths(dataset, length_fn):
    """``length_fn`` of every example, in one pass; refuses an empty split."""
    lengths = np.fromiter(dataset.map(length_fn, num_parallel_calls=tf.data.AUTOTUNE).as_numpy_iterator(), np.int64)
    if not len(lengths):
        raise ValueError("No examples to batch: the data split is empty.")
    return lengths


def wrap(ids, start_id, end_id, max_length):
    """[start] + ids + [end], truncated so the result has at most ``max_length`` ids."""
    ids = ids[: max_length - 2]
    return tf.concat([[start_id], tf.cast(ids, tf.int32), [end_id]], axis=0)
