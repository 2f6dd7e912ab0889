"""Attention masks built from padding masks, causality and cache offsets.

All masks are boolean with True meaning "this query may attend this key".
"""

from keras import ops

# What a masked-out attention score or logit becomes before a softmax: large and
# finite, so the softmax gives it ~0 and no inf - inf makes a NaN. One value for
# attention, samplers and the fused ONNX attention (its mask_filter_value).
MASKED_LOGIT = -1e9


def attention_mask(
    query_length,
    key_length,
    padding_mask=None,
    causal=False,
    query_offset=0,
):
    """The (batch or 1, query_length, key_length) mask for one attention call.

    Args:
        query_length, key_length: ints or scalar tensors.
        padding_mask: (batch, key_length), true/1 for real keys; or None.
        causal: key j is visible to query i only when j <= query_offset + i.
        query_offset: absolute position of the first query: 0 for a full
            forward pass, the cache index when decoding incrementally.
            A scalar, or a (batch,) tensor when rows start at different
            positions.
    Returns None when there is nothing to mask.
    """
    mask = None
    if padding_mask is not None:
        keys_visible = ops.cast(padding_mask, "bool")[:, None, :]  # (B, 1, Tk)
        mask = ops.broadcast_to(
            keys_visible,
            (ops.shape(keys_visible)[0], query_length, key_length),
        )
    if causal:
        query_offset = ops.convert_to_tensor(query_offset, "int32")
        if len(query_offset.shape) == 0:
            query_offset = ops.reshape(query_offset, (1,))
        query_positions = (
            query_offset[:, None] + ops.arange(query_length, dtype="int32")[None]
        )  # (B or 1, Tq)
        key_positions = ops.arange(key_length, dtype="int32")  # (Tk,)
        causal_mask = key_positions[None, None, :] <= query_positions[:, :, None]
        mask = causal_mask if mask is None else ops.logical_and(mask, causal_mask)
    return mask
