"""The export spec: everything export needs to know about one model family, as data.

A spec says which forward inputs and outputs the family's ONNX graph has
(named axes and meaning), which past-state decoder parts it can export, how
its attention is fused, which text signatures its SavedModel offers, which
corpus its validation text comes from, which task metric prices int8, and
the default tolerance. The rest of ``export`` asks the spec and never tests
a family name.

The model class and the behaviour a spec points to (decoder builders, text
signatures, metrics) are named ``"module:attribute"`` and loaded by
:func:`resolve` when used, so reading a spec imports neither TensorFlow nor
the zoo (``export.specs.registry`` does the lookup).
"""

import dataclasses
import importlib


@dataclasses.dataclass(frozen=True)
class Fusion:
    """How ONNX Runtime's transformer optimizer sees the family's graphs.

    ``model_type`` is ORT's name (``bert``, ``gpt2``); ``causal`` masks future
    tokens; heads and hidden size are read from the model config under
    ``num_heads_key`` / ``hidden_key``; ``fuse_decoder`` also fuses the
    past-state decoder.
    """

    model_type: str
    causal: bool = False
    num_heads_key: str = "num_heads"
    hidden_key: str = "hidden_dim"
    fuse_decoder: bool = False


@dataclasses.dataclass(frozen=True)
class Decoder:
    """The past-state decoder parts: ``build`` (info, opset, atol) -> (models, check),
    and the contract builder (config, dtype) -> Contract of each artifact kind it writes."""

    build: str
    contracts: dict


@dataclasses.dataclass(frozen=True)
class ExportSpec:
    """How one family is exported.

    ``family``: the manifest's ``"family"`` value. ``model_class``: the
    ``"module:Class"`` the spec is registered for. ``inputs`` / ``outputs``:
    {forward tensor name: TensorAxes}. ``decoder``: its past-state parts, if
    any; ``encoder_decoder``: generation starts from a source sequence and a
    start token. ``fusion``: ONNX Runtime fusion, if any applies.
    ``text_signatures``: ``"module:function"`` (info, generate_xla) -> {name:
    traced function}. ``text_corpus``: ``zoo.corpora`` path parts of the
    validation sentences. ``task_metric``: ``"module:function"`` (info, onnx
    path) -> record pricing int8 on the task. ``atol``: the default tolerance.
    """

    family: str
    model_class: str | None = None
    inputs: dict = dataclasses.field(default_factory=dict)
    outputs: dict = dataclasses.field(default_factory=dict)
    decoder: Decoder | None = None
    encoder_decoder: bool = False
    fusion: Fusion | None = None
    text_signatures: str | None = None
    text_corpus: tuple = ("rt-polarity.pos",)
    task_metric: str | None = None
    atol: float = 1e-4

    @property
    def fuses_decoder(self):
        """True when the past-state decoder is fused as well as the forward graph."""
        return self.fusion is not None and self.fusion.fuse_decoder

    def input(self, name):
        """The declared :class:`~export.specs.tensors.TensorAxes` of forward input ``name``, or None."""
        return self.inputs.get(name)

    def output(self, name):
        """The declared :class:`~export.specs.tensors.TensorAxes` of forward output ``name``, or None."""
        return self.outputs.get(name)

    def decoder_contract(self, artifact_kind):
        """The contract builder of a decoder artifact kind (``onnx_decoder``, ``onnx_encoder``...), or None."""
        if self.decoder is None or artifact_kind not in self.decoder.contracts:
            return None
        return resolve(self.decoder.contracts[artifact_kind])


def resolve(path):
    """The object named ``"package.module:attribute"``."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)
