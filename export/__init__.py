"""zoo's export tooling: SavedModel and ONNX artifacts validated against Keras.

So far: ``export.onnx.to_onnx`` (tf2onnx conversion of a zoo model traced
on the export-friendly attention path).
"""
