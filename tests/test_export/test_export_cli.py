"""``zoo export``: prints the validation table; errors exit non-zero."""

from zoo.cli import main


def test_cli_exports_a_preset_and_prints_the_table(tmp_path, capsys):
    out = tmp_path / "nano"
    code = main(["export", "gpt-nano", "--formats", "onnx", "--out", str(out), "--no-decoders",
                 "--set", "num_layers=1", "hidden_dim=16", "num_heads=2", "intermediate_dim=32",
                 "vocabulary_size=31", "max_sequence_length=32"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "max abs diff" in printed and "pass" in printed and "random weights" in printed
    assert (out / "manifest.json").is_file() and (out / "onnx" / "gpt_nano" / "1" / "model.onnx").is_file()


def test_cli_errors(tmp_path, capsys):
    assert main(["export", "gpt-nano", "--formats", "onnx,tflite", "--out", str(tmp_path / "x")]) == 2
    assert "valid formats: savedmodel, onnx" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("x")
    assert main(["export", "gpt-nano", "--out", str(tmp_path / "taken"), "--set", "num_layers=1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["export", "gpt-nano", "--out", str(tmp_path / "y"), "--opset", "21",
                 "--set", "num_layers=1"]) == 2
    assert "opset must be between" in capsys.readouterr().err
    assert main(["export", "gpt-nano", "--formats", "onnx", "--out", str(tmp_path / "z"), "--quantize", "int3"]) == 2
    assert "Unknown quantize mode(s) ['int3']; valid: int8, int4" in capsys.readouterr().err
    assert main(["export", "gpt-nano", "--formats", "onnx", "--out", str(tmp_path / "z"), "--quantize", "int4",
                 "--max-bleu-drop", "-1", "--set", "num_layers=1"]) == 2
    assert "bleu_drop limit must be a number >= 0" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()


def test_cli_validation_failure_exits_non_zero_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "strict"
    code = main(["export", "gpt-nano", "--formats", "onnx", "--out", str(out), "--no-decoders", "--atol", "1e-15",
                 "--set", "num_layers=1", "hidden_dim=16", "num_heads=2", "intermediate_dim=32",
                 "vocabulary_size=31", "max_sequence_length=32"])
    err = capsys.readouterr().err
    assert code == 2 and "Validation failed for onnx" in err and "FAIL" in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_exports_a_model_folder(tmp_path, capsys):
    import text_models
    from zoo.model_folder import save_model_folder

    model = text_models.bert_text_model("classifier")
    save_model_folder(tmp_path / "folder", model.model, model.tokenizer)
    assert main(["export", str(tmp_path / "folder"), "--formats", "onnx", "--out", str(tmp_path / "out")]) == 0
    assert "random weights" not in capsys.readouterr().out
    assert (tmp_path / "out" / "onnx" / "sentiment" / "1" / "model.onnx").is_file()
