"""zoo.compile_cache: XLA's persistent cache (opt-in), one folder per CPU feature set."""

import os
import subprocess
import sys

from zoo import compile_cache

AVX2 = frozenset({"avx", "avx2", "fma"})
AVX512 = AVX2 | {"avx512f", "avx512_vnni"}


def test_one_folder_per_cpu_feature_set_and_tensorflow():
    assert compile_cache.cache_key(AVX2, "2.21.0") == compile_cache.cache_key(set(AVX2), "2.21.0")
    assert compile_cache.cache_key(AVX2, "2.21.0") != compile_cache.cache_key(AVX512, "2.21.0")
    assert compile_cache.cache_key(AVX2, "2.21.0") != compile_cache.cache_key(AVX2, "2.22.0")


def test_configure_points_tensorflow_at_this_machines_folder(tmp_path):
    environ = {"ZOO_XLA_CACHE": "1", "ZOO_XLA_CACHE_DIR": str(tmp_path), "TF_XLA_FLAGS": "--tf_xla_auto_jit=0"}
    directory = compile_cache.configure(environ)
    assert os.path.dirname(directory) == str(tmp_path) and os.path.isdir(directory)
    assert environ["TF_XLA_FLAGS"] == f"--tf_xla_auto_jit=0 {compile_cache.FLAG}={directory}"


def test_the_user_decides(tmp_path):
    for off in ({"ZOO_XLA_CACHE_DIR": str(tmp_path)}, {"ZOO_XLA_CACHE": "0", "ZOO_XLA_CACHE_DIR": str(tmp_path)}):
        assert compile_cache.configure(off) is None and "TF_XLA_FLAGS" not in off and not os.listdir(tmp_path)
    own = {"TF_XLA_FLAGS": f"{compile_cache.FLAG}=/their/cache --other", "ZOO_XLA_CACHE_DIR": str(tmp_path)}
    assert compile_cache.configure(own) == "/their/cache"
    assert own["TF_XLA_FLAGS"] == f"{compile_cache.FLAG}=/their/cache --other"
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    unwritable = {"ZOO_XLA_CACHE": "1", "ZOO_XLA_CACHE_DIR": str(blocked)}
    assert compile_cache.configure(unwritable) is None and "TF_XLA_FLAGS" not in unwritable


GENERATE = """
import keras, numpy as np, zoo
keras.utils.set_random_seed(0)
model = zoo.Gpt(vocabulary_size=30, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                max_sequence_length=16)
print(zoo.generate(model, np.array([[1, 2, 3]], "int32"), max_new_tokens=4))
"""


def test_a_second_process_loads_what_the_first_compiled(tmp_path):
    environ = {**os.environ, "ZOO_XLA_CACHE": "1", "ZOO_XLA_CACHE_DIR": str(tmp_path)}
    environ.pop("TF_XLA_FLAGS", None)

    def run():
        done = subprocess.run([sys.executable, "-c", GENERATE], env=environ, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        files = {os.path.join(root, name): os.path.getmtime(os.path.join(root, name))
                 for root, _, names in os.walk(tmp_path) for name in names}
        return done.stdout, files

    tokens, compiled = run()
    assert compiled, "the first process wrote no compiled executable"
    assert len({os.path.dirname(path) for path in compiled}) == 1  # this machine's one folder
    tokens_again, after = run()
    assert tokens_again == tokens
    assert after == compiled  # loaded, nothing recompiled or rewritten


def test_cold_measurements_get_an_environment_without_the_cache():
    environ = {"TF_XLA_FLAGS": f"--tf_xla_auto_jit=0 {compile_cache.FLAG}=/cache", "PATH": "/bin"}
    assert compile_cache.without_cache(environ) == {"TF_XLA_FLAGS": "--tf_xla_auto_jit=0", "PATH": "/bin",
                                                    "ZOO_XLA_CACHE": "0"}
    assert "TF_XLA_FLAGS" not in compile_cache.without_cache({"TF_XLA_FLAGS": f"{compile_cache.FLAG}=/c"})
