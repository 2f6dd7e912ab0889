"""BERT backbone: per-token and pooled states, ``embed_text``; fused as ORT ``bert``.

The task heads on it (classifier, token classifier, masked LM) have their own
specs and share :data:`FUSION`.
"""

from export.specs import tensors
from export.specs.base import ExportSpec, Fusion
from export.specs.registry import register

FUSION = Fusion(model_type="bert")

SPEC = register(ExportSpec(
    family="bert",
    model_class="zoo.models.bert:Bert",
    inputs=tensors.BERT_TOKENS,
    outputs={
        "sequence_output": tensors.TensorAxes(("batch", "sequence", "hidden"), "The last encoder layer's state of every token."),
        "pooled_output": tensors.TensorAxes(("batch", "hidden"), "tanh(Dense) of the first ([CLS]) token's final state."),
    },
    fusion=FUSION,
    text_signatures="export.savedmodel.text_signatures:embedding_signatures",
))
