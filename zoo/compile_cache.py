"""XLA's persistent compilation cache: a second process's first compiled call skips XLA.

Every zoo model trains and generates through ``jit_compile=True`` functions,
and XLA compiles each of them on first call (seconds for a training step or
a whole decode loop). TensorFlow can keep the compiled executables on disk
(``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=DIR``) and load them
in a later process whose function has the same signature.

:func:`configure` turns that on when the user asks, before the first
compilation:

* ``ZOO_XLA_CACHE=1`` turns it on (it is off by default: on every load
  TensorFlow 2.21 logs three error-level lines that are not errors -- a
  failed text-format parse before the binary one succeeds, and two "target
  machine feature +prefer-no-gather/-scatter is not supported" notes about
  tuning flags, not instructions -- which no setting silences);
* ``ZOO_XLA_CACHE_DIR=DIR`` picks the folder (default
  ``$XDG_CACHE_HOME/zoo/xla`` or ``~/.cache/zoo/xla``);
* a ``--tf_xla_persistent_cache_directory`` already in ``TF_XLA_FLAGS`` wins.

Compiled executables are machine code for the CPU that compiled them, and
TensorFlow would load one from another CPU kind (it logs a warning, and the
result can be an illegal instruction). So the folder holds one sub-folder
per CPU feature set and TensorFlow version (:func:`cache_key`), and a cache
is only ever read on the kind of machine that wrote it. The cache is the
user's own, written by their own processes, like any file under ``~/.cache``.
"""

import hashlib
import os

from zoo import cpu

FLAG = "--tf_xla_persistent_cache_directory"


def cache_key(flags=None, tensorflow_version=None):
    """A short name for this CPU's full feature set and the installed TensorFlow."""
    flags = cpu.cpu_flags() if flags is None else flags
    if tensorflow_version is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            tensorflow_version = version("tensorflow")
        except PackageNotFoundError:
            tensorflow_version = "unknown"
    digest = hashlib.sha256(" ".join(sorted(flags)).encode()).hexdigest()[:12]
    return f"tf{tensorflow_version}-cpu{digest}"


def default_directory():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "zoo", "xla")


def configure(environ=None):
    """With ``ZOO_XLA_CACHE=1``, point TensorFlow's persistent XLA cache at this machine's
    folder; returns the folder in use (None when off).

    Must run before the first XLA compilation (zoo calls it whenever it loads TensorFlow).
    """
    environ = os.environ if environ is None else environ
    existing = environ.get("TF_XLA_FLAGS", "")
    for token in existing.split():
        if token.startswith(FLAG + "="):
            return token.split("=", 1)[1] or None  # the user's own setting
    if environ.get("ZOO_XLA_CACHE", "0") != "1":
        return None
    directory = os.path.join(environ.get("ZOO_XLA_CACHE_DIR") or default_directory(), cache_key())
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:  # read-only home, no home: compile every time, as without the cache
        return None
    environ["TF_XLA_FLAGS"] = f"{existing} {FLAG}={directory}".strip()
    return directory


def without_cache(environ):
    """A copy of ``environ`` for a child process that must compile from scratch (cold
    first-call measurements): the cache off and its flag out of ``TF_XLA_FLAGS``."""
    flags = [flag for flag in environ.get("TF_XLA_FLAGS", "").split() if not flag.startswith(FLAG)]
    child = {**environ, "ZOO_XLA_CACHE": "0", "TF_XLA_FLAGS": " ".join(flags)}
    if not child["TF_XLA_FLAGS"]:
        del child["TF_XLA_FLAGS"]
    return child
