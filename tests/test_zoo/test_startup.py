"""Start-up: an unsupported Python or CPU is refused with what is needed; the
native libraries' chatter is filtered from stderr while real lines survive;
``import zoo`` and the CLI start quietly in a fresh process."""

import os
import subprocess
import sys

import pytest

from zoo import cpu, startup

AVX512_VNNI = frozenset("fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16".split())
AVX2_ONLY = frozenset("fpu sse4_2 avx avx2 fma f16c".split())
NO_AVX = frozenset("fpu sse4_2".split())


def test_cpu_kinds_from_flags():
    assert cpu.cpu_kind(AVX512_VNNI) == "AVX-512/VNNI" if cpu.is_x86() else True
    assert cpu.cpu_kind(AVX2_ONLY) == "AVX2-only" if cpu.is_x86() else True
    assert cpu.has_int8_dot_product(AVX512_VNNI) and not cpu.has_int8_dot_product(AVX2_ONLY)
    assert cpu.instruction_sets(AVX2_ONLY) == ["sse4_2", "avx", "avx2", "fma", "f16c"]
    assert cpu.describe()["kind"] == cpu.cpu_kind()


def test_core_design_tells_machines_of_one_kind_apart(tmp_path):
    """Zen 4 and Zen 5 are both AVX-512/VNNI, at about half and full float32 matrix speed."""
    amd = {"vendor_id": "AuthenticAMD"}
    assert cpu.core_design({**amd, "cpu family": "25", "model": "17"}) == "AMD Zen 4"
    assert cpu.core_design({**amd, "cpu family": "26", "model": "2"}) == "AMD Zen 5"
    assert cpu.core_design({**amd, "cpu family": "25", "model": "1"}) == "AMD Zen 3"
    assert cpu.core_design({"vendor_id": "GenuineIntel", "cpu family": "6", "model": "143"}) == \
        "Intel family 0x6 model 0x8f"
    assert cpu.core_design({}) == ""  # nothing known: said as nothing, not guessed
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 17\n"
                       "model name\t: AMD EPYC\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n")
    assert cpu.core_design(cpu.read_identity(str(cpuinfo))) == "AMD Zen 5"
    assert cpu.describe()["core_design"] == cpu.core_design()


def test_cpu_without_avx_is_refused_with_what_is_needed():
    with pytest.raises(startup.UnsupportedEnvironment, match=r"lacks AVX, which TensorFlow's x86-64 builds need"):
        startup.check_cpu(NO_AVX, x86=True)
    startup.check_cpu(AVX2_ONLY, x86=True)
    startup.check_cpu(NO_AVX, x86=False)  # other architectures: TensorFlow's own wheels decide
    startup.check_cpu(frozenset(), x86=True)  # unknown flags: nothing to refuse on


@pytest.mark.parametrize("version", [(3, 10), (3, 14)])
def test_unsupported_python_is_refused(version):
    with pytest.raises(startup.UnsupportedEnvironment, match=r"supports Python 3\.11 to 3\.13; this is Python"):
        startup.check_python(version)


def test_filter_drops_noise_and_keeps_real_lines():
    code = (
        "import os\n"
        "from zoo import startup\n"
        "with startup.quiet_native_logs():\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n')\n"
        "    os.write(2, b'I0000 00:00:1 1 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\\n')\n"
        "    os.write(2, b'E0000 00:00:1 1 something_real.cc:1] a real error\\n')\n"
        "print('done')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == ["E0000 00:00:1 1 something_real.cc:1] a real error"]


@pytest.mark.parametrize("command", [[sys.executable, "-c", "import zoo, export"],
                                     [sys.executable, "-m", "zoo.cli", "list"]])
def test_fresh_process_starts_quietly(command):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "ZOO_VERBOSE_STARTUP")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
