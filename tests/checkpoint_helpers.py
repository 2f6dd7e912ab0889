"""Helpers for the checkpoint-import tests: tiny Hugging Face folders written on the spot.

Nothing is downloaded: models get random weights from ``transformers``
(``save_pretrained(..., safe_serialization=True)``) and tokenizer files are
written here by hand.
"""

import json
import os

import numpy as np


def byte_to_unicode():
    """GPT-2's byte -> printable character table (byte-level BPE works on these).

    Printable Latin-1 bytes stand for themselves; the remaining bytes are
    shifted to code points 256, 257, ... in byte order.
    """
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# A few merges so that common English pieces become single tokens.
MERGES = ["Ġ t", "h e", "Ġt he", "Ġ a", "i n", "Ġ s", "e r", "o u", "Ġ w", "r e", "o n", "a n",
          "Ġ o", "Ġ b", "e n", "Ġ c", "i s", "Ġ m", "Ġ f", "Ġ h", "l l", "o r", "Ġ d"]


def write_gpt2_tokenizer(folder):
    """vocab.json (256 byte symbols + merges + <|endoftext|>) and merges.txt; returns the vocabulary size."""
    symbols = [byte_to_unicode()[b] for b in range(256)]
    for merge in MERGES:
        merged = merge.replace(" ", "")
        if merged not in symbols:
            symbols.append(merged)
    symbols.append("<|endoftext|>")
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({s: i for i, s in enumerate(symbols)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(MERGES) + "\n")
    return len(symbols)


def write_tiny_gpt2(folder, seed=0, **config):
    """A random 2-layer GPT2LMHeadModel (+ tokenizer files) saved to ``folder``; returns the torch model."""
    import torch
    import transformers

    os.makedirs(folder, exist_ok=True)
    vocabulary_size = write_gpt2_tokenizer(folder)
    torch.manual_seed(seed)
    settings = dict(vocab_size=vocabulary_size, n_embd=64, n_layer=2, n_head=4, n_positions=64,
                    bos_token_id=vocabulary_size - 1, eos_token_id=vocabulary_size - 1)
    settings.update(config)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**settings)).eval()
    _spread(model)
    model.save_pretrained(folder, safe_serialization=True)
    return model


def write_tiny_bert(folder, architecture="BertForMaskedLM", seed=0, vocabulary=None, **config):
    """A random small BERT of ``architecture`` saved to ``folder`` (+ vocab.txt); returns the torch model."""
    import torch
    import transformers

    os.makedirs(folder, exist_ok=True)
    vocabulary = vocabulary or (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                                + list("abcdefghijklmnopqrstuvwxyz") + ["the", "##s", "cat", "sat", "on", "mat", "."])
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary) + "\n")
    torch.manual_seed(seed)
    settings = dict(vocab_size=len(vocabulary), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=64, max_position_embeddings=32, type_vocab_size=2)
    settings.update(config)
    model = getattr(transformers, architecture)(transformers.BertConfig(**settings)).eval()
    _spread(model)
    model.save_pretrained(folder, safe_serialization=True)
    return model


def _spread(model, scale=0.1):
    """Add noise to every parameter: the default init (std 0.02, LayerNorm 1/0) gives
    near-uniform logits, which would make a parity test too easy to pass."""
    import torch

    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * scale)


def max_abs_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
