"""The `zoo` command line (in-process, through its main function)."""

from zoo.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "bert-base" in out and "gpt2-xl" in out and "seq2seq-lstm-small" in out


def test_build_prints_parameters_and_saves(capsys, tmp_path):
    path = tmp_path / "tiny.keras"
    assert main(["build", "bert-tiny", "--set", "vocabulary_size=100", "--out", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Bert" in out and "parameters" in out
    assert path.exists()


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["build", "bert-gigantic"]) == 2
    err = capsys.readouterr().err
    assert "Unknown model 'bert-gigantic'" in err and "bert-base" in err
