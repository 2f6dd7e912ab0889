"""The TF Serving gate: a SavedModel as TF Serving runs it, compared with Keras.

:func:`tf1_check` (part of ``export.export``): one fresh process
(``export.savedmodel.session``: TF1 session loader, XLA disabled as in a
stock ``tensorflow_model_server``) runs ``serving_default`` on both
validation batches and every text signature on its sample texts; the
outputs come back through an ``.npz`` and are compared here, per output,
with the Keras model (``max_abs_diff`` within ``atol``; labels, masks and
generated text identical). A SavedModel TF Serving could not load or run
fails the export.

:func:`check_savedmodel` checks an existing export folder without the Keras
model (files complete, loads, every signature runs)::

    python -m export.savedmodel.serving_check artifacts/gpt2         # or .../savedmodel/<name>[/1]
"""

import argparse
import os
import sys

import numpy as np

from export.errors import ExportError
from export.savedmodel.session import XLA_SIGNATURES, file_problems, run_in_subprocess, run_many_in_subprocess

LOADER = "tf.compat.v1.saved_model.loader.load in a tf.compat.v1.Session, XLA compilation disabled"


def _compare_batches(outputs, signature, references, atol):
    per_output = {}
    for i, expected in enumerate(references):
        for name, reference in expected.items():
            got = outputs.get(f"{signature}/{i}/{name}")
            if got is None or got.shape != reference.shape:
                diff = float("inf")
            else:
                diff = float(np.max(np.abs(got.astype(np.float32) - reference))) if reference.size else 0.0
            per_output[name] = max(per_output.get(name, 0.0), diff if np.isfinite(diff) else float("inf"))
    rows = {n: {"max_abs_diff": d, "passed": bool(d <= atol)} for n, d in per_output.items()}
    return {"outputs": rows, "batches": len(references), "passed": all(r["passed"] for r in rows.values())}


def server_requirements(signature_names):
    """{signature: what TF Serving needs to run it}: recorded in the manifest."""
    return {name: ("tensorflow_model_server --xla_cpu_compilation_enabled=true" if name in XLA_SIGNATURES
                   else "stock tensorflow_model_server (no XLA)") for name in signature_names}


def tf1_check(info, path, signature_names, batches, references, atol, cases=None):
    """Run the SavedModel at ``path`` through the TF1 session loader; -> the check record.

    ``batches``/``references``: the validation batches and Keras' outputs on
    them (``serving_default``); text signatures use ``text_signatures.text_cases``
    (pass ``cases`` when already computed). The record: {"loader", "passed",
    "signatures": {name: {...}}, "error"?}.
    """
    from export.savedmodel.text_signatures import compare_text, text_cases

    feeds = {"serving_default": batches}
    if cases is None:
        cases = text_cases(info, signature_names) if info.tokenizer is not None else {}
    feeds.update({name: [case["inputs"]] for name, case in cases.items() if name not in XLA_SIGNATURES})
    summary, outputs = run_in_subprocess(path, feeds)
    record = {"loader": LOADER, "passed": False, "signatures": {}}
    if summary.get("error"):
        record["error"] = summary["error"]
        return record
    for name, ran in summary["signatures"].items():
        if "skipped" in ran:
            record["signatures"][name] = {"passed": None, "skipped": ran["skipped"]}
        elif "error" in ran:
            record["signatures"][name] = {"passed": False, "error": ran["error"]}
        elif name == "serving_default":
            record["signatures"][name] = _compare_batches(outputs, name, references, atol)
        else:
            got = {k.split("/", 2)[2]: v for k, v in outputs.items() if k.startswith(f"{name}/0/")}
            record["signatures"][name] = compare_text(name, got, cases[name]["expected"], atol)
    for name in XLA_SIGNATURES:
        if name in signature_names:
            record["signatures"][name] = {"passed": None, "skipped": "needs XLA: served only with "
                                          "--xla_cpu_compilation_enabled=true (checked by the TF2 loader)"}
    checked = [s for s in record["signatures"].values() if s["passed"] is not None]
    record["passed"] = bool(checked) and all(s["passed"] for s in checked)
    record["load_seconds"] = summary.get("load_seconds")
    return record


def failure_summary(record):
    """One line naming what failed in a :func:`tf1_check` record."""
    if record.get("error"):
        return record["error"]
    parts = []
    for name, check in record["signatures"].items():
        if check["passed"] is False:
            failed = [o for o, row in check.get("outputs", {}).items()
                      if not (row["passed"] if isinstance(row, dict) else True)]
            parts.append(f"{name}: {check.get('error') or ', '.join(failed) or 'outputs differ'}")
    return "; ".join(parts)


def savedmodel_folders(path):
    """The SavedModel folders under an export folder, ``savedmodel/<name>`` or a version folder."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isfile(os.path.join(path, "saved_model.pb")) or os.path.isdir(os.path.join(path, "variables")):
        return [path]
    root = os.path.join(path, "savedmodel") if os.path.isdir(os.path.join(path, "savedmodel")) else path
    found = []
    for model in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        folder = os.path.join(root, model)
        if os.path.isdir(folder):
            versions = [v for v in os.listdir(folder) if v.isdigit() and os.path.isdir(os.path.join(folder, v))]
            found += [os.path.join(folder, v) for v in sorted(versions, key=int)]
            if not versions and model.isdigit():
                found.append(folder)
    return found


def check_savedmodel(path):
    """Check the SavedModel(s) at ``path`` as TF Serving would load them; -> {folder: summary}.

    ``path``: an export folder, its ``savedmodel/<name>`` folder or a version
    folder. Each SavedModel's files are checked first (a missing or empty
    ``saved_model.pb``, ``variables/variables.index`` or weights shard is
    named), then it is loaded in a fresh process by the TF1 session loader
    with XLA off and every signature runs on a small default batch (strings:
    ``savedmodel_session.DEFAULT_TEXTS``). Raises ExportError naming the
    folder, file or signature that fails.
    """
    folders = savedmodel_folders(path)
    if not folders:
        raise ExportError(f"No SavedModel under {os.fspath(path)!r} (expected savedmodel/<name>/<version>/saved_model.pb).")
    for folder in folders:
        problems = file_problems(folder)
        if problems:
            raise ExportError("SavedModel folder is incomplete: " + "; ".join(problems))
    results = {}
    for folder, (summary, _) in zip(folders, run_many_in_subprocess([(f, None) for f in folders])):
        failed = {k: v["error"] for k, v in summary["signatures"].items() if "error" in v}
        if summary.get("error") or failed:
            detail = summary.get("error") or "; ".join(f"{k}: {v}" for k, v in failed.items())
            raise ExportError(f"SavedModel {folder!r} fails under the TF1 session loader: {detail}")
        results[folder] = summary
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check exported SavedModels as TF Serving loads them.")
    parser.add_argument("path", help="an export folder, savedmodel/<name> or savedmodel/<name>/<version>")
    args = parser.parse_args(argv)
    try:
        results = check_savedmodel(args.path)
    except ExportError as error:
        print(f"FAILED: {error}")
        return 1
    print(format_results(results))
    return 0


def format_results(results):
    """One line per SavedModel of :func:`check_savedmodel`'s result: its signatures and how they ran."""
    lines = []
    for folder, summary in results.items():
        ran = ", ".join(f"{k} ({'skipped: ' + v['skipped'] if 'skipped' in v else 'ok'})"
                        for k, v in summary["signatures"].items())
        lines.append(f"ok {folder}: {ran}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
