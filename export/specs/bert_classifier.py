"""BERT sequence classifier: class scores per sequence, ``predict_text``, rt-polarity accuracy."""

from export.specs import tensors
from export.specs.base import ExportSpec
from export.specs.registry import register
from export.specs.bert import FUSION

SPEC = register(ExportSpec(
    family="bert_classifier",
    model_class="zoo.models.bert:BertClassifier",
    inputs=tensors.BERT_TOKENS,
    outputs={"logits": tensors.TensorAxes(("batch", "classes"), "Unnormalized class scores of each sequence.")},
    fusion=FUSION,
    text_signatures="export.savedmodel.text_signatures:classifier_signatures",
    task_metric="export.task_metrics:classifier_accuracy",
))
