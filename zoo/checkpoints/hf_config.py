"""Translating Hugging Face ``config.json`` fields into zoo config fields.

Shared by the BERT and GPT-2 mappings: reading a required or optional field
with a clear error, and the activation names (Hugging Face ``hidden_act`` /
``activation_function`` -> zoo ``activation``).
"""

from zoo.checkpoints.hf_folder import CheckpointError

# Hugging Face activation name -> zoo activation. "gelu" is the exact (erf)
# GELU; gelu_new / gelu_pytorch_tanh / gelu_fast are all the tanh approximation.
ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "relu": "relu",
}


def required(config, *names):
    """The first of ``names`` present in ``config`` (older/newer spellings), else an error."""
    for name in names:
        if config.get(name) is not None:
            return config[name]
    raise CheckpointError(
        f"config.json has no {' or '.join(repr(n) for n in names)} field, which a "
        f"{config.get('model_type', 'Hugging Face')} checkpoint needs."
    )


def activation(config, field):
    """The zoo activation for ``config[field]``, or an error listing the supported ones."""
    name = config.get(field, "gelu")
    if name not in ACTIVATIONS:
        raise CheckpointError(
            f"config.json {field}={name!r} is not supported; zoo supports "
            f"{', '.join(sorted(ACTIVATIONS))}."
        )
    return ACTIVATIONS[name]


def refuse(config, field, supported_value, why):
    """Raise when ``config[field]`` is set to something other than ``supported_value``."""
    value = config.get(field, supported_value)
    if value != supported_value:
        raise CheckpointError(
            f"config.json {field}={value!r} is not supported ({why}); zoo imports "
            f"checkpoints with {field}={supported_value!r}."
        )


def summary(zoo_config, names):
    """``"hidden_dim=384, num_layers=6"``: the sizes quoted in shape errors."""
    return ", ".join(f"{name}={zoo_config[name]}" for name in names if name in zoo_config)
