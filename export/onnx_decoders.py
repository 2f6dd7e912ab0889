"""ONNX decoders with past state (GPT, seq2seq): not written yet."""


def supports(info):
    return False
