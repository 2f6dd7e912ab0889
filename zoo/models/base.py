"""What every zoo model shares: a validated config dataclass, Keras
serialization of that config, and input checks with errors that say what to do.

Each family is a functional ``keras.Model`` subclass (the keras-hub
"backbone" pattern): ``__init__`` builds the graph from the config fields,
``get_config`` returns those fields, ``from_config`` calls ``__init__``.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from zoo.layers.embeddings import executing_eagerly
from zoo.token_ids import check_token_ids


class ConfigError(ValueError):
    """A model configuration that cannot be built."""


def check_positive(config, *names):
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}.")


def check_dropout(config, name="dropout"):
    value = getattr(config, name)
    if not 0.0 <= float(value) < 1.0:
        raise ConfigError(f"{name} must be in [0, 1), got {value!r}.")


def check_choice(config, name, choices):
    value = getattr(config, name)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {tuple(choices)}, got {value!r}.")


def check_heads(config):
    if config.hidden_dim % config.num_heads:
        raise ConfigError(
            f"hidden_dim ({config.hidden_dim}) must be divisible by num_heads "
            f"({config.num_heads}); e.g. hidden_dim={config.num_heads * max(1, config.hidden_dim // config.num_heads)}."
        )


def config_from_kwargs(config_class, kwargs):
    """Pop the config fields out of ``kwargs`` into a validated dataclass."""
    names = {field.name for field in dataclasses.fields(config_class)}
    config = config_class(**{k: kwargs.pop(k) for k in list(kwargs) if k in names})
    config.validate()
    return config


def _is_integer_dtype(dtype):
    name = keras.backend.standardize_dtype(dtype)
    return name.startswith("int") or name.startswith("uint")


class ZooModel(keras.Model):
    """Base of the zoo's families.

    Subclasses set ``config_class`` (a dataclass with ``validate()``),
    ``token_inputs`` (input name -> the config field holding its vocabulary
    size; ids are checked for integer dtype, and for range when eager),
    ``mask_inputs`` (optional padding masks, filled with ones when omitted)
    and ``optional_inputs`` (other inputs filled with zeros, e.g. segments).
    """

    config_class = None
    token_inputs = {}
    mask_inputs = {}  # mask name -> the token input it masks
    optional_inputs = {}  # other optional inputs -> the token input whose shape they take

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            **dataclasses.asdict(self.config),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)

    @property
    def input_names(self):
        return list(self._inputs_struct.keys()) if isinstance(self._inputs_struct, dict) else []

    def _standardize(self, inputs):
        """Return a complete input dict, or raise an error that says what is wrong."""
        expected = self.input_names
        if not isinstance(inputs, dict):
            # A bare tensor is the first token input; the rest get defaults.
            inputs = {next(iter(self.token_inputs)): inputs}
        unknown = sorted(set(inputs) - set(expected))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unknown input(s) {unknown}; "
                f"its inputs are {expected}."
            )
        inputs = {
            name: value if ops.is_tensor(value) or isinstance(value, keras.KerasTensor)
            else ops.convert_to_tensor(value)
            for name, value in inputs.items()
        }
        for name, source in {**self.mask_inputs, **self.optional_inputs}.items():
            if name not in inputs:
                fill = ops.ones_like if name in self.mask_inputs else ops.zeros_like
                inputs[name] = fill(inputs[source])
        for name in expected:
            if name not in inputs:
                raise ValueError(
                    f"{type(self).__name__} is missing input {name!r}; its inputs are {expected}."
                )
            value = inputs[name]
            dtype = getattr(value, "dtype", None) or np.asarray(value).dtype
            if not _is_integer_dtype(dtype) and keras.backend.standardize_dtype(dtype) != "bool":
                raise TypeError(
                    f"Input {name!r} of {type(self).__name__} must be an integer tensor "
                    f"(int32), got dtype {keras.backend.standardize_dtype(dtype)}. "
                    "Token ids and masks are integers; cast them, e.g. ids.astype('int32')."
                )
            shape = getattr(value, "shape", np.shape(value))
            if len(shape) != 2:
                raise ValueError(
                    f"Input {name!r} of {type(self).__name__} must have shape "
                    f"(batch, sequence_length), got shape {tuple(shape)}."
                )
        self._check_length(inputs)
        self._check_token_range(inputs)
        return {name: inputs[name] for name in expected}

    def _check_token_range(self, inputs):
        if not executing_eagerly():
            return  # see zoo.layers.embeddings for graph-mode behaviour
        for name, size_field in self.token_inputs.items():
            if not isinstance(inputs[name], keras.KerasTensor):
                check_token_ids(inputs[name], getattr(self.config, size_field), name=name)

    def _check_length(self, inputs):
        limit = getattr(self.config, "max_sequence_length", None)
        if not limit:
            return
        for name in self.token_inputs:
            length = inputs[name].shape[1]
            if length is not None and length > limit:
                raise ValueError(
                    f"Input {name!r} has length {length}, longer than this model's "
                    f"max_sequence_length {limit}. Truncate it (e.g. the tokenizer's "
                    "sequence_length) or build the model with a larger max_sequence_length."
                )

    def __call__(self, inputs, *args, **kwargs):
        # Before Keras' own input-spec check, so omitted masks are filled in
        # and wrong names/dtypes/lengths get an error that says what to do.
        return super().__call__(self._standardize(inputs), *args, **kwargs)
