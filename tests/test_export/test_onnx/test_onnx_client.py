"""The README's greedy clients, run exactly as written in a process that
cannot import tensorflow, keras, zoo or export (onnxruntime, numpy and the
standard library only), give ``zoo.generate``'s greedy tokens."""

import json
import pathlib
import re
import subprocess
import sys

import pytest

import zoo.generation
from harness import REPO_ROOT
from serving_exports import exported

README = pathlib.Path(REPO_ROOT) / "README.md"
BLOCKED = ("tensorflow", "keras", "zoo", "export", "tf2onnx", "keras_hub", "tensorflow_text")

# Installed first thing in the client's interpreter (sitecustomize runs at startup).
SITECUSTOMIZE = f"""
import sys

class RefuseFrameworks:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError(f"{{name}} is blocked: the client may use onnxruntime and numpy only")
        return None

sys.meta_path.insert(0, RefuseFrameworks())
"""


def readme_snippet(name):
    """The python block between ``<!-- client:NAME -->`` and ``<!-- /client:NAME -->`` in the README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- client:{name} -->\s*```python\n(.*?)```\s*<!-- /client:{name} -->", text, re.S)
    assert match, f"README has no client:{name} block"
    return match.group(1)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """(folder with the blocking sitecustomize, environment that loads it)."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "blocker").mkdir()
    (folder / "blocker" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder, {"PYTHONPATH": str(folder / "blocker"), "PATH": "/usr/bin:/bin"}


def run_client(sandbox, name, *args):
    folder, env = sandbox
    script = folder / f"{name}_client.py"
    script.write_text(readme_snippet(name))
    result = subprocess.run([sys.executable, str(script), *map(str, args)], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_sandbox_refuses_the_frameworks(sandbox):
    folder, env = sandbox
    for module in ("tensorflow", "keras", "zoo", "export.onnx.generate"):
        result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=folder, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "is blocked" in result.stderr, module
    ok = subprocess.run([sys.executable, "-c", "import onnxruntime, numpy"], cwd=folder, env=env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr[-2000:]


def test_readme_gpt_client_matches_zoo_generate(sandbox):
    model, _, folder = exported("gpt")
    prompts = [[1, 2, 3, 4, 5, 6, 7], [9, 4]]  # unequal lengths: left padding and per-row positions
    expected = zoo.generation.generate(model, prompts, max_new_tokens=12, sampler="greedy")
    assert run_client(sandbox, "gpt", folder, json.dumps(prompts), 12) == expected
    stop = expected[1][2]  # a token row 1 emits: that row stops there, row 0 goes on
    expected_stop = zoo.generation.generate(model, prompts, max_new_tokens=12, sampler="greedy",
                                            stop_token_ids=[stop])
    assert len(expected_stop[1]) < 12
    assert run_client(sandbox, "gpt", folder, json.dumps(prompts), 12, stop) == expected_stop


def test_readme_seq2seq_client_matches_zoo_generate(sandbox):
    model, _, folder = exported("seq2seq")
    sources = [[1, 2, 3, 4, 5, 6], [7, 8], [9, 10, 11, 12]]
    expected = zoo.generation.generate(model, sources, max_new_tokens=10, sampler="greedy",
                                       start_token_id=1, stop_token_ids=[2])
    assert run_client(sandbox, "seq2seq", folder, json.dumps(sources), 10, 2) == expected
