"""Write an ONNX model as one file without serializing it whole in memory.

``onnx.save_model`` calls ``SerializeToString`` on the whole model: the
protobuf library grows its buffer by doubling and then copies it into a
``bytes`` object, so writing a model of N bytes briefly needs about 3-4 x N
more (gpt2, 650 MB: +2.5 GB, the peak of the whole export). This writes the
same bytes piece by piece: the model without its graph, the graph without its
initializers, then one initializer at a time, each as the length-delimited
field it is in the protobuf wire format. Protobuf parsers accept fields in
any order and merge a repeated field's occurrences, so ONNX Runtime and
``onnx.load`` parse the file into the same model ``onnx.save_model``'s file
gives (tested).
"""

import onnx

_LENGTH_DELIMITED = 2


def _varint(value):
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field_header(message_type, field_name, size):
    number = message_type.DESCRIPTOR.fields_by_name[field_name].number
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(size)


def _without(message, field_name):
    """A shallow copy of ``message`` minus ``field_name`` (copies only the other fields)."""
    copy = type(message)()
    for field, value in message.ListFields():
        if field.name == field_name:
            continue
        if hasattr(value, "MergeFrom"):  # a message or a repeated field
            getattr(copy, field.name).MergeFrom(value)
        else:
            setattr(copy, field.name, value)
    return copy


def write_model(onnx_model, path):
    """Write ``onnx_model`` (weights inside, under 2 GiB) to ``path`` as ``onnx.save_model`` would."""
    head = _without(onnx_model, "graph").SerializeToString()
    graph = onnx_model.graph
    graph_head = _without(graph, "initializer").SerializeToString()
    sizes = [tensor.ByteSize() for tensor in graph.initializer]
    graph_size = len(graph_head) + sum(
        len(_field_header(onnx.GraphProto, "initializer", size)) + size for size in sizes)
    with open(path, "wb") as file:
        file.write(head)
        file.write(_field_header(onnx.ModelProto, "graph", graph_size))
        file.write(graph_head)
        for tensor, size in zip(graph.initializer, sizes):
            file.write(_field_header(onnx.GraphProto, "initializer", size))
            file.write(tensor.SerializeToString())
    return path
