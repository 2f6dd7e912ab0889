"""Tokenizers: thin factories over keras-hub (tensorflow-text inside graphs).

    tok = wordpiece_tokenizer("bert/vocab.txt")                  # BERT
    tok = byte_pair_tokenizer("gpt2/vocab.json", "gpt2/merges.txt")  # GPT-2
    tok = character_tokenizer(character_vocabulary(text))        # tiny Shakespeare
    tok = train_wordpiece(corpus, 8000) / train_byte_pair(corpus, 8000) / train_sentencepiece(corpus, 8000)
    save_tokenizer(tok, "folder"); tok = load_tokenizer("folder")

Every factory returns a keras-hub tokenizer layer (or, for characters, a
small ``keras_hub.tokenizers.Tokenizer`` subclass built from TF string ops),
so ``tok(strings)`` works eagerly, inside ``tf.function`` and inside
``tf.data.Dataset.map``: keras-hub switches to its TensorFlow /
tensorflow-text path whenever it is traced. No WordPiece or BPE logic lives
here: one module per tokenizer kind picks defaults (``wordpiece``,
``byte_pair``, ``sentencepiece``, ``character``), ``vocabulary_files`` reads
files (so that loading works under Keras safe mode), ``training`` trains
vocabularies, ``saving`` saves and loads assets.
"""

from zoo.tokenizers.byte_pair import byte_pair_tokenizer
from zoo.tokenizers.character import CharacterTokenizer, character_tokenizer, character_vocabulary
from zoo.tokenizers.saving import TOKENIZER_CONFIG, describe_tokenizer, load_tokenizer, save_tokenizer, tokenizer_kind
from zoo.tokenizers.sentencepiece import sentencepiece_tokenizer
from zoo.tokenizers.training import train_byte_pair, train_sentencepiece, train_wordpiece
from zoo.tokenizers.vocabulary_files import (
    BERT_SPECIAL_TOKENS,
    GPT2_END_OF_TEXT,
    read_merges,
    read_vocabulary_dict,
    read_vocabulary_list,
)
from zoo.tokenizers.wordpiece import NORMALIZATIONS, BertWordPieceTokenizer, wordpiece_tokenizer

__all__ = [
    "BERT_SPECIAL_TOKENS", "GPT2_END_OF_TEXT", "NORMALIZATIONS", "TOKENIZER_CONFIG", "BertWordPieceTokenizer",
    "CharacterTokenizer", "byte_pair_tokenizer", "character_tokenizer", "character_vocabulary",
    "describe_tokenizer", "load_tokenizer", "read_merges", "read_vocabulary_dict", "read_vocabulary_list",
    "save_tokenizer", "sentencepiece_tokenizer", "tokenizer_kind", "train_byte_pair", "train_sentencepiece",
    "train_wordpiece", "wordpiece_tokenizer",
]
