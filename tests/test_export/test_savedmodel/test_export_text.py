"""Text signatures (tokenizer in the graph) called from a fresh process that
imports only tensorflow and tensorflow_text - no zoo, no keras-hub."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import text_models
from export import export
from zoo.generation import generate

TEXTS = ["a fine idea", "he nailed a deal"]

LOADER = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # registers the tokenizer ops
assert "zoo" not in sys.modules and "keras_hub" not in sys.modules
texts = tf.constant(json.loads(sys.argv[1]))
result = {}
for name, path in json.loads(sys.argv[2]).items():
    loaded = tf.saved_model.load(path)
    signatures = {}
    for key, function in loaded.signatures.items():
        if key == "serving_default":
            continue
        kwargs = {"texts": texts} if not key.startswith("generate") else {"prompts": texts, "max_new_tokens": tf.constant(6)}
        signatures[key] = {k: v.numpy().tolist() for k, v in function(**kwargs).items()}
    result[name] = signatures
print(json.dumps(result, default=lambda b: b.decode("utf-8")))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    models = {
        "classifier": text_models.bert_text_model("classifier"),
        "backbone": text_models.bert_text_model(),
        "gpt": text_models.gpt_text_model("byte_pair"),
        "seq2seq": text_models.seq2seq_text_model(),
    }
    paths, reports = {}, {}
    for key, model in models.items():
        # generate_xla is checked in test_export_savedmodel_serving (tracing it here too would slow this module)
        reports[key] = export(model, root / key, formats=["savedmodel"], generate_xla=False)
        paths[key] = reports[key]["artifacts"]["savedmodel"]["path"]
    run = subprocess.run([sys.executable, "-c", LOADER, json.dumps(TEXTS), json.dumps(paths)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return models, reports, json.loads(run.stdout.strip().splitlines()[-1])


def _bert_inputs(model, texts):
    from export.model_info import describe
    from export.savedmodel.text_signatures import bert_ids

    ids, segments, mask = tf.function(lambda t: bert_ids(describe(model), t))(tf.constant(texts))
    return {"token_ids": ids.numpy(), "segment_ids": segments.numpy(), "padding_mask": mask.numpy()}


def test_predict_text_in_fresh_process(exported):
    models, reports, outputs = exported
    got = outputs["classifier"]["predict_text"]
    model = models["classifier"]
    logits = np.asarray(model.model(_bert_inputs(model, TEXTS)))
    probabilities = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(got["probabilities"], probabilities, atol=1e-5)
    assert got["labels"] == probabilities.argmax(-1).tolist()
    assert reports["classifier"]["artifacts"]["savedmodel"]["text_signatures"]["predict_text"]["passed"]


def test_embed_text_in_fresh_process(exported):
    models, _, outputs = exported
    got = outputs["backbone"]["embed_text"]
    model = models["backbone"]
    expected = model.model(_bert_inputs(model, TEXTS))
    np.testing.assert_allclose(got["pooled_output"], np.asarray(expected["pooled_output"]), atol=1e-5)
    assert np.asarray(got["sequence_output"]).shape == tuple(expected["sequence_output"].shape)


@pytest.mark.parametrize("key", ["gpt", "seq2seq"])
def test_generate_text_in_fresh_process(exported, key):
    """strings -> strings with BPE (GPT) / characters (seq2seq): same text as zoo.generate."""
    models, reports, outputs = exported
    assert outputs[key]["generate"]["text"] == generate(models[key], TEXTS, max_new_tokens=6, sampler="greedy")
    assert reports[key]["artifacts"]["savedmodel"]["text_signatures"]["generate"]["passed"]
    # the export gate ran it through the TF1 session loader too (XLA off, as stock TF Serving)
    tf1 = reports[key]["artifacts"]["savedmodel"]["tf1_session"]["signatures"]["generate"]
    assert tf1["passed"] and tf1["savedmodel"] == tf1["keras"]


@pytest.fixture(scope="module")
def character_gpt_generate():
    from export.model_info import describe
    from export.savedmodel.text_signatures import generate_length, generate_signatures

    model = text_models.gpt_text_model("character")  # one token per character
    info = describe(model)
    return model, generate_length(info), generate_signatures(info)["generate"]


@pytest.mark.parametrize("prompt_length", [15, 16, 17, 25, 31, 40])
def test_generate_uses_the_whole_context(character_gpt_generate, prompt_length):
    """Prompts whose padding up to the 16-token prompt chunk reaches the end of the context
    (17-31 tokens of a 32-token context) still generate: the signature keeps a prompt's last
    context - 1 tokens and cuts max_new_tokens to what fits, and then gives zoo.generate's text."""
    model, context, signature = character_gpt_generate
    prompt = ("abcde fghij " * 4)[:prompt_length]
    got = signature(tf.constant([prompt]), tf.constant(4))["text"].numpy()[0].decode()
    kept = prompt[-(context - 1):]
    expected = generate(model, [kept], max_new_tokens=min(4, context - len(kept)), sampler="greedy")[0]
    assert got == expected
    assert len(got) == min(4, context - len(kept))
