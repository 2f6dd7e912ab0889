"""Configuration overrides written as ``key=value`` text (the CLI's ``--set``, a recipe's ``model_overrides``).

Values are Python literals when they parse as one (``2``, ``0.1``, ``True``,
``(1, 2)``) and plain strings otherwise, so ``activation=gelu`` needs no quotes.
"""

import ast


def parse_overrides(pairs):
    """``["num_layers=2", "dropout=0.0"]`` -> ``{"num_layers": 2, "dropout": 0.0}``."""
    overrides = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set takes key=value, got {pair!r}.")
        try:
            overrides[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[key] = value
    return overrides
