"""LSTM LM: recurrent next-token model; no decoder parts and nothing to fuse."""

from export.specs import language_model, tensors
from export.specs.base import ExportSpec
from export.specs.registry import register

SPEC = register(ExportSpec(
    family="lstm_lm",
    model_class="zoo.models.lstm_lm:LstmLM",
    inputs=tensors.TOKENS,
    outputs={"logits": language_model.NEXT_TOKEN_LOGITS},
    text_signatures=language_model.GENERATE,
    text_corpus=language_model.SHAKESPEARE,
    task_metric=language_model.PERPLEXITY,
))
