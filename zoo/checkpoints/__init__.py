"""Interop: Hugging Face and keras-hub BERT / GPT-2 in and out of the zoo (offline, no code executed).

| concept | file |
|---|---|
| reading a folder safely: config.json, safetensors, weights-only .bin | ``hf_folder.py`` |
| HF config fields <-> zoo config fields, activations | ``hf_config.py`` |
| tensors by name, shape-checked before anything is assigned | ``tensor_source.py`` |
| BERT weight mapping (backbone, MLM, classifiers) | ``bert.py`` |
| GPT-2 weight mapping (fused qkv split, tied LM head) | ``gpt2.py`` |
| HF tokenizer files <-> zoo tokenizers | ``tokenizer_files.py`` |
| the public ``from_huggingface`` | ``huggingface.py`` |
| running an import mapping backwards (export without a second table) | ``export_source.py`` |
| the public ``to_huggingface``: config.json + model.safetensors + tokenizer files | ``hf_export.py`` |
| keras-hub variable paths <-> zoo weights, keras-hub's fixed settings | ``keras_hub_mapping.py`` |
| keras-hub tokenizers <-> zoo tokenizers | ``keras_hub_tokenizers.py`` |
| reading a local keras-hub preset folder safely | ``keras_hub_preset.py`` |
| the public ``from_keras_hub`` | ``keras_hub_import.py`` |
| the public ``to_keras_hub`` | ``keras_hub_export.py`` |
"""

from zoo.checkpoints.hf_export import to_huggingface
from zoo.checkpoints.hf_folder import CheckpointError
from zoo.checkpoints.huggingface import ARCHITECTURES, from_huggingface, import_model, import_tokenizer
from zoo.checkpoints.keras_hub_export import to_keras_hub
from zoo.checkpoints.keras_hub_import import from_keras_hub
from zoo.checkpoints.tokenizer_files import TokenizerFilesMissing

__all__ = [
    "CheckpointError",
    "ARCHITECTURES",
    "TokenizerFilesMissing",
    "from_huggingface",
    "from_keras_hub",
    "import_model",
    "import_tokenizer",
    "to_huggingface",
    "to_keras_hub",
]
