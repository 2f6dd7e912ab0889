"""Import parts of ``zoo`` and ``export`` without their package ``__init__`` (which import TensorFlow).

An ONNX Runtime or torch case runs in its own process so that its peak
memory is its own; importing ``zoo`` the usual way would load TensorFlow
(~650 MB, ~4 s) into every such process and distort both numbers. The
worker therefore registers the two packages as plain namespaces before
importing the few pure-Python modules it needs (``zoo.bench.*``,
``export.onnx_generate``). Cases that use TensorFlow import ``zoo`` normally.
"""

import importlib
import importlib.util
import os
import sys
import types

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def register_namespace(name):
    """Make ``import name.sub`` work without running ``name/__init__.py``. No-op if already imported."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        path = [os.path.join(REPO_ROOT, name)]
    else:
        path = list(spec.submodule_search_locations)
    module = types.ModuleType(name)
    module.__path__ = path
    module.__file__ = None
    sys.modules[name] = module
    return module


def onnx_generate():
    """``export.onnx_generate`` (numpy + onnxruntime only), without importing ``export``'s TensorFlow parts."""
    register_namespace("export")
    return importlib.import_module("export.onnx.generate")
