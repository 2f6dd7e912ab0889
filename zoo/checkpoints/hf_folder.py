"""Reading a Hugging Face checkpoint folder safely: ``config.json`` and the weights.

Nothing in the folder is ever executed:

* ``config.json`` (and sharding indexes) are parsed as JSON;
* ``model.safetensors`` is read with the ``safetensors`` package into numpy
  arrays (the format holds raw tensors and a JSON header, no code);
* ``pytorch_model.bin`` is a pickle. It is opened only with
  ``torch.load(..., weights_only=True)``, whose unpickler refuses any class
  or function outside torch's tensor allow-list *before* calling it. A file
  that needs arbitrary unpickling is refused with a :class:`CheckpointError`;
  without torch installed, a ``.bin`` file is refused outright.

Sharded checkpoints (``*.index.json`` + shards) are read too. safetensors is
preferred whenever both formats are present.
"""

import json
import os

import numpy as np

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"
PYTORCH_INDEX = "pytorch_model.bin.index.json"
WEIGHT_FILES = (SAFETENSORS_FILE, SAFETENSORS_INDEX, PYTORCH_FILE, PYTORCH_INDEX)


class CheckpointError(ValueError):
    """A Hugging Face folder that cannot be imported; the message says why and what to do."""


def check_folder(folder):
    """Return ``folder`` as a string, or raise if it is not an existing directory."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{folder!r} is not a folder. Pass a local Hugging Face checkpoint folder "
            f"(with {CONFIG_FILE} and {SAFETENSORS_FILE} or {PYTORCH_FILE}); zoo never downloads."
        )
    return folder


def read_json(path):
    """Parse a JSON file, with an error that names the file when it is malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path} is not valid JSON ({error}).") from error


def read_config(folder):
    """The folder's ``config.json`` as a dict."""
    path = os.path.join(check_folder(folder), CONFIG_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No {CONFIG_FILE} in {folder!r}: a Hugging Face checkpoint folder needs one "
            "(save it with `model.save_pretrained(folder)`)."
        )
    config = read_json(path)
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} should hold a JSON object, got {type(config).__name__}.")
    return config


def weight_file(folder):
    """The path of the weights to read: safetensors first, then PyTorch; or a clear error."""
    folder = check_folder(folder)
    for name in WEIGHT_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"No weight file in {folder!r}: expected one of {', '.join(WEIGHT_FILES)}. "
        f"Found: {', '.join(sorted(os.listdir(folder))) or 'nothing'}."
    )


def read_tensors(folder):
    """All tensors of the checkpoint in ``folder``: ``{name: numpy array}``.

    float16/bfloat16 tensors are returned as float32 (Keras variables here are
    float32; a mixed-precision model casts at compute time).
    """
    path = weight_file(folder)
    if path.endswith(".index.json"):
        return _read_sharded(path)
    if path.endswith(".safetensors"):
        return _read_safetensors(path)
    return _read_pytorch(path)


def _read_sharded(index_path):
    index = read_json(index_path)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise CheckpointError(f"{index_path} has no 'weight_map'; it is not a sharding index.")
    folder = os.path.dirname(index_path)
    tensors = {}
    for shard in sorted(set(weight_map.values())):
        # Shards must be plain file names inside the folder, never paths elsewhere.
        if not isinstance(shard, str) or os.path.basename(shard) != shard:
            raise CheckpointError(f"{index_path} names shard {shard!r}, which is not a file name in the folder.")
        shard_path = os.path.join(folder, shard)
        if not os.path.isfile(shard_path):
            raise FileNotFoundError(f"{index_path} lists shard {shard!r}, which is missing from {folder!r}.")
        read = _read_safetensors if shard.endswith(".safetensors") else _read_pytorch
        tensors.update(read(shard_path))
    return tensors


def _as_float32(array):
    if array.dtype.kind == "f" and array.dtype != np.float32:
        return array.astype(np.float32)
    return array


def _read_safetensors(path):
    import safetensors
    from safetensors.numpy import safe_open

    tensors, needs_raw = {}, []
    try:
        with safe_open(path, framework="np") as f:
            for name in f.keys():
                if f.get_slice(name).get_dtype() == "BF16":
                    needs_raw.append(name)  # numpy has no bfloat16; decoded below
                else:
                    tensors[name] = _as_float32(f.get_tensor(name))
    except safetensors.SafetensorError as error:
        raise CheckpointError(f"{path} is not a readable safetensors file ({error}).") from error
    if needs_raw:
        tensors.update(_read_bfloat16(path, set(needs_raw)))
    return tensors


def _read_bfloat16(path, names):
    """bfloat16 tensors: raw bytes from ``safetensors.deserialize``, widened to float32.

    A bfloat16 value is the top 16 bits of a float32, so shifting the raw
    uint16 into the high half of a uint32 reproduces it exactly.
    """
    import safetensors

    with open(path, "rb") as f:
        entries = safetensors.deserialize(f.read())
    tensors = {}
    for name, entry in entries:
        if name in names:
            raw = np.frombuffer(entry["data"], dtype="<u2").astype(np.uint32) << 16
            tensors[name] = raw.view(np.float32).reshape(entry["shape"])
    return tensors


def _unpickling_reason(error):
    """The line of torch's weights-only error that says what was refused.

    (Its other lines suggest retrying with ``weights_only=False``, which is
    exactly the unsafe step zoo never takes, so they are not repeated.)
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("Unsupported", "Trying to")) or "GLOBAL" in line:
            return line
    if lines and "weights_only" not in lines[0] and "Weights only" not in lines[0]:
        return lines[0]  # e.g. "invalid load key": a corrupt file
    return "torch's weights-only unpickler rejected it"


def _read_pytorch(path):
    try:
        import torch
    except ImportError:
        raise CheckpointError(
            f"{path} is a PyTorch pickle and reading it safely needs torch "
            "(pip install 'zoo[hf]'), which is not installed. Alternatively convert the "
            "checkpoint to model.safetensors with a trusted tool. Nothing was read."
        ) from None
    import pickle

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"Refused to load {path}: it needs arbitrary unpickling, which could run code "
            f"({_unpickling_reason(error)}). torch.load(weights_only=True) stopped before "
            "calling anything, so nothing was executed. "
            "Use a model.safetensors version of this checkpoint, or re-save the weights "
            "from a trusted environment with `model.save_pretrained(folder, safe_serialization=True)`."
        ) from None
    except Exception as error:  # torch reports corrupt files with many types (IndexError, RuntimeError, ...)
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint ({type(error).__name__}: {error}). "
            "Is the file complete? Re-save it with `model.save_pretrained(folder)`."
        ) from error
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            f"{path} does not hold a state dict of tensors ({type(state).__name__}); "
            "save one with `model.save_pretrained(folder)`."
        )
    return {
        name: (t.detach().float() if t.is_floating_point() else t.detach()).numpy()
        for name, t in state.items()
    }
