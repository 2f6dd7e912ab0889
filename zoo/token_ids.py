"""Checking token ids that come from outside against a vocabulary.

Used by the embedding layers (eagerly), the models' input checks and
``zoo.generate``; public as ``zoo.check_token_ids`` for callers who feed
graphs (``fit``, ``predict``, exported artifacts) where no check runs.
"""

import numpy as np
from keras import ops


def check_token_ids(token_ids, vocabulary_size, name="token_ids"):
    """Raise a ValueError naming the first id outside [0, vocabulary_size)."""
    ids = np.asarray(ops.convert_to_numpy(token_ids))
    bad = np.argwhere((ids < 0) | (ids >= vocabulary_size))
    if bad.size:
        where = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name} contains id {int(ids[where])} at index {where}, outside the "
            f"vocabulary [0, {vocabulary_size}). Use ids from this model's "
            "tokenizer, or build the model with a larger `vocabulary_size`."
        )
