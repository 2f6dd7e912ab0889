"""The config fields BERT and GPT share, and their validation."""

import dataclasses

from zoo.layers.feed_forward import ACTIVATIONS
from zoo.models.base import check_choice, check_dropout, check_heads, check_positive


@dataclasses.dataclass
class TransformerConfig:
    """Sizes and options of a transformer stack; families set their own defaults."""

    vocabulary_size: int
    num_layers: int
    num_heads: int
    hidden_dim: int
    intermediate_dim: int
    max_sequence_length: int
    dropout: float = 0.1
    activation: str = "gelu"
    layer_norm_epsilon: float = 1e-5
    use_xla_attention: bool = True

    def validate(self):
        check_positive(
            self,
            "vocabulary_size",
            "num_layers",
            "num_heads",
            "hidden_dim",
            "intermediate_dim",
            "max_sequence_length",
        )
        check_heads(self)
        check_dropout(self)
        check_choice(self, "activation", ACTIVATIONS)
