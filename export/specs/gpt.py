"""GPT: causal transformer LM with a key/value-cache decoder and fused attention (ORT ``gpt2``)."""

from export.specs import language_model, tensors
from export.specs.base import Decoder, ExportSpec, Fusion
from export.specs.registry import register

_DECODER_CONTRACT = "export.onnx.contract:gpt_decoder"

SPEC = register(ExportSpec(
    family="gpt",
    model_class="zoo.models.gpt:Gpt",
    inputs=tensors.TOKENS,
    outputs={"logits": language_model.NEXT_TOKEN_LOGITS},
    decoder=Decoder(build="export.onnx.decoders:gpt_parts",
                    contracts={"onnx_decoder": _DECODER_CONTRACT, "onnx_decoder_optimized": _DECODER_CONTRACT}),
    fusion=Fusion(model_type="gpt2", causal=True, fuse_decoder=True),
    text_signatures=language_model.GENERATE,
    text_corpus=language_model.SHAKESPEARE,
    task_metric=language_model.PERPLEXITY,
))
