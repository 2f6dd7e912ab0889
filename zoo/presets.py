"""Named configurations.

Published sizes (BERT: Turc et al. 2019 "Well-Read Students Learn Better"
for tiny..medium, Devlin et al. 2019 for base/large; GPT-2: Radford et al.
2019) and small ones trained in this project. Each preset is a family plus
config fields; ``zoo.build(name, **overrides)`` changes any field.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Preset:
    family: str
    config: dict
    description: str


def _bert(layers, hidden, description):
    return Preset(
        "bert",
        dict(num_layers=layers, hidden_dim=hidden, num_heads=hidden // 64,
             intermediate_dim=4 * hidden, vocabulary_size=30522, max_sequence_length=512),
        description,
    )


def _gpt2(layers, hidden, heads, description):
    return Preset(
        "gpt",
        dict(num_layers=layers, hidden_dim=hidden, num_heads=heads, intermediate_dim=4 * hidden,
             vocabulary_size=50257, max_sequence_length=1024),
        description,
    )


PRESETS = {
    "bert-tiny": _bert(2, 128, "BERT L2/H128 (Turc et al.)"),
    "bert-mini": _bert(4, 256, "BERT L4/H256 (Turc et al.)"),
    "bert-small": _bert(4, 512, "BERT L4/H512 (Turc et al.)"),
    "bert-medium": _bert(8, 512, "BERT L8/H512 (Turc et al.)"),
    "bert-base": _bert(12, 768, "BERT-base L12/H768, 110M"),
    "bert-large": _bert(24, 1024, "BERT-large L24/H1024, 335M"),
    "gpt2": _gpt2(12, 768, 12, "GPT-2 small, 124M"),
    "gpt2-medium": _gpt2(24, 1024, 16, "GPT-2 medium, 355M"),
    "gpt2-large": _gpt2(36, 1280, 20, "GPT-2 large, 774M"),
    "gpt2-xl": _gpt2(48, 1600, 25, "GPT-2 XL, 1.5B"),
    "gpt-nano": Preset(
        "gpt",
        dict(num_layers=4, hidden_dim=128, num_heads=4, intermediate_dim=512,
             vocabulary_size=65, max_sequence_length=64, dropout=0.0),
        "character-level GPT at nanoGPT's CPU settings (4 layers, 128 dims, block 64)",
    ),
    "gpt-mini": Preset(
        "gpt",
        dict(num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024,
             vocabulary_size=65, max_sequence_length=128, dropout=0.1),
        "character-level GPT, 4 layers, 256 dims, block 128",
    ),
    "lstm-lm-char": Preset(
        "lstm_lm",
        dict(vocabulary_size=65, num_layers=2, hidden_dim=512, dropout=0.2),
        "character-level 2x512 LSTM LM (char-rnn sized)",
    ),
    "lstm-lm-small": Preset(
        "lstm_lm",
        dict(vocabulary_size=10000, num_layers=2, hidden_dim=650, dropout=0.5),
        "word-level 2x650 LSTM LM (Zaremba et al. 'medium')",
    ),
    "seq2seq-lstm-small": Preset(
        "seq2seq",
        dict(source_vocabulary_size=8000, target_vocabulary_size=8000, num_layers=2,
             hidden_dim=256, attention="general", dropout=0.2),
        "2-layer LSTM encoder-decoder, 256 units, Luong general attention",
    ),
    "seq2seq-lstm-base": Preset(
        "seq2seq",
        dict(source_vocabulary_size=16000, target_vocabulary_size=16000, num_layers=2,
             hidden_dim=512, attention="general", dropout=0.3),
        "2-layer LSTM encoder-decoder, 512 units, Luong general attention",
    ),
}


def get_preset(name):
    """The preset called ``name``, or a ValueError listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}. Valid names: {', '.join(sorted(PRESETS))}."
        ) from None
