"""The ``huggingface`` export format: a transformers checkpoint folder, validated like any artifact.

``out_dir/huggingface/<name>/`` holds ``config.json`` + ``model.safetensors``
(+ the tokenizer files when the model has a tokenizer), written by
``zoo.to_huggingface`` (BERT and its heads, GPT-2). Validation reads the
folder back with zoo's Hugging Face importer (what ``zoo import`` uses, no
torch needed) and runs it on the validation batches next to the Keras model;
the tests compare such folders with ``transformers`` on torch.
"""

import json
import os
import time

from export import validate
from export.errors import ExportError
from export.model_info import describe


def check(info):
    """Refuse, before any conversion work, a model this format cannot hold (names what it can)."""
    from zoo.checkpoints import CheckpointError
    from zoo.checkpoints.hf_export import model_kind

    try:
        model_kind(info.model)
    except CheckpointError as error:
        raise ExportError(f"format 'huggingface': {error}") from None


def runner(path):
    """``run(inputs) -> {output: numpy}`` over the zoo model read back from the folder."""
    from zoo.checkpoints import import_model

    info = describe(import_model(path))
    return lambda inputs: validate.keras_outputs(info, inputs)


def write(run):
    """Write ``run``'s model (an ``export.pipeline._Run``) as a checkpoint folder and validate it."""
    from zoo.checkpoints import to_huggingface

    start = time.perf_counter()
    path = os.path.join(run.root, "huggingface", run.info.name)
    to_huggingface(run.info.model, path, tokenizer=run.info.tokenizer)
    seconds = time.perf_counter() - start
    result = validate.run_checked(runner, path, run.references, run.batches, run.atol)
    with open(os.path.join(path, "config.json"), encoding="utf-8") as file:
        architectures = json.load(file)["architectures"]
    run.add("huggingface", "huggingface", path, {"architectures": architectures}, result, seconds)
