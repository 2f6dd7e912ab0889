"""The declared contract of every ONNX artifact, as data in one place.

For each input and output of a forward model, a GPT or seq2seq decoder, or
the seq2seq encoder: its name, dtype, named axes (a dynamic axis is a name
only; a fixed one has its size) and what it means. The forward outputs'
axes and meanings come from the family's export spec (``export.specs``),
which also says which decoder contract each decoder artifact has. The same declaration

* names the graph's symbolic dims at conversion (:meth:`Contract.axis_names`
  feeds ``export.onnx.tf_function.name_axes``), and gives the decoders' traced specs;
* is checked against every written graph by the export gate
  (:meth:`Contract.mismatches`, ``export.layout_gate``);
* goes into manifest.json beside each artifact's signature
  (:meth:`Contract.annotate`), so a client written against onnxruntime
  alone knows what to feed; the README's decoder tables are
  :func:`markdown_table` of it (a test keeps them equal).

Optimized, int8 and float16 variants keep their source graph's inputs and
outputs, so they share its contract (:func:`for_artifact`).
"""

import dataclasses
import re

from export.specs import tensors as declared_inputs

# --- the decoders' usage notes -------------------------------------------------------

PAST_IN_PLACE_KEY = "past_in_place"  # a GPT decoder's metadata_props entry: "1" when a past may be a buffer

GPT_DECODER_USAGE = (
    "Lay out a batch of unequal prompts left-padded to a common end, prompt_end = the longest prompt: "
    "row b starts with pad[b] = prompt_end - len(prompt_b) padding columns, so every row's next token "
    "lands in the same column.",
    "The past grows by the call's new tokens: present.{l}.key/value are past_key_values.{l}.key/value with "
    "this call's keys and values appended (appending is the one copy of the past a call makes). "
    "len(prompt_b) + max_new_tokens must stay within the model's max_sequence_length, which the graph's "
    "metadata_props carry under that key; past it the positions fall off the position table.",
    "First call: the padded prompts as token_ids, empty pasts (past_sequence 0), key_padding_mask over the "
    "prompt columns (column c of row b: 1 when c >= pad[b]), first_position_id = -pad, logits_positions = "
    "prompt_end - 1 for every row (batch, 1); argmax(logits[:, -1]) is the first new token.",
    "Each later call: the last token of each row as token_ids (batch, 1), the previous presents as the pasts, "
    "key_padding_mask with a column of ones appended, first_position_id = past_sequence - pad, "
    "logits_positions 0 (batch, 1).",
    "To score every token of a text (perplexity), pass logits_positions = 0 .. new_tokens - 1 in every row.",
    "Decoders whose metadata_props carry past_in_place = 1 (the fused and quantized ones) also take each past "
    "as a buffer with room for the whole generation (batch, heads, capacity, head_dim), its first past_sequence "
    "columns filled, past_sequence = key_padding_mask's width - new_tokens: bind present.{l}.key/value to the "
    "same memory as the past (ONNX Runtime I/O binding) and a call writes only its new columns, with no copy "
    "of the past. Without that binding they append, as above.",
    "Triton: every tensor is batch-first, so requests whose pasts have the same length can be batched "
    "along the batch axis.",
)

SEQ2SEQ_USAGE = (
    "Right-pad the sources (real tokens first) with source_padding_mask marking them, run the encoder "
    "once, then the decoder once per target token.",
    "First decoder call: the start token for every row as target_ids and the encoder's states as "
    "past_states; each later call: the token chosen last (argmax of logits) and the previous present_states.",
    "encoder_outputs and source_padding_mask are the same at every step.",
)


@dataclasses.dataclass(frozen=True)
class Axis:
    name: str
    size: int | None = None  # None: dynamic, the graph's dim_param is ``name``

    @property
    def dynamic(self):
        return self.size is None


