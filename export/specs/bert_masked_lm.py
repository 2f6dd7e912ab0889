"""BERT masked LM: vocabulary scores at the masked positions."""

from export.specs import tensors
from export.specs.base import ExportSpec
from export.specs.registry import register
from export.specs.bert import FUSION

SPEC = register(ExportSpec(
    family="bert_masked_lm",
    model_class="zoo.models.bert:BertMaskedLM",
    inputs={**tensors.BERT_TOKENS, "mask_positions": tensors.MASK_POSITIONS},
    outputs={"logits": tensors.TensorAxes(("batch", "masked_positions", "vocabulary"),
                                  "Vocabulary scores for the original token at each of mask_positions.")},
    fusion=FUSION,
))
