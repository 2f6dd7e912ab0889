"""Bad Hugging Face folders get a clear error, and nothing in them is executed."""

import json
import pickle

import pytest

torch = pytest.importorskip("torch", reason="writing test checkpoints needs torch (pip install 'zoo[hf]')")
pytest.importorskip("transformers", reason="writing test checkpoints needs transformers (pip install 'zoo[hf]')")

import zoo  # noqa: E402
from checkpoint_helpers import write_tiny_bert, write_tiny_gpt2  # noqa: E402
from zoo.checkpoints import CheckpointError, TokenizerFilesMissing, from_huggingface  # noqa: E402


def _edit_config(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def test_unsupported_model_type_lists_the_supported_ones(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 8}))
    with pytest.raises(CheckpointError, match=r"Unsupported model_type 'llama'.*bert, gpt2"):
        from_huggingface(str(tmp_path))


def test_missing_weight_file(tmp_path):
    write_tiny_bert(str(tmp_path), "BertModel")
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"No weight file.*model\.safetensors.*pytorch_model\.bin"):
        from_huggingface(str(tmp_path))


def test_missing_folder_and_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        from_huggingface(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="No config.json"):
        from_huggingface(str(tmp_path))


def test_tensor_shape_disagreeing_with_config_is_named(tmp_path):
    write_tiny_bert(str(tmp_path), "BertModel")
    _edit_config(tmp_path, intermediate_size=48)  # the checkpoint's FFN is 64 wide
    with pytest.raises(CheckpointError, match=r"'encoder\.layer\.0\.intermediate\.dense\.weight' has shape \(64, 32\).*\(48, 32\)"):
        from_huggingface(str(tmp_path))


def test_gpt2_tensor_shape_disagreeing_with_config_is_named(tmp_path):
    write_tiny_gpt2(str(tmp_path))
    _edit_config(tmp_path, n_positions=128)
    with pytest.raises(CheckpointError, match=r"'transformer\.wpe\.weight' has shape \(64, 64\).*\(128, 64\)"):
        from_huggingface(str(tmp_path))


def test_missing_tensor_is_named(tmp_path):
    from safetensors.numpy import load_file, save_file

    write_tiny_bert(str(tmp_path), "BertModel")
    tensors = load_file(str(tmp_path / "model.safetensors"))
    del tensors["encoder.layer.1.attention.self.value.bias"]
    save_file(tensors, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"no tensor 'encoder\.layer\.1\.attention\.self\.value\.bias'"):
        from_huggingface(str(tmp_path))


class Exploit:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_bin_needing_arbitrary_unpickling_is_refused_and_runs_nothing(tmp_path):
    write_tiny_bert(str(tmp_path), "BertModel")
    (tmp_path / "model.safetensors").unlink()
    marker = tmp_path / "code-was-executed"
    with open(tmp_path / "pytorch_model.bin", "wb") as f:
        pickle.dump({"embeddings.word_embeddings.weight": Exploit(str(marker))}, f)
    with pytest.raises(CheckpointError, match=r"needs arbitrary unpickling.*nothing"):
        from_huggingface(str(tmp_path))
    assert not marker.exists()

    # The same through torch.save (zip format) with a custom class.
    torch.save({"weights": Exploit(str(marker))}, str(tmp_path / "pytorch_model.bin"))
    with pytest.raises(CheckpointError, match="needs arbitrary unpickling"):
        from_huggingface(str(tmp_path))
    assert not marker.exists()


def test_bin_without_torch_is_refused(tmp_path, monkeypatch):
    import builtins

    write_tiny_bert(str(tmp_path), "BertModel")
    (tmp_path / "model.safetensors").unlink()
    torch.save({}, str(tmp_path / "pytorch_model.bin"))
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(CheckpointError, match=r"needs torch.*model\.safetensors"):
        from_huggingface(str(tmp_path))


def test_no_tokenizer_files(tmp_path):
    write_tiny_gpt2(str(tmp_path))
    (tmp_path / "vocab.json").unlink()
    (tmp_path / "merges.txt").unlink()
    model, tokenizer = from_huggingface(str(tmp_path), tokenizer=False)
    assert isinstance(model, zoo.Gpt) and tokenizer is None
    with pytest.raises(TokenizerFilesMissing, match=r"needs vocab\.json \+ merges\.txt or tokenizer\.json; missing: merges\.txt, tokenizer\.json, vocab\.json"):
        from_huggingface(str(tmp_path))


def test_unsupported_config_options_are_refused(tmp_path):
    write_tiny_bert(str(tmp_path), "BertModel")
    _edit_config(tmp_path, position_embedding_type="relative_key")
    with pytest.raises(CheckpointError, match="position_embedding_type='relative_key' is not supported"):
        from_huggingface(str(tmp_path))
    _edit_config(tmp_path, position_embedding_type="absolute", hidden_act="swish")
    with pytest.raises(CheckpointError, match=r"hidden_act='swish' is not supported.*gelu, gelu_fast"):
        from_huggingface(str(tmp_path))
