"""A forward tensor's declaration (:class:`TensorAxes`), and the inputs the zoo's families share.

Each family's spec picks the ones its model takes; the generic spec knows
them all, so any Keras model with these input names gets their declaration.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TensorAxes:
    """One forward input or output: its axis names (fixed sizes come from the Keras model) and meaning."""

    axes: tuple
    meaning: str


RIGHT_PADDED = "rows of unequal length are right-padded (each row's real tokens first)"

TOKEN_IDS = TensorAxes(("batch", "sequence"), f"Token ids, one row per sequence; {RIGHT_PADDED}, "
                                              "so position ids count from 0 at column 0.")
PADDING_MASK = TensorAxes(("batch", "sequence"), "1 where token_ids holds a real token, 0 for padding.")
SEGMENT_IDS = TensorAxes(("batch", "sequence"), "Segment of each token: 0 for the first sentence, 1 for the second.")
MASK_POSITIONS = TensorAxes(("batch", "masked_positions"),
                            "Columns of token_ids whose original tokens the masked-LM head predicts.")
SOURCE_IDS = TensorAxes(("batch", "source_sequence"), f"Source token ids; {RIGHT_PADDED}.")
SOURCE_PADDING_MASK = TensorAxes(("batch", "source_sequence"),
                                 "1 for a real source token, 0 for padding (a prefix of ones in each row).")
TARGET_IDS = TensorAxes(("batch", "target_sequence"),
                        f"Target ids fed to the decoder (teacher forcing): the start token, then the target; {RIGHT_PADDED}.")
TARGET_PADDING_MASK = TensorAxes(("batch", "target_sequence"), "1 for a real target token, 0 for padding.")

TOKENS = {"token_ids": TOKEN_IDS, "padding_mask": PADDING_MASK}
BERT_TOKENS = {**TOKENS, "segment_ids": SEGMENT_IDS}
SOURCE_AND_TARGET = {"source_ids": SOURCE_IDS, "source_padding_mask": SOURCE_PADDING_MASK,
                     "target_ids": TARGET_IDS, "target_padding_mask": TARGET_PADDING_MASK}
EVERY_INPUT = {**BERT_TOKENS, "mask_positions": MASK_POSITIONS, **SOURCE_AND_TARGET}
