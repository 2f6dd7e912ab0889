"""zoo's shared layer library: every model family is built from these parts.

| part | file |
|---|---|
| attention core (XLA path + export path) | ``attention_core.py`` |
| attention masks (padding, causal, cache offset) | ``masks.py`` |
| token / position / segment embeddings, tied LM head | ``embeddings.py`` |
| multi-head attention with a fixed-size KV cache | ``multi_head_attention.py`` |
| feed-forward (GELU exact / tanh, ReLU) | ``feed_forward.py`` |
| layer normalization lowered to XLA without ``Rsqrt`` | ``layer_norm.py`` |
| post-LN encoder block (BERT) | ``transformer_encoder.py`` |
| pre-LN decoder block (GPT), optional cross-attention | ``transformer_decoder.py`` |
| a stack of identical layers traced once (decode loops) | ``layer_stack.py`` |
| stacked (bi)LSTM with a single-step call | ``lstm_stack.py`` |
| Luong / Bahdanau attention over encoder outputs | ``source_attention.py`` |
| masked-LM head tied to the token embedding (BERT) | ``masked_lm_head.py`` |
"""

from zoo.layers.attention_core import dot_product_attention, export_mode, in_export_mode, masked_softmax
from zoo.layers.embeddings import (
    PositionEmbedding,
    TokenAndPositionEmbedding,
    TokenEmbedding,
    sinusoidal_table,
)
from zoo.layers.feed_forward import FeedForward
from zoo.layers.layer_norm import LayerNorm
from zoo.layers.layer_stack import call_stack
from zoo.layers.lstm_stack import LstmStack
from zoo.layers.masked_lm_head import MaskedLMHead
from zoo.layers.masks import attention_mask
from zoo.layers.multi_head_attention import MultiHeadAttention
from zoo.layers.source_attention import SourceAttention
from zoo.layers.transformer_decoder import TransformerDecoderBlock
from zoo.layers.transformer_encoder import TransformerEncoderBlock
