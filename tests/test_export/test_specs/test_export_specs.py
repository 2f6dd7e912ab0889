"""Every registered export spec against the ONNX graphs export writes for its family.

For each spec a tiny model of the family is converted (forward graph, and
the decoder parts when the spec declares them); the graph's inputs and
outputs must carry the names, dtypes and named axes the spec declares.
A subclass of a zoo model class resolves to its parent's spec.
"""

import keras
import pytest
from harness import TINY, tiny_inputs, tiny_model

import zoo
from export.model_info import describe
from export.onnx import conversion, decoders
from export.onnx.contract import graph_signature
from export.specs import GENERIC, registered, spec_for

OPSET = 17


def _backbone():
    backbone = tiny_model("bert")
    backbone(tiny_inputs("bert"))
    return backbone


def _functional_model():
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
    hidden = keras.layers.Embedding(11, 4)(token_ids)
    logits = keras.layers.Dense(3, name="logits")(hidden)
    return keras.Model({"token_ids": token_ids, "padding_mask": padding_mask}, logits, name="plain")


TINY_MODELS = {
    "gpt": lambda: tiny_model("gpt"),
    "lstm_lm": lambda: tiny_model("lstm_lm"),
    "seq2seq": lambda: tiny_model("seq2seq"),
    "bert": _backbone,
    "bert_classifier": lambda: zoo.BertClassifier(_backbone(), num_classes=3),
    "bert_token_classifier": lambda: zoo.BertTokenClassifier(_backbone(), num_classes=4),
    "bert_masked_lm": lambda: zoo.BertMaskedLM(_backbone()),
    "keras": _functional_model,
}


def _built(family):
    model = TINY_MODELS[family]()
    if family in TINY and not model.built:
        model(tiny_inputs(family))
    return model


def _expected_shape(declared_axes, keras_shape):
    """The graph shape the spec implies: axis names where Keras leaves the size open, sizes elsewhere."""
    return [axis if size is None else size for axis, size in zip(declared_axes, keras_shape)]


def _keras_output_shapes(model):
    outputs = model.output
    if isinstance(outputs, dict):
        return {name: tuple(tensor.shape) for name, tensor in outputs.items()}
    return {"logits": tuple(outputs.shape)}


def test_every_family_has_a_tiny_model_here():
    assert {spec.family for spec in registered()} | {GENERIC.family} == set(TINY_MODELS)


@pytest.mark.parametrize("family", sorted(TINY_MODELS))
def test_the_forward_graph_matches_the_spec(family):
    model = _built(family)
    info = describe(model)
    spec = info.spec
    assert spec.family == family
    onnx_model, _ = conversion.convert_model(info, OPSET)
    signature = graph_signature(onnx_model)

    assert list(signature["inputs"]) == info.input_names
    for name, graph in signature["inputs"].items():
        assert graph["dtype"] == "int32", name
        assert graph["shape"] == list(spec.input(name).axes), name

    keras_shapes = _keras_output_shapes(model)
    assert sorted(signature["outputs"]) == sorted(info.output_names)
    for name, graph in signature["outputs"].items():
        assert graph["dtype"] == "float32", name
        declared = spec.output(name)
        if declared is None:
            assert spec is GENERIC
            continue
        assert graph["shape"] == _expected_shape(declared.axes, keras_shapes[name]), name


@pytest.mark.parametrize("spec", [s for s in registered() if s.decoder], ids=lambda s: s.family)
def test_the_decoder_parts_match_the_spec(spec):
    info = describe(_built(spec.family))
    models, _ = decoders.export_decoder(info, OPSET)
    for part, onnx_model in models.items():
        declared = spec.decoder_contract(f"onnx_{part}")(info.config, "float32")
        assert declared.mismatches(graph_signature(onnx_model)) == [], part


def test_a_subclass_gets_its_parents_spec():
    class HouseGpt(zoo.Gpt):
        pass

    class HouseClassifier(zoo.BertClassifier):
        pass

    gpt = HouseGpt(**TINY["gpt"])
    assert spec_for(gpt) is spec_for(tiny_model("gpt"))
    assert describe(_built_subclass(gpt, "gpt")).family == "gpt"
    assert spec_for(HouseClassifier(_backbone(), num_classes=2)).family == "bert_classifier"
    assert spec_for(_functional_model()) is GENERIC


def _built_subclass(model, family):
    model(tiny_inputs(family))
    return model
