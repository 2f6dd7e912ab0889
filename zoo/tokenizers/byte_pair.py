"""Byte-level BPE (GPT-2): keras-hub's ``BytePairTokenizer`` from vocabulary and merges files."""

import keras_hub

from zoo.tokenizers.vocabulary_files import GPT2_END_OF_TEXT, read_merges, read_vocabulary_dict


def byte_pair_tokenizer(
    vocabulary,
    merges,
    sequence_length=None,
    add_prefix_space=False,
    unsplittable_tokens=None,
):
    """GPT-2's byte-level BPE (keras-hub ``BytePairTokenizer``).

    Args:
        vocabulary: path to ``vocab.json`` or a {token: id} dict (or a list, id = index).
        merges: path to ``merges.txt`` or a list of ``"a b"`` rules, highest priority first.
        sequence_length: pad/truncate dense outputs to this length (None = ragged).
        add_prefix_space: prepend a space, so a leading word tokenizes like a middle one.
        unsplittable_tokens: strings kept whole, e.g. ``"<|endoftext|>"`` (the
            default, when it is in the vocabulary).
    """
    vocabulary = read_vocabulary_dict(vocabulary)
    merges = read_merges(merges)
    if unsplittable_tokens is None:
        unsplittable_tokens = [GPT2_END_OF_TEXT] if GPT2_END_OF_TEXT in vocabulary else []
    missing = [t for t in unsplittable_tokens if t not in vocabulary]
    if missing:
        raise ValueError(f"unsplittable_tokens {missing} are not in the vocabulary; add them or drop them.")
    return keras_hub.tokenizers.BytePairTokenizer(
        vocabulary=vocabulary,
        merges=merges,
        sequence_length=sequence_length,
        add_prefix_space=add_prefix_space,
        unsplittable_tokens=list(unsplittable_tokens) or None,
    )