@dataclasses.dataclass(frozen=True)
class Tensor:
    name: str
    dtype: str  # numpy dtype name
    axes: tuple
    meaning: str

    @property
    def shape(self):
        """The declared shape as the manifest writes it: names for dynamic axes, sizes for fixed ones."""
        return [a.name if a.dynamic else a.size for a in self.axes]

    @property
    def static_shape(self):
        """For ``tf.TensorSpec``: None for dynamic axes."""
        return tuple(a.size for a in self.axes)


def _axes(*pairs):
    return tuple(Axis(p) if isinstance(p, str) else Axis(*p) for p in pairs)


@dataclasses.dataclass(frozen=True)
class Contract:
    inputs: tuple
    outputs: tuple
    usage: tuple = ()

    def tensors(self):
        return {t.name: t for t in self.inputs + self.outputs}

    def axis_names(self):
        """{tensor: [dim_param or None per axis]} for ``export.onnx.tf_function.name_axes``."""
        return {t.name: [a.name if a.dynamic else None for a in t.axes] for t in self.tensors().values()}

    def mismatches(self, signature):
        """How a graph's signature (``graph_signature``) differs from the declaration; [] = it agrees."""
        problems = []
        for side, declared in (("inputs", self.inputs), ("outputs", self.outputs)):
            graph = signature[side]
            names = [t.name for t in declared]
            problems += [f"declared {side[:-1]} {n!r} is not in the graph" for n in names if n not in graph]
            problems += [f"graph {side[:-1]} {n!r} is not declared" for n in graph if n not in names]
            for tensor in declared:
                if tensor.name not in graph:
                    continue
                got = graph[tensor.name]
                if got["dtype"] != tensor.dtype:
                    problems.append(f"{tensor.name}: dtype {got['dtype']} != declared {tensor.dtype}")
                if got["shape"] != tensor.shape:
                    problems.append(f"{tensor.name}: shape {got['shape']} != declared {tensor.shape}")
        return problems

    def annotate(self, signature):
        """``signature`` with each tensor's declared axes and meaning, and the usage notes."""
        tensors = self.tensors()

        def side(values):
            return {name: {**spec, "axes": [a.name for a in tensors[name].axes], "meaning": tensors[name].meaning}
                    if name in tensors else dict(spec) for name, spec in values.items()}

        annotated = {"inputs": side(signature["inputs"]), "outputs": side(signature["outputs"])}
        if self.usage:
            annotated["usage"] = list(self.usage)
        return annotated


# --- contracts of the zoo's artifacts ------------------------------------------------


def _keras_output_shape(model, name, index):
    outputs = model.output
    if isinstance(outputs, dict):
        tensor = outputs[name]
    elif isinstance(outputs, (list, tuple)):
        tensor = outputs[index]
    else:
        tensor = outputs
    return tuple(tensor.shape)


def forward(info):
    """The forward model (``<name>``, ``_optimized``, ``_int8``, ``_fp16``): int32 ids in, float32 out."""
    inputs = []
    for name in info.input_names:
        declared = info.spec.input(name)
        axes, meaning = ((declared.axes, declared.meaning) if declared else
                         (("batch", "sequence"), f"Input {name!r} of the Keras model, int32 ids; "
                                                 f"{declared_inputs.RIGHT_PADDED}."))
        inputs.append(Tensor(name, "int32", _axes(*axes), meaning))
    outputs = []
    for index, name in enumerate(info.output_names):
        sizes = _keras_output_shape(info.model, name, index)
        declared = info.spec.output(name)
        names, meaning = (declared.axes, declared.meaning) if declared else (None, f"Output {name!r} of the Keras model.")
        if names is None or len(names) != len(sizes):
            names = ("batch", "sequence", *(f"axis_{i}" for i in range(2, len(sizes))))[: len(sizes)]
        outputs.append(Tensor(name, "float32", tuple(Axis(n, s) for n, s in zip(names, sizes)), meaning))
    return Contract(tuple(inputs), tuple(outputs))


def past_names(layers):
    """[(past key, past value, present key, present value) names] of each layer, as in Hugging Face's exports."""
    return [(f"past_key_values.{i}.key", f"past_key_values.{i}.value", f"present.{i}.key", f"present.{i}.value")
            for i in range(layers)]


