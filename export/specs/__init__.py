"""One export spec per model family (``export.specs.base``), registered by model class.

    spec_for(model).family          # "gpt" for a Gpt or any subclass of it

Importing this package registers every family; ``spec_for(model)`` picks a
model's spec by walking its class's MRO. Adding a family is one new file here
plus its import below.
"""

from export.specs import bert, bert_classifier, bert_masked_lm, bert_token_classifier, gpt, lstm_lm, seq2seq  # noqa: F401
from export.specs.base import ExportSpec
from export.specs.generic import GENERIC
from export.specs.registry import registered, spec_for

__all__ = ["GENERIC", "ExportSpec", "registered", "spec_for"]
