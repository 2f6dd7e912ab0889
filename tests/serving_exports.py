"""Exports shared by the serving tests (declared contract, Triton configs,
onnxruntime-only clients): each family is exported once per test session,
into a temporary folder removed at exit.

* ``gpt``: every ONNX artifact the family has - forward model, past-state
  decoder, the fused (``optimize``), int8 and float16 variants;
* ``seq2seq``: forward model, encoder and decoder.
"""

import atexit
import functools
import os
import shutil
import tempfile

from harness import tiny_model
from export import export

OPTIONS = {"gpt": {"optimize": True, "quantize": "int8", "fp16": True}, "seq2seq": {}}
OVERRIDES = {"gpt": {"max_sequence_length": 32}, "seq2seq": {}}


@functools.cache
def exported(family):
    """-> (Keras model, export report, export folder) for a tiny model of ``family``."""
    scratch = tempfile.mkdtemp(prefix=f"zoo-serving-{family}-")
    atexit.register(shutil.rmtree, scratch, True)
    model = tiny_model(family, name=f"tiny_{family}", **OVERRIDES[family])
    folder = os.path.join(scratch, "export")
    report = export(model, folder, formats=["onnx"], **OPTIONS[family])
    return model, report, folder
