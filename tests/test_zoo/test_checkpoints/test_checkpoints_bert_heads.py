"""BERT task heads and file formats: random small transformers models saved to temp
folders (no download), imported, and compared with the torch reference."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="BERT head parity needs torch (pip install 'zoo[hf]')")
transformers = pytest.importorskip("transformers", reason="BERT head parity needs transformers (pip install 'zoo[hf]')")

import zoo  # noqa: E402
from checkpoint_helpers import max_abs_diff, write_tiny_bert  # noqa: E402
from zoo.checkpoints import from_huggingface  # noqa: E402

IDS = np.array([[2, 31, 19, 8, 33, 34, 24, 35, 3, 0], [2, 7, 20, 31, 32, 3, 0, 0, 0, 0]], "int32")
MASK = (np.arange(IDS.shape[1])[None] < np.array([[9], [6]])).astype("int32")
SEGMENTS = np.array([[0] * 5 + [1] * 5, [0] * 10], "int32")


def _torch(reference, **extra):
    with torch.no_grad():
        return reference(
            input_ids=torch.tensor(IDS, dtype=torch.long),
            attention_mask=torch.tensor(MASK, dtype=torch.long),
            token_type_ids=torch.tensor(SEGMENTS, dtype=torch.long),
            **extra,
        )


def _inputs():
    return {"token_ids": IDS, "segment_ids": SEGMENTS, "padding_mask": MASK}


def test_masked_lm_head(tmp_path):
    reference = write_tiny_bert(str(tmp_path), "BertForMaskedLM")
    model, tokenizer = from_huggingface(str(tmp_path))
    assert isinstance(model, zoo.BertMaskedLM)
    positions = np.array([[1, 4, 7], [2, 3, 5]], "int32")
    logits = np.asarray(model({**_inputs(), "mask_positions": positions}))
    expected = _torch(reference).logits.numpy()
    expected = np.take_along_axis(expected, positions[..., None], axis=1)
    diff = max_abs_diff(logits, expected)
    print(f"BertForMaskedLM logits max abs diff: {diff:.2e}")
    assert diff <= 1e-4
    assert np.asarray(tokenizer("The cats sat")).tolist() == [31, 33, 32, 34]  # the cat ##s sat


def test_sequence_classifier_head(tmp_path):
    reference = write_tiny_bert(str(tmp_path), "BertForSequenceClassification", num_labels=3)
    model, _ = from_huggingface(str(tmp_path))
    assert isinstance(model, zoo.BertClassifier) and model.num_classes == 3
    diff = max_abs_diff(model(_inputs()), _torch(reference).logits.numpy())
    print(f"BertForSequenceClassification logits max abs diff: {diff:.2e}")
    assert diff <= 1e-4


def test_token_classifier_head(tmp_path):
    reference = write_tiny_bert(str(tmp_path), "BertForTokenClassification", num_labels=4)
    model, _ = from_huggingface(str(tmp_path))
    assert isinstance(model, zoo.BertTokenClassifier) and model.num_classes == 4
    real = MASK.astype(bool)
    diff = max_abs_diff(np.asarray(model(_inputs()))[real], _torch(reference).logits.numpy()[real])
    assert diff <= 1e-4


def test_pytorch_bin_is_read_weights_only(tmp_path):
    """A pytorch_model.bin (no safetensors) holding only tensors imports the same model."""
    reference = write_tiny_bert(str(tmp_path), "BertModel")
    (tmp_path / "model.safetensors").unlink()
    torch.save(reference.state_dict(), str(tmp_path / "pytorch_model.bin"))
    model, _ = from_huggingface(str(tmp_path))
    real = MASK.astype(bool)
    out = np.asarray(model(_inputs())["sequence_output"])
    diff = max_abs_diff(out[real], _torch(reference).last_hidden_state.numpy()[real])
    assert diff <= 1e-4


def test_bfloat16_safetensors_are_widened(tmp_path):
    """bfloat16 checkpoints (numpy has no bfloat16) import as the float32 of the same values."""
    from safetensors.torch import save_file

    reference = write_tiny_bert(str(tmp_path), "BertModel")
    state = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in reference.state_dict().items()}
    save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    model, _ = from_huggingface(str(tmp_path), tokenizer=False)
    expected = state["embeddings.word_embeddings.weight"].float().numpy()
    np.testing.assert_array_equal(np.asarray(model.token_embedding.embeddings), expected)


def test_sharded_safetensors(tmp_path):
    """A checkpoint split into shards (model.safetensors.index.json) imports like a single file."""
    reference = write_tiny_bert(str(tmp_path / "single"), "BertModel")
    reference.save_pretrained(str(tmp_path / "sharded"), safe_serialization=True, max_shard_size="20KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").exists()
    (tmp_path / "sharded" / "vocab.txt").write_text((tmp_path / "single" / "vocab.txt").read_text())
    model, _ = from_huggingface(str(tmp_path / "sharded"))
    real = MASK.astype(bool)
    out = np.asarray(model(_inputs())["sequence_output"])
    assert max_abs_diff(out[real], _torch(reference).last_hidden_state.numpy()[real]) <= 1e-4