def gpt_decoder(config, dtype="float32"):
    """``<name>_decoder``: new tokens appended to a past that grows (``Gpt.call_with_past``)."""
    config = config if isinstance(config, dict) else dataclasses.asdict(config)
    layers, heads = config["num_layers"], config["num_heads"]
    head_dim = config["hidden_dim"] // heads

    def per_head(sequence):
        return _axes("batch", ("heads", heads), sequence, ("head_dim", head_dim))

    pasts, presents = [], []
    for layer, names in enumerate(past_names(layers)):
        for kind, past, present in (("keys", names[0], names[2]), ("values", names[1], names[3])):
            pasts.append(Tensor(past, dtype, per_head("past_sequence"),
                                f"Layer {layer}'s attention {kind} of the earlier tokens, one column per token: "
                                f"empty (past_sequence 0) on the first call, then the last {present}."))
            presents.append(Tensor(present, dtype, per_head("total_sequence"),
                                   f"{past} with this call's {kind} appended (total_sequence = past_sequence + "
                                   f"new_tokens); the next call's {past}."))
    return Contract(
        inputs=(
            Tensor("token_ids", "int32", _axes("batch", "new_tokens"),
                   "The tokens of this call: the left-padded prompts on the first call, then one token per row."),
            *pasts,
            Tensor("key_padding_mask", "int32", _axes("batch", "total_sequence"),
                   "1 where a column (past and new tokens) holds a real token of the row, 0 for its left padding "
                   "(column c of row b: c >= pad[b]); new token t also attends only to columns up to "
                   "past_sequence + t (causal)."),
            Tensor("first_position_id", "int32", _axes("batch"),
                   "Position id of token_ids[:, 0] in each row (the next new tokens get +1, +2, ...): "
                   "past_sequence - pad[b], the number of real tokens before it; negative on the padding "
                   "columns of the first call, which the mask hides."),
            Tensor("logits_positions", "int32", _axes("batch", "scored_tokens"),
                   "Which of this call's tokens get logits (indices into new_tokens, each row its own): the last "
                   "one for decoding, all of them to score a text; projecting a long prompt's every token onto "
                   "the vocabulary would be about a third of the call."),
        ),
        outputs=(
            Tensor("logits", "float32", _axes("batch", "scored_tokens", ("vocabulary", config["vocabulary_size"])),
                   "Next-token scores: logits[:, k] scores the token after token_ids[:, logits_positions[:, k]]; "
                   "greedy decoding takes argmax(logits[:, -1])."),
            *presents,
        ),
        usage=GPT_DECODER_USAGE,
    )


def _state_axes(config):
    return _axes("batch", ("layers", config["num_layers"]), ("h_c", 2), ("hidden", config["hidden_dim"]))


def _encoder_outputs(config, dtype, meaning):
    return Tensor("encoder_outputs", dtype, _axes("batch", "source_sequence", ("hidden", config["hidden_dim"])),
                  meaning)


def seq2seq_encoder(config, dtype="float32"):
    """``<name>_encoder``: the source read once (``Seq2Seq.encode``)."""
    config = config if isinstance(config, dict) else dataclasses.asdict(config)
    source_ids, source_mask = declared_inputs.SOURCE_IDS, declared_inputs.SOURCE_PADDING_MASK
    return Contract(
        inputs=(
            Tensor("source_ids", "int32", _axes(*source_ids.axes),
                   "Source token ids, right-padded (real tokens first): the ONNX LSTM kernels take each row's "
                   "length from the mask, so left padding would be wrong."),
            Tensor("source_padding_mask", "int32", _axes(*source_mask.axes), source_mask.meaning),
        ),
        outputs=(
            _encoder_outputs(config, dtype, "The encoder's last-layer output at each source position "
                                            "(zeros at padding), attended to by every decoder step."),
            Tensor("states", dtype, _state_axes(config),
                   "The decoder's initial LSTM states: [:, l, 0] is layer l's h and [:, l, 1] its c; "
                   "the first decoder call's past_states."),
        ),
        usage=SEQ2SEQ_USAGE,
    )


