"""Check a Triton model-repository entry against Triton's schema and its ONNX graph.

    problems = check_entry("artifacts/gpt2/onnx/gpt2_decoder")      # [] = servable as declared
    problems = check_repository("artifacts/gpt2/onnx")               # every entry
    python -m export.triton.config_check artifacts/gpt2/onnx                # the same, exit status 1 on problems

``config.pbtxt`` is parsed strictly into Triton's own ``ModelConfig``
protobuf (``tritonclient.grpc.model_config_pb2``): an unknown field, a
misspelt data type or a syntax error is a problem. Without ``tritonclient``
installed (it is a test extra, not an export dependency) a small reader of
the protobuf text format takes its place; it reads the same fields but does
not reject unknown ones.

Then the config must agree with each version's ``model.onnx``: platform
``onnxruntime_onnx``, the entry's folder name, the graph's input names
exactly (output names a subset), data types, dims and ranks (-1 where the
graph's axis is dynamic; with ``max_batch_size > 0`` the first axis of every
graph input and output must be dynamic and is left out), and a scalar
declared as ``dims: [ 1 ]`` with ``reshape: { shape: [ ] }``. Every problem
names the config file and what is wrong.
"""

import ast
import os
import re
import sys

from export.onnx.contract import graph_signature
from export.triton.repository import TRITON_TYPES, triton_dims

CONFIG = "config.pbtxt"
MODEL_FILE = "model.onnx"
PLATFORM = "onnxruntime_onnx"


class ConfigError(ValueError):
    """A config.pbtxt that does not parse."""


# --- reading config.pbtxt ------------------------------------------------------------


def triton_model_config():
    """Triton's ``ModelConfig`` message class, or None when tritonclient is not installed."""
    try:
        from tritonclient.grpc import model_config_pb2
    except ImportError:
        return None
    return model_config_pb2.ModelConfig


def _from_proto(config):
    data_type = type(config).DESCRIPTOR.file.enum_types_by_name["DataType"]

    def tensor(t):
        return {"name": t.name, "data_type": data_type.values_by_number[t.data_type].name,
                "dims": [int(d) for d in t.dims],
                "reshape": [int(d) for d in t.reshape.shape] if t.HasField("reshape") else None}

    return {"name": config.name, "platform": config.platform, "backend": config.backend,
            "max_batch_size": int(config.max_batch_size),
            "inputs": [tensor(t) for t in config.input], "outputs": [tensor(t) for t in config.output]}


_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{}\[\]:,;<>]|[^\s{}\[\]:,;<>#"\']+')


def _tokens(text):
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ConfigError(f"cannot read the text at character {position}")
        token, position = match.group(), match.end()
        if not token.isspace() and not token.startswith("#"):
            tokens.append(token)
    return tokens


def _scalar(token):
    if token[0] in "\"'":
        return ast.literal_eval(token)
    try:
        return int(token)
    except ValueError:
        return token  # an enum name (TYPE_FP32) or true/false


def _message(tokens, i, end):
    """Parse fields until ``end``; -> ({field: [values]}, index after ``end``)."""
    fields = {}
    while i < len(tokens) and tokens[i] != end:
        name = tokens[i]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"expected a field name, found {name!r}")
        i += 1
        i += tokens[i] == ":"
        values = []
        if i < len(tokens) and tokens[i] == "[":
            i += 1
            while tokens[i] != "]":
                value, i = _value(tokens, i)
                values.append(value)
                i += tokens[i] == ","
            i += 1
        else:
            value, i = _value(tokens, i)
            values.append(value)
        fields.setdefault(name, []).extend(values)
        i += i < len(tokens) and tokens[i] in ",;"
    if end is not None and i >= len(tokens):
        raise ConfigError(f"missing {end!r}")
    return fields, i + 1


def _value(tokens, i):
    if i >= len(tokens):
        raise ConfigError("the text ends inside a field")
    if tokens[i] in "{<":
        return _message(tokens, i + 1, "}" if tokens[i] == "{" else ">")
    return _scalar(tokens[i]), i + 1


def _from_text(text):
    try:
        fields, _ = _message(_tokens(text), 0, None)
    except (IndexError, SyntaxError, ValueError) as error:
        raise ConfigError(str(error) or "unbalanced brackets") from None

    def one(message, field, default):
        return message.get(field, [default])[-1]

    def tensor(t):
        reshape = t.get("reshape")
        return {"name": one(t, "name", ""), "data_type": one(t, "data_type", "TYPE_INVALID"),
                "dims": [int(d) for d in t.get("dims", [])],
                "reshape": [int(d) for d in reshape[-1].get("shape", [])] if reshape else None}

    return {"name": one(fields, "name", ""), "platform": one(fields, "platform", ""),
            "backend": one(fields, "backend", ""), "max_batch_size": int(one(fields, "max_batch_size", 0)),
            "inputs": [tensor(t) for t in fields.get("input", [])],
            "outputs": [tensor(t) for t in fields.get("output", [])]}


