"""zoo: LSTM LMs, LSTM seq2seq, BERT and GPT on one shared Keras 3 layer library.

    import zoo
    model = zoo.build("gpt2")                  # any preset, any override
    model.save("gpt2.keras"); zoo.load("gpt2.keras")

``import zoo`` is light: it checks that this Python and CPU can run
TensorFlow and imports nothing heavy. The public names below are imported
on first use (PEP 562), so ``import zoo.cpu`` or the benchmark engine's
ONNX Runtime processes never load TensorFlow. The first model-facing name
(``zoo.build``, ``zoo.load``, ``zoo.Gpt``, ...) imports ``zoo.models``, which
registers every layer and model with Keras serialization; from then on
``keras.saving.load_model`` needs no ``custom_objects`` (``import zoo.models``
does the same explicitly).
"""

import importlib
import importlib.util
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from zoo import startup  # noqa: E402

startup.check_environment()  # before TensorFlow: an unsupported CPU would kill the process on import

__version__ = "0.1.0"

_HOMES = {  # public name -> the module that defines it
    **dict.fromkeys(("build", "list_models", "load"), "zoo.api"),
    **dict.fromkeys(("from_huggingface", "from_keras_hub", "to_huggingface", "to_keras_hub"), "zoo.checkpoints"),
    "generate": "zoo.generation",
    **dict.fromkeys(("TextModel", "save_model_folder"), "zoo.model_folder"),
    "check_token_ids": "zoo.token_ids",
    **dict.fromkeys(("Bert", "BertClassifier", "BertMaskedLM", "BertTokenClassifier", "Gpt", "LstmLM", "Seq2Seq"),
                    "zoo.models"),
    "PRESETS": "zoo.presets",
}
_SUBPACKAGES = ("layers", "models", "tokenizers")
_LIGHT = {"zoo.presets", "zoo.cpu", "zoo.compile_cache", "zoo.startup", "zoo.disk", "zoo.overrides", "zoo.bench"}  # no TensorFlow

__all__ = sorted((*_HOMES, *_SUBPACKAGES))


def _is_submodule(name):
    return not name.startswith("_") and importlib.util.find_spec(f"zoo.{name}") is not None


def __getattr__(name):
    if name in _HOMES:
        home, is_module = _HOMES[name], False
    elif name in _SUBPACKAGES or _is_submodule(name):  # zoo.presets, zoo.training, ... as before
        home, is_module = f"zoo.{name}", True
    else:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    if home not in _LIGHT:
        startup.import_tensorflow()
        importlib.import_module("zoo.models")  # registers the Keras classes before any model is loaded
    module = importlib.import_module(home)
    value = module if is_module else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
