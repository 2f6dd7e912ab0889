"""BERT token classifier: class scores per token; no text signature or task metric."""

from export.specs import tensors
from export.specs.base import ExportSpec
from export.specs.registry import register
from export.specs.bert import FUSION

SPEC = register(ExportSpec(
    family="bert_token_classifier",
    model_class="zoo.models.bert:BertTokenClassifier",
    inputs=tensors.BERT_TOKENS,
    outputs={"logits": tensors.TensorAxes(("batch", "sequence", "classes"), "Unnormalized class scores of each token.")},
    fusion=FUSION,
))
