"""The ``zoo`` command line: ``zoo list | build | demo`` (more commands register here).

Each command lives in its own module and exposes ``register(subparsers)``,
which adds its parser and sets ``func``; this file only assembles them.
"""

import argparse
import importlib
import sys

from zoo import startup

COMMAND_MODULES = ("zoo.commands.models", "zoo.commands.demo", "zoo.commands.importer", "zoo.commands.export", "zoo.commands.train", "zoo.commands.generate", "zoo.commands.bench")


def make_parser():
    parser = argparse.ArgumentParser(prog="zoo", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv=None):
    startup.import_tensorflow()  # the recipes' options (train's parser) are declared beside their Keras code
    args = make_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError) as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
