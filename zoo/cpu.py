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
* Machines of one kind still differ in speed: AMD's Zen 4 runs AVX-512 on
  256-bit units, two passes per instruction, where Zen 5 server cores have
  full-width units, so the same AVX-512/VNNI kind multiplies float32
  matrices about half as fast on Zen 4 (about 200 against 440 GFLOP/s on
  2 cores here). :func:`core_design` names the design so that reports say
  which machine of a kind they ran on.

Linux reads ``/proc/cpuinfo``; elsewhere the features are unknown (empty),
and nothing is refused on that account.
"""

import functools
import platform

# The flags that change which kernels run (Linux /proc/cpuinfo spelling).
NOTABLE_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                 "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
REQUIRED_X86_FLAGS = ("avx",)  # what TensorFlow's PyPI wheels are compiled for


# AMD core designs by (CPU family, model range), from AMD's family/model
# numbering; designs not listed are reported by their numbers.
AMD_CORE_DESIGNS = (
    (0x17, range(0x30, 0x100), "Zen 2"),
    (0x19, range(0x00, 0x10), "Zen 3"),
    (0x19, range(0x10, 0x20), "Zen 4"),
    (0x19, range(0x20, 0x60), "Zen 3"),
    (0x19, range(0x60, 0x80), "Zen 4"),
    (0x19, range(0xA0, 0xB0), "Zen 4"),
    (0x1A, range(0x00, 0x100), "Zen 5"),
)


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


def read_identity(path="/proc/cpuinfo"):
    """{"vendor_id", "cpu family", "model"} of the first CPU, as strings (empty when unknown)."""
    wanted = ("vendor_id", "cpu family", "model")
    found = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                if not line.strip():
                    break  # the end of the first CPU's block
                key, _, value = line.partition(":")
                if key.strip() in wanted:
                    found[key.strip()] = value.strip()
    except OSError:
        pass
    return found


def core_design(identity=None):
    """The CPU's core design: ``"AMD Zen 4"`` / ``"AMD Zen 5"`` / ... for the AMD designs
    in :data:`AMD_CORE_DESIGNS`, else ``"<vendor> family F model M"`` (hexadecimal, as
    vendors number them); ``""`` when /proc/cpuinfo says nothing (not Linux, not x86)."""
    identity = read_identity() if identity is None else identity
    vendor = identity.get("vendor_id", "")
    try:
        family, model = int(identity["cpu family"]), int(identity["model"])
    except (KeyError, ValueError):
        return ""
    if vendor == "AuthenticAMD":
        for design_family, models, name in AMD_CORE_DESIGNS:
            if family == design_family and model in models:
                return f"AMD {name}"
    vendor_name = {"AuthenticAMD": "AMD", "GenuineIntel": "Intel"}.get(vendor, vendor or "x86")
    return f"{vendor_name} family {family:#x} model {model:#x}"


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
    """{"kind", "core_design", "instruction_sets", "int8_dot_product"} for reports and manifests."""
    return {"kind": cpu_kind(flags), "core_design": core_design(), "instruction_sets": instruction_sets(flags),
            "int8_dot_product": has_int8_dot_product(flags)}


def missing_requirements(flags=None, x86=None):
    """The features TensorFlow needs that this CPU lacks (empty when fine or unknown)."""
    flags = cpu_flags() if flags is None else flags
    x86 = is_x86() if x86 is None else x86
    if not x86 or not flags:
        return []
    return [f for f in REQUIRED_X86_FLAGS if f not in flags]