def read_config(path):
    """The config as {"name", "platform", "backend", "max_batch_size", "inputs", "outputs"} (tensors:
    {"name", "data_type", "dims", "reshape"}); raises :class:`ConfigError` when it does not parse."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    model_config = triton_model_config()
    if model_config is None:
        return _from_text(text)
    from google.protobuf import text_format

    try:
        return _from_proto(text_format.Parse(text, model_config()))
    except text_format.ParseError as error:
        raise ConfigError(f"not a valid Triton ModelConfig: {error}") from None


# --- agreement with the graph ---------------------------------------------------------


def _tensor_problems(kind, tensor, spec, batched):
    name = tensor["name"]
    problems = []
    expected_type = TRITON_TYPES.get(spec["dtype"], f"(no Triton type for {spec['dtype']})")
    if tensor["data_type"] != expected_type:
        problems.append(f"{kind} {name!r} has data_type {tensor['data_type']}, the graph's is {expected_type}")
    graph_dims = [d if isinstance(d, int) else -1 for d in (spec["shape"][1:] if batched else spec["shape"])]
    where = f"graph shape {spec['shape']}{', batch axis left out' if batched else ''}"
    if not tensor["dims"]:
        problems.append(f"{kind} {name!r} declares no dims (Triton needs rank >= 1; a scalar is "
                        f"dims [ 1 ] with reshape: {{ shape: [ ] }})")
    elif tensor["reshape"] is not None:  # dims as clients send them, reshaped to what the graph takes
        if tensor["reshape"] != graph_dims:
            problems.append(f"{kind} {name!r} is reshaped to {tensor['reshape']}, the graph takes {graph_dims} ({where})")
    elif tensor["dims"] != graph_dims:
        wanted, _ = triton_dims(spec["shape"], batched)
        fix = f"dims {wanted} with reshape: {{ shape: [ ] }}" if not graph_dims else f"dims {graph_dims}"
        problems.append(f"{kind} {name!r} declares dims {tensor['dims']}, the graph needs {fix} ({where})")
    return problems


def config_problems(config, signature, entry_name):
    """What is wrong with a parsed ``config`` served as ``entry_name`` over a graph ``signature``
    (``export.onnx.contract.graph_signature``); [] = they agree."""
    problems = []
    if config["name"] and config["name"] != entry_name:
        problems.append(f"name {config['name']!r} is not the entry's folder name {entry_name!r}")
    if config["platform"] != PLATFORM and config["backend"] != "onnxruntime":
        problems.append(f"platform {config['platform']!r} is not {PLATFORM!r}")
    batch = config["max_batch_size"]
    batched = batch > 0
    if batch < 0:
        problems.append(f"max_batch_size {batch} is negative")
    for kind, declared, graph in (("input", config["inputs"], signature["inputs"]),
                                  ("output", config["outputs"], signature["outputs"])):
        names = [t["name"] for t in declared]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{kind} {name!r} is declared twice")
        for tensor in declared:
            if tensor["name"] not in graph:
                problems.append(f"{kind} {tensor['name']!r} is not an {kind} of the graph "
                                f"(its {kind}s: {', '.join(graph)})")
            else:
                problems += _tensor_problems(kind, tensor, graph[tensor["name"]], batched)
        if kind == "input":
            problems += [f"the graph's input {n!r} is missing" for n in graph if n not in names]
        elif not declared:
            problems.append("no output is declared")
    if batched:
        for side in ("inputs", "outputs"):
            for name, spec in signature[side].items():
                if not spec["shape"] or isinstance(spec["shape"][0], int):
                    problems.append(f"max_batch_size {batch} needs a dynamic first (batch) axis, but "
                                    f"the graph's {name!r} has shape {spec['shape']}")
    return problems


def _versions(folder):
    return sorted((d for d in os.listdir(folder) if d.isdigit() and os.path.isdir(os.path.join(folder, d))), key=int)


def check_entry(folder, signature=None):
    """Problems of the Triton entry ``folder`` (``<repository>/<name>``); [] = it parses and agrees
    with its graph. ``signature``: the graph's, when the caller already holds it (the export gate);
    otherwise each version's ``model.onnx`` is read (without external weights)."""
    folder = os.fspath(folder)
    config_path = os.path.join(folder, CONFIG)
    if not os.path.isfile(config_path):
        return [f"{config_path}: missing"]
    try:
        config = read_config(config_path)
    except ConfigError as error:
        return [f"{config_path}: {error}"]
    versions = _versions(folder)
    if not versions:
        return [f"{config_path}: no version folder (1/{MODEL_FILE}) beside it"]
    problems = []
    for version in versions:
        model_path = os.path.join(folder, version, MODEL_FILE)
        if not os.path.isfile(model_path):
            problems.append(f"{config_path}: {version}/{MODEL_FILE} is missing")
            continue
        graph = signature if signature is not None else _read_signature(model_path)
        problems += [f"{config_path}: {p} ({version}/{MODEL_FILE})"
                     for p in config_problems(config, graph, os.path.basename(os.path.normpath(folder)))]
    return problems


def _read_signature(model_path):
    import onnx

    return graph_signature(onnx.load(model_path, load_external_data=False))


def check_repository(folder):
    """:func:`check_entry` over every entry of a model repository (or of an export folder's ``onnx/``)."""
    folder = os.fspath(folder)
    if os.path.isdir(os.path.join(folder, "onnx")) and not os.path.isfile(os.path.join(folder, CONFIG)):
        folder = os.path.join(folder, "onnx")
    entries = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    problems = []
    for entry in entries:
        problems += check_entry(os.path.join(folder, entry))
    return problems or ([] if entries else [f"{folder}: no model entries"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    problems = [p for folder in argv for p in check_repository(folder)]
    schema = "Triton's ModelConfig (tritonclient)" if triton_model_config() else "zoo's text reader (no tritonclient)"
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s); configs read with {schema}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
