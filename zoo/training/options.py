"""Recipe options: declared once with defaults and help, checked when a run starts.

Every recipe declares its options as :class:`Option` values (the default fixes
the type). :func:`resolve` merges user overrides into the defaults and
rejects unknown names and values of the wrong type with the list of what is
valid; the CLI builds its ``--flags`` from the same declarations.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Option:
    """One recipe option: default (its type is the option's type), help, optional choices."""

    default: object
    help: str
    choices: tuple = None
    type: type = None  # only needed when the default is None

    @property
    def value_type(self):
        return self.type or type(self.default)


def precision_option(default):
    """The ``precision`` option; recipes whose bf16 quality was measured default to 'auto'."""
    return Option(default, "Keras dtype policy of the model: 'float32', 'mixed_bfloat16' (bfloat16 compute, "
                           "float32 weights and logits) or 'auto' (mixed_bfloat16 without XLA for a GPT or "
                           "BERT >= 256 wide on a CPU with bf16 units, else float32; zoo.training.precision)",
                  choices=("auto", "float32", "mixed_bfloat16"))


# Options every recipe has: optimisation, reproducibility and the run itself.
COMMON = {
    "seed": Option(0, "seed for initialization, data order and masking"),
    "learning_rate": Option(1e-3, "peak learning rate (AdamW, reached after the warmup)"),
    "min_learning_rate": Option(1e-4, "learning rate at the end of the cosine decay"),
    "warmup_steps": Option(100, "linear warmup steps from 0 to the peak learning rate"),
    "weight_decay": Option(0.1, "AdamW decoupled weight decay (not on biases and LayerNorm)"),
    "beta_2": Option(0.99, "AdamW beta_2"),
    "clipnorm": Option(1.0, "global gradient-norm clipping (0 = off)"),
    "strategy": Option("default", "tf.distribute strategy: 'default' (one device), 'mirrored' (all GPUs, "
                                  "else all logical CPU devices) or 'multi-worker' (MultiWorkerMirroredStrategy "
                                  "over the machines of the TF_CONFIG environment variable)",
                       choices=("default", "mirrored", "multi-worker")),
    "worker_timeout_seconds": Option(300.0, "multi-worker only: how long a worker waits for the others "
                                            "to start before it gives up with an error"),
    "jit_compile": Option(True, "compile train/eval steps with XLA (precision 'auto' turns it off "
                                "when it picks mixed_bfloat16)"),
    "precision": precision_option("float32"),
    "steps_per_execution": Option(1, "optimizer steps per compiled call (fewer Python round trips; "
                                     "the progress bar moves in these increments)"),
    "time_limit_minutes": Option(0.0, "stop training after this much wall time (0 = no limit); "
                                      "the final evaluation still runs"),
}

# Options that may change between an interrupted run and its resumption.
NOT_PART_OF_THE_RUN = frozenset({"strategy", "jit_compile", "steps_per_execution", "time_limit_minutes",
                                 "worker_timeout_seconds"})


def _coerce(name, option, value):
    wanted = option.value_type
    if value is None and option.default is None:
        return None
    if wanted is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            value = value.lower() in ("true", "1", "yes")
        if not isinstance(value, bool):
            raise TypeError(f"Option {name!r} takes true/false, got {value!r}.")
    elif wanted is float:
        if isinstance(value, bool):
            raise TypeError(f"Option {name!r} takes a number, got {value!r}.")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"Option {name!r} takes a number, got {value!r}.") from None
    elif wanted is int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Option {name!r} takes an integer, got {value!r}.")
    elif wanted is str:
        if not isinstance(value, str):
            raise TypeError(f"Option {name!r} takes a string, got {value!r}.")
    if option.choices is not None and value not in option.choices:
        raise ValueError(f"Option {name!r} must be one of {list(option.choices)}, got {value!r}.")
    return value


def resolve(recipe_name, declared, overrides):
    """Defaults of ``declared`` with ``overrides`` applied, type-checked."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {unknown} for recipe {recipe_name!r}. "
            f"Valid options: {', '.join(sorted(declared))}."
        )
    values = {name: option.default for name, option in declared.items()}
    for name, value in overrides.items():
        values[name] = _coerce(name, declared[name], value)
    return values


def run_identity(recipe_name, values):
    """What must match for a checkpoint to be resumed: the recipe and its run-defining options."""
    return {
        "recipe": recipe_name,
        "options": {k: v for k, v in sorted(values.items()) if k not in NOT_PART_OF_THE_RUN},
    }
