"""zoo: LSTM LMs, LSTM seq2seq, BERT and GPT on one shared Keras 3 layer library.

    import zoo
    model = zoo.build("gpt2")                  # any preset, any override
    model.save("gpt2.keras"); keras.saving.load_model("gpt2.keras")

Importing zoo registers every layer and model with Keras serialization, so
``keras.saving.load_model`` needs no ``custom_objects``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from zoo import startup  # noqa: E402

startup.check_environment()  # before TensorFlow: an unsupported CPU would kill the process on import
with startup.quiet_native_logs():
    import tensorflow as _tf

    _tf.config.list_physical_devices("GPU")  # CUDA's probe logs now, inside the filter
    from zoo import layers, models, tokenizers  # noqa: E402  (registers classes with Keras)
del _tf
from zoo.api import build, list_models, load  # noqa: E402
from zoo.checkpoints import from_huggingface, from_keras_hub, to_huggingface, to_keras_hub  # noqa: E402
from zoo.generation import generate  # noqa: E402
from zoo.model_folder import TextModel, save_model_folder  # noqa: E402
from zoo.token_ids import check_token_ids  # noqa: E402
from zoo.models import (  # noqa: E402
    Bert,
    BertClassifier,
    BertMaskedLM,
    BertTokenClassifier,
    Gpt,
    LstmLM,
    Seq2Seq,
)
from zoo.presets import PRESETS  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Bert",
    "BertClassifier",
    "BertMaskedLM",
    "BertTokenClassifier",
    "Gpt",
    "LstmLM",
    "PRESETS",
    "Seq2Seq",
    "TextModel",
    "build",
    "check_token_ids",
    "from_huggingface",
    "from_keras_hub",
    "generate",
    "layers",
    "list_models",
    "load",
    "models",
    "save_model_folder",
    "to_huggingface",
    "to_keras_hub",
    "tokenizers",
]
