"""Every zoo model class through the shared harness (``harness.run_model_test``):
config, symbolic and eager calls, ``.keras`` round trip in safe mode, one
training step on the model's own loss, mixed_bfloat16."""

import keras
import numpy as np
import pytest

import zoo
from harness import TINY, next_token_data, run_model_test, tiny_inputs, tiny_model

BATCH, LENGTH = 2, 6
BERT_INPUTS = tiny_inputs("bert", batch=BATCH, length=LENGTH)
MASK_POSITIONS = np.array([[1, 3], [0, 5]], "int32")
MLM_INPUTS = {**BERT_INPUTS, "mask_positions": MASK_POSITIONS}
HIDDEN = TINY["bert"]["hidden_dim"]
BERT_SHAPES = {"sequence_output": (BATCH, LENGTH, HIDDEN), "pooled_output": (BATCH, HIDDEN)}


def on_tiny_bert(**task_kwargs):
    """Task kwargs with a fresh one-block tiny backbone (built under the policy
    in force): the head is under test here, stacking blocks is the Bert entry's."""
    return lambda: {"backbone": tiny_model("bert", num_layers=1), **task_kwargs}


def lm_case(family, ids, mask, vocabulary):
    """A language model: logits over the vocabulary, trained on the next token.
    Every check calls it on the training inputs, so each shape compiles once."""
    x, y = next_token_data(tiny_inputs(family, batch=BATCH, length=LENGTH), ids, mask)
    return TINY[family], x, (BATCH, x[ids].shape[1], TINY[family][vocabulary]), {"fit_data": (x, y)}


def backbone_targets():
    """Random regression targets for both BERT outputs: a backbone has no loss of its own."""
    rng = np.random.default_rng(0)
    return {name: rng.normal(size=shape).astype("float32") for name, shape in BERT_SHAPES.items()}


CASES = {  # class: (init_kwargs, input_data, expected_output_shape, options)
    zoo.Gpt: lm_case("gpt", "token_ids", "padding_mask", "vocabulary_size"),
    zoo.LstmLM: lm_case("lstm_lm", "token_ids", "padding_mask", "vocabulary_size"),
    zoo.Seq2Seq: lm_case("seq2seq", "target_ids", "target_padding_mask", "target_vocabulary_size"),
    zoo.Bert: (TINY["bert"], BERT_INPUTS, BERT_SHAPES, {
        "fit_data": (BERT_INPUTS, backbone_targets()), "loss": "mse", "mixed_output_dtype": "bfloat16"}),
    zoo.BertClassifier: (on_tiny_bert(num_classes=3), BERT_INPUTS, (BATCH, 3), {
        "fit_data": (BERT_INPUTS, np.array([0, 2]))}),
    zoo.BertTokenClassifier: (on_tiny_bert(num_classes=4), BERT_INPUTS, (BATCH, LENGTH, 4), {
        "fit_data": (BERT_INPUTS, BERT_INPUTS["token_ids"] % 4), "expected_unchanged": ("pooler",)}),
    zoo.BertMaskedLM: (on_tiny_bert(), MLM_INPUTS, (BATCH, 2, TINY["bert"]["vocabulary_size"]), {
        "fit_data": (MLM_INPUTS, np.take_along_axis(BERT_INPUTS["token_ids"], MASK_POSITIONS, 1)),
        "expected_unchanged": ("pooler",)}),
}


@pytest.mark.parametrize("model_cls", list(CASES), ids=lambda cls: cls.__name__)
def test_model(model_cls):
    init_kwargs, input_data, shape, options = CASES[model_cls]
    run_model_test(model_cls, init_kwargs, input_data, shape, **options)


def test_bert_classifier_with_mean_pooling():
    """The sentence-transformers head: mean of the unpadded token vectors; the unused pooler is frozen."""
    run_model_test(zoo.BertClassifier, on_tiny_bert(num_classes=3, pooling="mean"), BERT_INPUTS, (BATCH, 3),
                   fit_data=(BERT_INPUTS, np.array([0, 2])), expected_unchanged=("pooler",))


def test_every_model_class_has_a_case():
    """A model class exported by ``zoo`` without a harness entry fails here."""
    exported = {obj for obj in vars(zoo).values() if isinstance(obj, type) and issubclass(obj, keras.Model)}
    assert exported == set(CASES)
