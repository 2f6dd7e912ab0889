"""Translating Hugging Face ``config.json`` fields to zoo config fields and back.

Shared by the BERT and GPT-2 mappings: each declares one table of
``zoo field -> (Hugging Face names, default)``; :func:`read_fields` reads
``config.json`` through it (a required field missing gets a clear error) and
:func:`write_fields` writes a zoo config through the same table. The
activation names (Hugging Face ``hidden_act`` / ``activation_function`` <->
zoo ``activation``) are one table too, read in both directions.
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


def read_fields(config, fields):
    """zoo keyword arguments from ``config.json`` through a ``{zoo field: (names, default)}`` table.

    ``names`` are the Hugging Face spellings the field goes by (the first is
    the one :func:`write_fields` writes); a ``None`` default means required.
    """
    return {
        zoo_name: required(config, *names) if default is None else _first(config, names, default)
        for zoo_name, (names, default) in fields.items()
    }


def write_fields(zoo_config, fields):
    """The ``config.json`` entries of a zoo config, through the same table (first spelling)."""
    return {names[0]: zoo_config[zoo_name] for zoo_name, (names, _) in fields.items()}


def _first(config, names, default):
    return next((config[name] for name in names if config.get(name) is not None), default)


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


def hf_activation(zoo_activation):
    """The Hugging Face name of a zoo activation (the first in :data:`ACTIVATIONS`), or an error."""
    for name, zoo_name in ACTIVATIONS.items():
        if zoo_name == zoo_activation:
            return name
    raise CheckpointError(
        f"activation={zoo_activation!r} has no Hugging Face equivalent; transformers' BERT and "
        f"GPT-2 can express {', '.join(sorted(set(ACTIVATIONS.values())))}."
    )


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
