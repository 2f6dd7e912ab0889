"""What ``import zoo`` does before TensorFlow loads.

* Refuse, with what is needed, a Python or a CPU that TensorFlow cannot run
  on: TensorFlow's x86-64 wheels are compiled for AVX, and on a CPU without
  it ``import tensorflow`` dies with an illegal instruction that no Python
  code can catch, so the check has to come first.
* Keep the native libraries' start-up chatter out of the user's terminal.
  On a machine without a GPU, TensorFlow's native code writes to the stderr
  file descriptor before its logging is configured (absl's "All log messages
  before absl::InitializeLog()" banner, "Could not find cuda drivers",
  "failed call to cuInit", the CPU-feature-guard note), and
  ``TF_CPP_MIN_LOG_LEVEL`` does not reach those lines. :func:`quiet_native_logs`
  captures file descriptor 2 while TensorFlow loads and probes its devices,
  then writes back every line that is not one of :data:`NOISE`, so real
  errors and warnings still reach the user, in order.
"""

import contextlib
import os
import re
import sys
import tempfile

from zoo import compile_cache, cpu

SUPPORTED_PYTHONS = ((3, 11), (3, 13))  # inclusive, as setup.cfg's python_requires

NOISE = tuple(re.compile(p) for p in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"cudart_stub\.cc.*Could not find cuda drivers",
    r"cuda_platform\.cc.*failed call to cuInit",
    r"cuda_(dnn|fft|blas)\.cc.*Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation_placer\.cc.*computation placer already registered",
    r"cpu_feature_guard\.cc.*This TensorFlow binary is optimized to use available CPU instructions",
    r"^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$",
    r"oneDNN custom operations are on",
    r"TF-TRT Warning: Could not find TensorRT",
))


class UnsupportedEnvironment(RuntimeError):
    """This Python or CPU cannot run zoo; the message says what is needed."""


def check_python(version=None):
    version = tuple((version or sys.version_info)[:2])
    low, high = SUPPORTED_PYTHONS
    if not low <= version <= high:
        raise UnsupportedEnvironment(
            f"zoo supports Python {low[0]}.{low[1]} to {high[0]}.{high[1]}; this is Python "
            f"{version[0]}.{version[1]}. Create the virtual environment with a supported interpreter, "
            f"e.g. `python3.11 -m venv .venv`.")


def check_cpu(flags=None, x86=None):
    missing = cpu.missing_requirements(flags, x86)
    if missing:
        raise UnsupportedEnvironment(
            f"This CPU lacks {', '.join(m.upper() for m in missing)}, which TensorFlow's x86-64 builds need "
            "(importing TensorFlow would stop the process with an illegal instruction). Run zoo on a CPU "
            "with AVX (any x86-64 CPU since 2011-2013), or build TensorFlow from source without it.")


def check_environment():
    """Raise :class:`UnsupportedEnvironment` for an unsupported Python or CPU."""
    check_python()
    check_cpu()


def is_noise(line):
    return any(pattern.search(line) for pattern in NOISE)


@contextlib.contextmanager
def quiet_native_logs():
    """Capture file descriptor 2 for the block; write back all but :data:`NOISE` lines.

    ``ZOO_VERBOSE_STARTUP=1`` turns the filter off (everything is shown).
    """
    if os.environ.get("ZOO_VERBOSE_STARTUP") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable descriptor 2 (embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not is_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow():
    """Import TensorFlow (and Keras on it) once, inside :func:`quiet_native_logs`.

    Called by ``zoo``'s package face and CLI before the first module that
    needs TensorFlow, so its start-up noise (CUDA probes, CPU-feature notes)
    is filtered wherever the import happens first. It first points XLA's
    persistent compilation cache at this machine's folder
    (:mod:`zoo.compile_cache`).
    """
    compile_cache.configure()  # XLA reads its flags at the first compilation, even after the import
    if "tensorflow" in sys.modules:
        return
    with quiet_native_logs():
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")  # CUDA's probe logs now, inside the filter
