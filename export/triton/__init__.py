"""Triton model-repository entries for the ONNX artifacts.

``repository`` writes ``<entry>/config.pbtxt`` and ``<entry>/1/model.onnx``;
``config_check`` checks configs against Triton's schema and the graph.
"""
