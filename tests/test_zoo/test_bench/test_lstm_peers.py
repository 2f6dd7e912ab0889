"""The LSTM peers (keras-lstm, torch-lstm): the zoo's weights in plain Keras / torch give its logits.

Tiny models with random (redrawn, distinct) weights, saved as ``.keras``
like the bench's prepare step does; every variant the readers and builders
branch on: tied with a projection, untied, bidirectional encoder with
general attention, unidirectional with dot attention and equal vocabularies
(where only Keras' layer order tells source and target embeddings apart).
"""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo import bench
from zoo.bench import artifacts, inputs, lstm_keras, lstm_peers, reference
from zoo.bench.lstm_weights import lstm_weights
from zoo.bench.runtimes import RUNTIMES, skip_reason

VARIANTS = {
    "lm-projection": ("lstm-lm-char", dict(vocabulary_size=11, num_layers=2, hidden_dim=8, embedding_dim=6)),
    "lm-untied": ("lstm-lm-char", dict(vocabulary_size=11, num_layers=1, hidden_dim=8, tie_embeddings=False)),
    "seq2seq-general": ("seq2seq-lstm-small", dict(source_vocabulary_size=13, target_vocabulary_size=11,
                                                   num_layers=2, hidden_dim=8, embedding_dim=6)),
    "seq2seq-dot-unidirectional": ("seq2seq-lstm-small", dict(
        source_vocabulary_size=11, target_vocabulary_size=11, num_layers=2, hidden_dim=8,
        bidirectional_encoder=False, tie_embeddings=False, attention="dot")),
}
TOLERANCE = 1e-5


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def saved(request, tmp_path_factory):
    """(family, config, .keras path, inputs, the zoo model's logits, the model) for one variant."""
    preset, overrides = VARIANTS[request.param]
    model = zoo.build(preset, dropout=0.0, **overrides)
    artifacts.distinct_weights(model)
    path = str(tmp_path_factory.mktemp(request.param) / "model.keras")
    model.save(path)
    family = "seq2seq" if preset.startswith("seq2seq") else "lstm_lm"
    config = dataclasses.asdict(model.config)
    x = inputs.forward_inputs(family, config, 2, 7)
    return family, config, path, x, np.asarray(model(x, training=False)), model


def test_keras_lstm_logits_equal_the_zoo_model(saved):
    family, config, path, x, expected, _ = saved
    model = lstm_keras.build(family, lstm_weights(path, family, config), config)
    feed = {n: x[n] for n in ("source_ids", "target_ids")} if family == "seq2seq" else x["token_ids"]
    np.testing.assert_allclose(np.asarray(model(feed)), expected, atol=TOLERANCE, rtol=0)


def test_torch_lstm_logits_equal_the_zoo_model(saved):
    torch = pytest.importorskip("torch")
    from zoo.bench import lstm_torch

    family, config, path, x, expected, _ = saved
    model = lstm_torch.build(family, lstm_weights(path, family, config), config)
    names = ("source_ids", "target_ids") if family == "seq2seq" else ("token_ids",)
    with torch.inference_mode():
        logits = model(*[torch.from_numpy(x[n].astype(np.int64)) for n in names]).numpy()
    np.testing.assert_allclose(logits, expected, atol=TOLERANCE, rtol=0)


def _facts(saved, folder):
    family, config, path, _, _, model = saved
    shapes = [(1, 4, 0), (2, 5, 0)]
    ref = reference.write(model, family, config, shapes, str(folder / reference.ARTIFACT))
    scalars = {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool))}
    facts = {"family": family, "config": scalars, "errors": {},
             "artifacts": {"keras": {"path": path, "size_bytes": 1, "max_abs_diff": None},
                           reference.ARTIFACT: {"path": ref, "size_bytes": 1, "max_abs_diff": None}}}
    return json.loads(json.dumps(facts)), shapes  # as the worker receives them


