"""One module per ``zoo`` subcommand, each with ``register(subparsers)``."""
