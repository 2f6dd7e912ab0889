"""Wrong inputs get an error that says what was wrong and what to do."""

import numpy as np
import pytest
import tensorflow as tf

from harness import tiny_inputs, tiny_model


def test_token_id_out_of_vocabulary_names_the_id():
    model = tiny_model("gpt")
    ids = tiny_inputs("gpt")["token_ids"]
    ids[1, 3] = 23  # vocabulary is 23
    with pytest.raises(ValueError, match=r"id 23 at index \(1, 3\), outside the vocabulary \[0, 23\)"):
        model(ids)
    ids[1, 3] = -1
    with pytest.raises(ValueError, match="id -1"):
        model(ids)


def test_out_of_range_target_id_in_seq2seq():
    model = tiny_model("seq2seq")
    inputs = tiny_inputs("seq2seq")
    inputs["target_ids"][0, 0] = 13
    with pytest.raises(ValueError, match="target_ids contains id 13"):
        model(inputs)


def test_graph_mode_out_of_range_is_tensorflows_gather_error():
    """Documented: inside tf.function the eager check is skipped; on CPU TF's gather raises."""
    model = tiny_model("bert")
    ids = tiny_inputs("bert")["token_ids"]
    ids[0, 0] = 1000
    with pytest.raises(tf.errors.InvalidArgumentError, match="1000 is not in"):
        tf.function(lambda x: model(x))(ids)


def test_sequence_longer_than_max_sequence_length():
    model = tiny_model("bert")  # max_sequence_length 16
    with pytest.raises(ValueError, match="length 17, longer than this model's max_sequence_length 16"):
        model(np.zeros((1, 17), "int32"))


def test_cached_positions_past_the_context():
    model = tiny_model("gpt")
    cache = model.initial_layer_caches(1)
    with pytest.raises(ValueError, match="positions < 16"):
        model.call_with_cache(np.zeros((1, 2), "int32"), cache, 15)


def test_wrong_input_name():
    model = tiny_model("gpt")
    with pytest.raises(ValueError, match=r"unknown input\(s\) \['input_ids'\]; its inputs are \['token_ids', 'padding_mask'\]"):
        model({"input_ids": np.zeros((1, 3), "int32")})


def test_missing_required_input():
    model = tiny_model("seq2seq")
    inputs = tiny_inputs("seq2seq")
    del inputs["target_ids"]
    with pytest.raises(ValueError, match="missing input 'target_ids'"):
        model(inputs)


def test_float_token_ids_are_rejected():
    model = tiny_model("lstm_lm")
    with pytest.raises(TypeError, match="must be an integer tensor.*got dtype float32"):
        model(np.zeros((1, 3), "float32"))


def test_wrong_rank():
    model = tiny_model("bert")
    with pytest.raises(ValueError, match=r"shape \(batch, sequence_length\), got shape \(1, 3, 1\)"):
        model(np.zeros((1, 3, 1), "int32"))