@pytest.mark.parametrize("peer", lstm_peers.PEERS)
def test_peer_checks_parity_on_each_shape_and_records_the_difference(saved, peer, tmp_path):
    if peer == "torch-lstm":
        pytest.importorskip("torch")
    facts, shapes = _facts(saved, tmp_path)
    make_call, build_seconds, artifact = lstm_peers.load(peer, "forward", facts)
    assert build_seconds > 0 and artifact["path"] == facts["artifacts"]["keras"]["path"]
    assert artifact["max_abs_diff"] is None  # nothing checked yet
    for batch, length, new_tokens in shapes:
        call = make_call(batch, length, new_tokens)
        assert call().shape[:2] == (batch, length)
        call()  # later calls are not checked again
    assert 0.0 <= artifact["max_abs_diff"] <= TOLERANCE


def test_a_peer_that_disagrees_with_the_reference_fails_with_the_difference(saved, tmp_path):
    facts, shapes = _facts(saved, tmp_path)
    folder = facts["artifacts"][reference.ARTIFACT]["path"]
    path = f"{folder}/{reference.file_name(2, 5)}"
    np.save(path, np.load(path) + 0.01)
    make_call, _, artifact = lstm_peers.load("keras-lstm", "forward", facts)
    make_call(1, 4, 0)()
    with pytest.raises(RuntimeError, match=r"parity: logits differ .* by 0\.01 .* batch 2, length 5"):
        make_call(2, 5, 0)()
    assert artifact["max_abs_diff"] == pytest.approx(0.01, abs=1e-4)


def test_reference_rows_are_read_back_exactly(tmp_path):
    logits = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)
    np.save(tmp_path / reference.file_name(3, 4), logits)
    assert reference.max_abs_diff(str(tmp_path), 3, 4, logits) == 0.0
    with pytest.raises(ValueError, match="do not match"):
        reference.max_abs_diff(str(tmp_path), 3, 4, logits[:, :, :4])
    with pytest.raises(ValueError, match="No reference logits"):
        reference.max_abs_diff(str(tmp_path), 1, 4, logits)


def test_lstm_peers_are_registered_for_the_lstm_forward_rows_only():
    for peer in lstm_peers.PEERS:
        assert RUNTIMES[peer].kind == "peer" and RUNTIMES[peer].artifact == reference.ARTIFACT
        assert "no model of the bert family" in skip_reason(peer, "bert", "forward", {})
        assert "does not support task 'generate'" in skip_reason(peer, "lstm_lm", "generate", {})
    assert RUNTIMES["torch-lstm"].uses_tensorflow is False
    assert skip_reason("keras-lstm", "seq2seq", "forward", {}) is None
    for name in ("default", "full"):
        suite = bench.load_suite(name)
        lstm_rows = [e for e in suite["models"] if e["model"] in ("lstm-lm-char", "seq2seq-lstm-small")]
        assert lstm_rows and all({"keras-lstm", "torch-lstm"} <= set(e["runtimes"]) for e in lstm_rows)


def test_torch_lstm_runs_without_importing_tensorflow(tmp_path):
    pytest.importorskip("torch")
    model = zoo.build("lstm-lm-char", dropout=0.0, vocabulary_size=11, num_layers=1, hidden_dim=8)
    saved = ("lstm_lm", dataclasses.asdict(model.config), str(tmp_path / "model.keras"), None, None, model)
    model.save(saved[2])
    facts, _ = _facts(saved, tmp_path)
    (tmp_path / "facts.json").write_text(json.dumps(facts))
    script = (
        "import json, sys\n"
        "from zoo.bench import peers\n"
        f"facts = json.load(open({str(tmp_path / 'facts.json')!r}))\n"
        "make_call, _, artifact = peers.load('torch-lstm', 'forward', facts)\n"
        "make_call(2, 5, 0)()\n"
        "assert artifact['max_abs_diff'] <= 1e-5, artifact\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
