"""Tiny models paired with tiny tokenizers, for the text-signature tests."""

import zoo.tokenizers as tok
from harness import tiny_model
from zoo.model_folder import TextModel

WORDS = ["a", "the", "film", "movie", "is", "and", "plot", "thin", "acting", "worse", "quiet", "##ly",
         "moving", "good", "bad", "great", "dull", "funny", "sad", "long", "short", "fun", "story", "it"]
LETTERS = "abcdefghijklmnopqrst"


def bert_text_model(head=None):
    """Tiny BERT (vocabulary 29) + a 29-token WordPiece vocabulary."""
    import zoo

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
    backbone = tiny_model("bert", name="tiny_bert")
    model = zoo.BertClassifier(backbone, num_classes=2, name="sentiment") if head == "classifier" else backbone
    return TextModel(model, tok.wordpiece_tokenizer(vocabulary))


def gpt_text_model(kind="byte_pair"):
    """Tiny GPT (vocabulary 23) + byte-level BPE over a-t, space, one merge, <|endoftext|>."""
    if kind == "character":
        tokenizer = tok.character_tokenizer(list(LETTERS) + [" ", ".", "\n"])
        generation = {}
    else:
        vocabulary = {c: i for i, c in enumerate(LETTERS)}
        vocabulary.update({"Ġ": 20, "Ġa": 21, "<|endoftext|>": 22})
        tokenizer = tok.byte_pair_tokenizer(vocabulary, ["Ġ a"])
        generation = {"stop_token_ids": [22]}
    return TextModel(tiny_model("gpt", max_sequence_length=32, name="tiny_gpt"), tokenizer, generation=generation)


def seq2seq_text_model():
    """Tiny seq2seq: 17 source characters, 13 target characters (0 = start, 1 = stop)."""
    source = tok.character_tokenizer(list("abcdefghijklmno "))  # 16 of 17 ids used
    target = tok.character_tokenizer(["^", "$"] + list("abcdefghij "))
    model = tiny_model("seq2seq", name="tiny_mt")
    return TextModel(model, source, target, generation={"start_token_id": 0, "stop_token_ids": [1]})
