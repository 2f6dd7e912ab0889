"""What export needs to know about a model: its Keras object, tokenizer,
export spec (``export.specs``: the family and everything that depends on it),
input names and output names.

Accepts a zoo Keras model, a ``TextModel`` (``zoo.load(folder)`` with a
tokenizer) or any built functional Keras model with named integer inputs.
Refuses, with what to do, a model that was never built.
"""

import dataclasses

import keras

from export.errors import ExportError
from export.specs import GENERIC, ExportSpec, spec_for


@dataclasses.dataclass
class ModelInfo:
    model: keras.Model
    tokenizer: object = None
    target_tokenizer: object = None
    generation: dict = dataclasses.field(default_factory=dict)
    spec: ExportSpec = GENERIC
    name: str = "model"
    input_names: list = dataclasses.field(default_factory=list)
    output_names: list = dataclasses.field(default_factory=list)

    @property
    def family(self):
        """The model family as the manifest writes it (``gpt``, ``bert_classifier``, ... or ``keras``)."""
        return self.spec.family

    @property
    def config(self):
        config = getattr(self.model, "config", None)
        if dataclasses.is_dataclass(config):
            return dataclasses.asdict(config)
        return {}


def _safe_name(name):
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))
    return cleaned.strip("_") or "model"


def output_names(model):
    """Names of the model's outputs: dict keys, or ``logits`` for a single tensor."""
    outputs = model.output
    if isinstance(outputs, dict):
        return sorted(outputs)
    if isinstance(outputs, (list, tuple)):
        return [f"output_{i}" for i in range(len(outputs))]
    return ["logits"]


def describe(model, name=None):
    """A :class:`ModelInfo` for ``model`` (Keras model or TextModel)."""
    tokenizer = target_tokenizer = None
    generation = {}
    if hasattr(model, "tokenizer") and hasattr(model, "model"):  # zoo TextModel
        tokenizer, target_tokenizer = model.tokenizer, model.target_tokenizer
        generation = dict(getattr(model, "generation", {}) or {})
        model = model.model
    if not isinstance(model, keras.Model):
        raise ExportError(
            f"Cannot export a {type(model).__name__}: pass a zoo/Keras model "
            "(zoo.build(...), zoo.load(...)) or a TextModel from zoo.load(folder)."
        )
    try:
        inputs = model.input
    except (AttributeError, ValueError):
        inputs = None
    if not model.built or inputs is None:
        raise ExportError(
            f"Model {model.name!r} was never built, so its inputs are unknown. "
            "Call it once on example inputs (or build it with keras.Input) before exporting."
        )
    if isinstance(inputs, dict):
        input_names = list(inputs)
    else:
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        input_names = [t.name for t in inputs]
    return ModelInfo(
        model=model,
        tokenizer=tokenizer,
        target_tokenizer=target_tokenizer,
        generation=generation,
        spec=spec_for(model),
        name=_safe_name(name or model.name),
        input_names=input_names,
        output_names=output_names(model),
    )
