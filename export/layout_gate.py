"""The layout gate: an ONNX artifact must agree with its declared contract and its Triton entry.

``export`` runs it on every ONNX artifact right after writing it: the
graph's inputs and outputs against ``export.onnx.contract`` (names, dtypes,
named axes and fixed sizes), and the entry's ``config.pbtxt`` against
Triton's schema and the graph (``export.triton.config_check``). A disagreement
fails the artifact as a numerical difference would - nothing is written -
with each problem naming the file. The manifest's signature of the artifact
gets the declaration (axes, meaning, usage).
"""

import os

from export.onnx import contract as onnx_contract
from export.triton import config_check


def check(info, key, model_path, signature, root):
    """-> (the signature annotated with the declaration, problems naming files relative to ``root``)."""
    contract = onnx_contract.for_artifact(info, key)
    relative = os.path.relpath(model_path, root).replace(os.sep, "/")
    problems = [f"{relative}: {p}" for p in contract.mismatches(signature)]
    entry = os.path.dirname(os.path.dirname(model_path))
    problems += [p.replace(os.path.join(root, ""), "") for p in config_check.check_entry(entry, signature)]
    return contract.annotate(signature), problems


def gate(info, key, model_path, signatures, validation, root):
    """-> (``signatures`` with the declaration, ``validation`` with a ``layout`` record;
    failed and gated when there is a problem)."""
    annotated, problems = check(info, key, model_path, signatures["model"], root)
    schema = "tritonclient ModelConfig" if config_check.triton_model_config() else "zoo text reader"
    validation = {**validation, "layout": {"passed": not problems, "triton_schema": schema, "problems": problems}}
    if problems:
        message = "layout: " + "; ".join(problems)
        validation.update(passed=False, gate=True,
                          error=f"{validation['error']}; {message}" if validation.get("error") else message)
    return {**signatures, "model": annotated}, validation
