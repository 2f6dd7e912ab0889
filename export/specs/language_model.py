"""What the next-token language models (GPT, LSTM LM) share: the logits output,
the Tiny Shakespeare validation text and the held-out perplexity metric."""

from export.specs.tensors import TensorAxes

NEXT_TOKEN_LOGITS = TensorAxes(("batch", "sequence", "vocabulary"),
                               "Next-token scores: logits[:, t] scores the token after token_ids[:, t].")
SHAKESPEARE = ("tinyshakespeare.txt",)
PERPLEXITY = "export.task_metrics:lm_perplexity"
GENERATE = "export.savedmodel.text_signatures:generate_signatures"
