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
