"""``zoo import PATH --out FOLDER`` writes a model folder that ``zoo.load`` opens."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="writing test checkpoints needs torch (pip install 'zoo[hf]')")
pytest.importorskip("transformers", reason="writing test checkpoints needs transformers (pip install 'zoo[hf]')")

import zoo  # noqa: E402
from checkpoint_helpers import max_abs_diff, write_tiny_gpt2  # noqa: E402
from zoo.cli import main  # noqa: E402


def test_import_writes_a_folder_zoo_load_opens(tmp_path, capsys):
    source, out = tmp_path / "hf", tmp_path / "zoo-gpt2"
    reference = write_tiny_gpt2(str(source))
    assert main(["import", str(source), "--out", str(out)]) == 0
    assert "reload check max abs diff" in capsys.readouterr().out

    loaded = zoo.load(str(out))
    assert isinstance(loaded.model, zoo.Gpt)
    ids = loaded.encode("the cat sat on the mat")
    with torch.no_grad():
        expected = reference(torch.tensor([ids])).logits.numpy()
    assert max_abs_diff(loaded.model(np.array([ids], "int32")), expected) <= 1e-4
    assert loaded.generation.get("stop_token_ids") == [reference.config.eos_token_id]


def test_import_refuses_a_non_empty_out_and_reports_errors(tmp_path, capsys):
    source, out = tmp_path / "hf", tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    source.mkdir()
    (source / "config.json").write_text(json.dumps({"model_type": "t5"}))
    assert main(["import", str(source), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["import", str(source), "--out", str(tmp_path / "new")]) == 2
    assert "Unsupported model_type 't5'" in capsys.readouterr().err


def test_import_without_tokenizer_files(tmp_path, capsys):
    source = tmp_path / "hf"
    write_tiny_gpt2(str(source))
    (source / "vocab.json").unlink()
    (source / "merges.txt").unlink()
    assert main(["import", str(source), "--out", str(tmp_path / "a")]) == 2
    assert "missing: merges.txt, tokenizer.json, vocab.json" in capsys.readouterr().err
    assert main(["import", str(source), "--out", str(tmp_path / "b"), "--no-tokenizer"]) == 0
    assert isinstance(zoo.load(str(tmp_path / "b")), zoo.Gpt)
