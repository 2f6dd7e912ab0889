"""The CPU's instruction-set features, read without importing TensorFlow.

Two facts depend on them, so both the start-up check and the reports use this
one reader:

* TensorFlow's x86-64 wheels are built for AVX; on a CPU without it the
  first ``import tensorflow`` dies with an illegal instruction, which no
  Python code can catch. :func:`missing_requirements` lets ``import zoo``
  say so first.
* int8 kernels differ by CPU: with AVX-512 VNNI (or AVX-VNNI) ONNX Runtime's
  u8 x s8 dot products are exact; with AVX2 alone they use ``VPMADDUBSW``,
  whose 16-bit pairwise sums saturate. Benchmarks and export manifests
  therefore name the :func:`cpu_kind` they were measured on.

Linux reads ``/proc/cpuinfo``; elsewhere the features are unknown (empty),
and nothing is refused on that account.
"""

import functools
import platform

# The flags that change which kernels run (Linux /proc/cpuinfo spelling).
NOTABLE_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                 "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
REQUIRED_X86_FLAGS = ("avx",)  # what TensorFlow's PyPI wheels are compiled for


def _read_flags(path="/proc/cpuinfo"):
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@functools.lru_cache(maxsize=None)
def cpu_flags():
    """All flags the kernel reports for the first CPU (empty when unknown)."""
    return _read_flags()


def is_x86():
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def instruction_sets(flags=None):
    """The notable features present, in a fixed order (e.g. ``["avx", "avx2", "fma", ...]``)."""
    flags = cpu_flags() if flags is None else flags
    return [f for f in NOTABLE_FLAGS if f in flags]


def has_int8_dot_product(flags=None):
    """True when int8 dot products run without saturation (AVX-512 VNNI or AVX-VNNI)."""
    flags = cpu_flags() if flags is None else flags
    return bool({"avx512_vnni", "avx_vnni"} & set(flags))


def has_bf16_dot_product(flags=None):
    """True when the CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX-BF16), which
    oneDNN's bf16 kernels use; elsewhere bf16 is emulated and slower than float32."""
    flags = cpu_flags() if flags is None else flags
    return bool({"avx512_bf16", "amx_bf16"} & set(flags))


def cpu_kind(flags=None):
    """A short name for the kernel class this CPU gets: ``AVX-512/VNNI``, ``AVX-512``,
    ``AVX2-only``, ``AVX-only``, ``no AVX`` on x86; the machine name elsewhere."""
    flags = cpu_flags() if flags is None else flags
    if not is_x86():
        return platform.machine() or "unknown"
    if not flags:
        return "unknown x86"
    if "avx512f" in flags:
        return "AVX-512/VNNI" if "avx512_vnni" in flags else "AVX-512"
    if "avx2" in flags:
        return "AVX2+VNNI" if "avx_vnni" in flags else "AVX2-only"
    return "AVX-only" if "avx" in flags else "no AVX"


def describe(flags=None):
    """{"kind", "instruction_sets", "int8_dot_product"} for reports and manifests."""
    return {"kind": cpu_kind(flags), "instruction_sets": instruction_sets(flags),
            "int8_dot_product": has_int8_dot_product(flags)}


def missing_requirements(flags=None, x86=None):
    """The features TensorFlow needs that this CPU lacks (empty when fine or unknown)."""
    flags = cpu_flags() if flags is None else flags
    x86 = is_x86() if x86 is None else x86
    if not x86 or not flags:
        return []
    return [f for f in REQUIRED_X86_FLAGS if f not in flags]
