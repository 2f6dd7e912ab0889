"""Import Hugging Face BERT and GPT-2 checkpoint folders (offline, no code executed).

| concept | file |
|---|---|
| reading a folder safely: config.json, safetensors, weights-only .bin | ``hf_folder.py`` |
| HF config fields -> zoo config fields, activations | ``hf_config.py`` |
| tensors by name, shape-checked before anything is assigned | ``tensor_source.py`` |
| BERT weight mapping (backbone, MLM, classifiers) | ``bert.py`` |
| GPT-2 weight mapping (fused qkv split, tied LM head) | ``gpt2.py`` |
| tokenizer files -> zoo tokenizers | ``tokenizer_files.py`` |
| the public ``from_huggingface`` | ``huggingface.py`` |
"""

from zoo.checkpoints.hf_folder import CheckpointError
from zoo.checkpoints.huggingface import FAMILIES, from_huggingface, import_model, import_tokenizer
from zoo.checkpoints.tokenizer_files import TokenizerFilesMissing

__all__ = [
    "CheckpointError",
    "FAMILIES",
    "TokenizerFilesMissing",
    "from_huggingface",
    "import_model",
    "import_tokenizer",
]
