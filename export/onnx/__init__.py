"""ONNX artifacts: conversion, decoders with past state, their contract, and graph optimization.

``tf_function`` (one traced function through tf2onnx, weights bound after),
``conversion`` (a model's forward pass, written with external data when
large), ``lstm`` (ONNX ``LSTM`` kernels for the zoo's LSTM stacks),
``decoders`` (past-state decoder parts), ``generate`` (onnxruntime greedy
loop over them; numpy + onnxruntime only), ``contract`` (every input and
output declared), ``session`` (ONNX Runtime sessions), ``fusion`` and
``optimize`` (fused attention, int8, float16), ``constant_folding``.

Importing this package imports nothing heavy: each module imports what it needs.
"""
