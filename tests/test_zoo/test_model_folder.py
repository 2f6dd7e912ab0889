"""Model folders: model.keras + tokenizer assets; zoo.load gives a TextModel
that takes strings, or the plain Keras model when there is no tokenizer."""

import json

import keras
import pytest

import zoo
from harness import tiny_model
from zoo.cli import main
from zoo.model_folder import TextModel, save_model_folder
from zoo.tokenizers import character_tokenizer, character_vocabulary, wordpiece_tokenizer

TEXT = "ROMEO:\nBut soft, what light through yonder window breaks?\n"


@pytest.fixture(scope="module")
def char_folder(tmp_path_factory):
    keras.utils.set_random_seed(0)
    tokenizer = character_tokenizer(character_vocabulary(TEXT))
    model = tiny_model("gpt", vocabulary_size=tokenizer.vocabulary_size(), max_sequence_length=32)
    folder = tmp_path_factory.mktemp("char") / "run"
    save_model_folder(folder, model, tokenizer, generation={"stop_token_ids": [tokenizer.token_to_id("\n")]})
    return folder, model, tokenizer


def test_folder_layout_and_json(char_folder):
    folder, _, _ = char_folder
    assert sorted(p.name for p in folder.iterdir()) == ["model.keras", "tokenizer", "tokenizer.json"]
    description = json.loads((folder / "tokenizer.json").read_text())
    assert description["format_version"] == 1
    assert description["tokenizer"]["kind"] == "character"
    assert description["generation"]["stop_token_ids"] == [character_vocabulary(TEXT).index("\n")]


def test_load_returns_a_text_model_that_generates_strings(char_folder):
    folder, model, tokenizer = char_folder
    lm = zoo.load(folder)
    assert isinstance(lm, TextModel) and type(lm.model) is type(model)
    ids = lm.encode("ROMEO:")
    assert ids == [character_vocabulary(TEXT).index(c) for c in "ROMEO:"]
    out = lm.generate("ROMEO:", max_new_tokens=8)
    assert isinstance(out, str)
    # Strings in == ids in, decoded (the stop token, newline, is dropped from text).
    expected = zoo.generate(lm.model, ids, max_new_tokens=8, stop_token_ids=lm.generation["stop_token_ids"])
    stop = lm.generation["stop_token_ids"][0]
    assert out == lm.decode([t for t in expected if t != stop])
    both = zoo.generate(lm, ["ROMEO:", "But"], max_new_tokens=8)
    assert both[0] == out
    assert zoo.generate(lm, "ROMEO:", max_new_tokens=8, include_prompt=True) == "ROMEO:" + out


def test_folder_without_tokenizer_and_keras_file_load_plain_models(tmp_path):
    model = tiny_model("gpt")
    save_model_folder(tmp_path / "plain", model)
    assert isinstance(zoo.load(tmp_path / "plain"), zoo.Gpt)
    model.save(tmp_path / "m.keras")
    assert isinstance(zoo.load(tmp_path / "m.keras"), zoo.Gpt)


def test_resaving_without_tokenizer_drops_the_old_one(tmp_path, char_folder):
    _, model, tokenizer = char_folder
    save_model_folder(tmp_path, model, tokenizer)
    save_model_folder(tmp_path, model)
    assert not isinstance(zoo.load(tmp_path), TextModel)


def test_seq2seq_folder_with_two_tokenizers(tmp_path):
    source = wordpiece_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "ein", "hund"])
    target = wordpiece_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "dog"])
    model = tiny_model("seq2seq", source_vocabulary_size=6, target_vocabulary_size=6)
    save_model_folder(tmp_path, model, source, target_tokenizer=target)
    loaded = zoo.load(tmp_path)
    assert loaded.generation == {"stop_token_ids": [3], "start_token_id": 2}  # [SEP], [CLS]
    assert loaded.encode("ein Hund") == [4, 5]
    out = loaded.generate("ein hund", max_new_tokens=3)
    assert isinstance(out, str)


def test_cli_generate_text_and_ids(char_folder, capsys):
    folder, _, _ = char_folder
    assert main(["generate", str(folder), "ROMEO:", "--max-new-tokens", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ROMEO:")
    assert main(["generate", str(folder), "--ids", "1,2,3", "--max-new-tokens", "3"]) == 0
    assert len(capsys.readouterr().out.split()) <= 3
    assert main(["generate", str(folder), "ROMEO:", "--sampler", "nope"]) == 2
    assert "Valid samplers" in capsys.readouterr().err


def test_gpt2_style_byte_pair_folder_generates_text(tmp_path):
    from zoo.corpora import corpus_path
    from zoo.tokenizers import train_byte_pair

    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        lines = file.read().splitlines()[:500]
    tokenizer = train_byte_pair(lines, vocabulary_size=300)
    model = tiny_model("gpt", vocabulary_size=tokenizer.vocabulary_size(), max_sequence_length=32)
    save_model_folder(tmp_path, model, tokenizer)
    lm = zoo.load(tmp_path)
    end = tokenizer.token_to_id("<|endoftext|>")
    assert lm.generation["stop_token_ids"] == [end]  # guessed from the tokenizer
    prompt = "First Citizen:"
    out = lm.generate(prompt, max_new_tokens=6, sampler="top_k", top_k=5, seed=0)
    assert isinstance(out, str)
    assert out == lm.generate(prompt, max_new_tokens=6, sampler="top_k", top_k=5, seed=0)
