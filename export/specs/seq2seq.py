"""Seq2seq: LSTM encoder-decoder translating Multi30k German; encoder and past-state decoder parts."""

from export.specs import tensors
from export.specs.base import Decoder, ExportSpec
from export.specs.registry import register

SPEC = register(ExportSpec(
    family="seq2seq",
    model_class="zoo.models.seq2seq:Seq2Seq",
    inputs=tensors.SOURCE_AND_TARGET,
    outputs={"logits": tensors.TensorAxes(("batch", "target_sequence", "target_vocabulary"),
                                  "logits[:, t] scores the target token after target_ids[:, t], given the source.")},
    decoder=Decoder(build="export.onnx.decoders:seq2seq_parts",
                    contracts={"onnx_decoder": "export.onnx.contract:seq2seq_decoder",
                               "onnx_encoder": "export.onnx.contract:seq2seq_encoder"}),
    encoder_decoder=True,
    text_signatures="export.savedmodel.text_signatures:generate_signatures",
    text_corpus=("multi30k", "test.de"),
))