def seq2seq_decoder(config, dtype="float32"):
    """``<name>_decoder``: one target token per row with past LSTM states (``Seq2Seq.decode_step``)."""
    config = config if isinstance(config, dict) else dataclasses.asdict(config)
    return Contract(
        inputs=(
            Tensor("target_ids", "int32", _axes("batch"),
                   "The previous target token of each row: the start token on the first call, "
                   "then the token chosen from the last logits."),
            Tensor("past_states", dtype, _state_axes(config),
                   "LSTM (h, c) of every layer: the encoder's states on the first call, then the last present_states."),
            _encoder_outputs(config, dtype, "The encoder's encoder_outputs, the same at every step."),
            Tensor("source_padding_mask", "int32", _axes("batch", "source_sequence"),
                   "The mask given to the encoder; attention ignores the padded source positions."),
        ),
        outputs=(
            Tensor("logits", "float32", _axes("batch", ("target_vocabulary", config["target_vocabulary_size"])),
                   "Scores of each row's next target token."),
            Tensor("present_states", dtype, _state_axes(config), "The updated states; the next call's past_states."),
        ),
        usage=SEQ2SEQ_USAGE,
    )


def _compute_dtype(info):
    return str(getattr(info.model, "compute_dtype", "float32"))


def for_artifact(info, key):
    """The contract of the manifest artifact ``key`` (``onnx``, ``onnx_decoder``, ``onnx_int8``, ...).

    A quantized decoder (``onnx_decoder_int8``, ``onnx_decoder_int4``) keeps
    the inputs and outputs of the decoder it was made from.
    """
    for mode in ("_int8", "_int4"):
        if key.startswith("onnx_decoder") and key.endswith(mode):
            key = key[: -len(mode)]
    build = info.spec.decoder_contract(key)
    if build is not None:
        return build(info.config, _compute_dtype(info))
    return forward(info)


# --- reading graphs, writing tables ------------------------------------------------------


def graph_signature(onnx_model):
    """{"inputs"/"outputs": {name: {"shape": [int | dim_param | None], "dtype": numpy name}}} of a graph."""
    import onnx

    def describe(value):
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim]
        return {"shape": shape, "dtype": onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name}

    initializers = {i.name for i in onnx_model.graph.initializer}
    return {
        "inputs": {v.name: describe(v) for v in onnx_model.graph.input if v.name not in initializers},
        "outputs": {v.name: describe(v) for v in onnx_model.graph.output},
    }


def _per_layer_rows(tensors):
    """(name, tensor, meaning) rows, the tensors of every layer l (``past_key_values.{l}.key`` ...)
    written once with ``{l}`` for the layer, the others as they are."""
    rows, seen = [], set()
    for t in tensors:
        match = re.fullmatch(r"(.*)\.(\d+)\.(.*)", t.name)
        if match is None:
            rows.append((t.name, t, t.meaning))
            continue
        name = f"{match[1]}.{{l}}.{match[3]}"
        if name not in seen:
            seen.add(name)
            layer = match[2]
            meaning = t.meaning.replace(f"Layer {layer}'s", "Layer l's").replace(f".{layer}.", ".{l}.")
            rows.append((name, t, meaning))
    return rows


def markdown_table(contract):
    """The README's table of a contract: one row per input and output (one per kind for the
    tensors every layer has), axes by name."""
    rows = ["| | tensor | dtype | axes | meaning |", "|---|---|---|---|---|"]
    for side, tensors in (("in", contract.inputs), ("out", contract.outputs)):
        for name, t, meaning in _per_layer_rows(tensors):
            axes = "(" + ", ".join(a.name for a in t.axes) + ")" if t.axes else "scalar"
            rows.append(f"| {side} | `{name}` | {t.dtype} | {axes} | {meaning} |")
    dynamic = sorted({a.name for t in contract.tensors().values() for a in t.axes if a.dynamic})
    rows.append("")
    rows.append(f"Dynamic axes: {', '.join(dynamic)}; the others are fixed by the model's config.")
    return "\n".join(rows)
