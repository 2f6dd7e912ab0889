"""OpenVINO over the zoo's ONNX artifacts (no OpenVINO-specific export format).

``session`` opens an exported ``model.onnx`` with OpenVINO's CPU plugin behind
the small part of ``onnxruntime.InferenceSession``'s API the zoo uses
(``get_inputs``, ``get_outputs``, ``run``), so the greedy loops of
``export.onnx.generate`` and the ``zoo bench`` runtimes drive either runtime
with the same code.

Importing this package imports nothing heavy; ``openvino`` is imported when a
session is opened (the optional ``openvino`` extra: ``pip install -e '.[openvino]'``).
"""
