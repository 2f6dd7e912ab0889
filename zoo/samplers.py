"""Next-token samplers: logits (B, V) -> token ids (B,), inside the compiled decode loop.

Everything here is plain TensorFlow that XLA compiles. Sampler parameters
(temperature, k, p) are tensors, not Python numbers, so changing them does
not retrace the loop; only the sampler *kind* is part of the trace.

* ``greedy``: argmax.
* ``temperature``: sample from softmax(logits / temperature).
* ``top_k``: keep the k largest logits, then sample (with temperature).
* ``top_p``: keep the nucleus, the smallest set of most likely tokens whose
  probability reaches p (Holtzman et al., 2020), then sample.
* ``beam``: beam search; lives in ``zoo.generation`` (it reorders the cache).

Sampling uses the Gumbel-max trick with stateless random numbers: the same
seed gives the same tokens, on every run and inside XLA.
"""

import tensorflow as tf

from zoo.layers.masks import MASKED_LOGIT

SAMPLERS = ("greedy", "temperature", "top_k", "top_p", "beam")
SAMPLING = ("temperature", "top_k", "top_p")  # the ones that draw random numbers


def check_sampler(sampler, temperature=1.0, top_k=50, top_p=0.9, num_beams=4, length_penalty=1.0):
    """Raise a ValueError that says what is wrong with the sampler arguments."""
    if sampler not in SAMPLERS:
        raise ValueError(f"Unknown sampler {sampler!r}. Valid samplers: {', '.join(SAMPLERS)}.")
    if sampler in SAMPLING:
        if temperature is None or not float(temperature) > 0:
            raise ValueError(
                f"temperature must be > 0 for sampler {sampler!r}, got {temperature!r}. "
                "Use sampler='greedy' for deterministic decoding."
            )
    if sampler == "top_k":
        if top_k is None or isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1:
            raise ValueError(f"top_k must be an integer >= 1, got {top_k!r}.")
    if sampler == "top_p":
        if top_p is None or not 0.0 < float(top_p) <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}.")
    if sampler == "beam":
        if isinstance(num_beams, bool) or int(num_beams) != num_beams or num_beams < 1:
            raise ValueError(f"num_beams must be an integer >= 1, got {num_beams!r}.")
        if length_penalty is None or float(length_penalty) != float(length_penalty):
            raise ValueError(f"length_penalty must be a number, got {length_penalty!r}.")


def greedy(logits):
    """(B, V) -> (B,) int32 argmax (lowest id on ties)."""
    return tf.argmax(logits, axis=-1, output_type=tf.int32)


def top_k_mask(logits, k):
    """Bool (B, V): the k largest logits per row (ties at the k-th value are all kept).

    ``k`` is a scalar tensor, so one compiled loop serves every k.
    """
    vocabulary = tf.shape(logits)[-1]
    k = tf.clip_by_value(tf.cast(k, tf.int32), 1, vocabulary)
    sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
    kth = tf.gather(sorted_logits, k - 1, axis=-1)[:, None]  # (B, 1)
    return logits >= kth


def nucleus_mask(logits, p, temperature=1.0):
    """Bool (B, V): the nucleus of softmax(logits / temperature) for probability p.

    Sorted by probability, a token is kept when the probability of the tokens
    before it is still < p; so the most likely token is always kept and the
    kept set is the smallest whose total reaches p.
    """
    scaled = logits / tf.cast(temperature, logits.dtype)
    sorted_logits = tf.sort(scaled, axis=-1, direction="DESCENDING")
    probabilities = tf.nn.softmax(sorted_logits, axis=-1)
    before = tf.cumsum(probabilities, axis=-1, exclusive=True)
    kept = tf.reduce_sum(tf.cast(before < tf.cast(p, before.dtype), tf.int32), axis=-1)  # (B,) >= 1
    threshold = tf.gather(sorted_logits, kept - 1, axis=-1, batch_dims=1)[:, None]
    return scaled >= threshold


def _gumbel_argmax(logits, seed):
    """One sample per row from softmax(logits), via argmax(logits + Gumbel noise)."""
    uniform = tf.random.stateless_uniform(
        tf.shape(logits), seed=seed, minval=1e-20, maxval=1.0, dtype=tf.float32
    )
    gumbel = -tf.math.log(-tf.math.log(uniform))
    return tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32)


def sample(kind, logits, temperature, top_k, top_p, seed):
    """Pick the next token per row with sampler ``kind`` (a Python string).

    logits: (B, V) float32; temperature/top_k/top_p: scalar tensors;
    seed: (2,) int32 tensor, different at every step.
    """
    if kind in ("greedy", "beam"):
        return greedy(logits)
    logits = tf.cast(logits, tf.float32)
    scaled = logits / tf.cast(temperature, tf.float32)
    if kind == "top_k":
        scaled = tf.where(top_k_mask(logits, top_k), scaled, MASKED_LOGIT)
    elif kind == "top_p":
        scaled = tf.where(nucleus_mask(logits, top_p, temperature), scaled, MASKED_LOGIT)
    return _gumbel_argmax(scaled, seed)
