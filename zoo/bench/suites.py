"""Benchmark suites: JSON files that say what to measure, checked before anything runs.

A suite is data, so users can write their own (``zoo bench --suite my.json``)::

    {
      "name": "smoke",
      "description": "one line",
      "warmup": 1,                    # untimed calls per shape after the first (compiling) call
      "iterations": 5,                # timed calls per shape (fewer if max_seconds runs out)
      "max_seconds": 3,               # time budget per shape for the timed calls
      "timeout_seconds": 300,         # a case (model x runtime, in its own process) is killed after this
      "runtimes": ["keras-eager", "ort-cpu", "keras-hub", ...],  # default for every model entry
      "models": [
        {"model": "bert-tiny", "task": "forward", "batch_sizes": [1, 4], "sequence_lengths": [32]},
        {"model": "gpt-nano", "task": "generate", "batch_sizes": [1], "sequence_lengths": [16],
         "new_tokens": [16], "overrides": {"num_layers": 2}, "runtimes": [...]}
      ]
    }

``task`` is ``forward`` (one model call on (batch, length) ids) or
``generate`` (greedy decoding: a prompt of ``sequence_lengths`` tokens, then
``new_tokens`` tokens). Named suites ship inside the package, in
``zoo/bench/suites/NAME.json`` (package data, so any install has them).
Every problem is reported at once, with the valid choices, before any model
is built.
"""

import copy
import json
import os

from zoo.bench.runtimes import RUNTIMES, TASKS

SUITES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suites")
DEFAULTS = {"warmup": 2, "iterations": 20, "max_seconds": 10.0, "timeout_seconds": 900, "seed": 0}
ENTRY_KEYS = {"model", "task", "batch_sizes", "sequence_lengths", "new_tokens", "overrides", "runtimes", "label"}
SUITE_KEYS = {"name", "description", "runtimes", "models"} | set(DEFAULTS)


class SuiteError(ValueError):
    """A suite that cannot run: unknown suite, model, runtime or a malformed field."""


def list_suites():
    """Names of the suites shipped in ``zoo/bench/suites``."""
    if not os.path.isdir(SUITES_DIR):
        return []
    return sorted(f[:-5] for f in os.listdir(SUITES_DIR) if f.endswith(".json"))


def suite_path(name_or_path):
    """The JSON file for a suite name or a path; SuiteError listing the valid names otherwise."""
    text = os.fspath(name_or_path)
    if os.path.isfile(text):
        return text
    candidate = os.path.join(SUITES_DIR, f"{text}.json")
    if os.path.isfile(candidate):
        return candidate
    raise SuiteError(
        f"Unknown suite {text!r}: not a file and not a shipped suite. "
        f"Valid suites: {', '.join(list_suites()) or '(none found in ' + SUITES_DIR + ')'}; "
        "or pass the path of a suite JSON file."
    )


def load_suite(name_or_path):
    """Read and validate a suite; returns a dict with defaults filled in."""
    if isinstance(name_or_path, dict):
        raw, source = copy.deepcopy(name_or_path), "<dict>"
    else:
        source = suite_path(name_or_path)
        try:
            with open(source, encoding="utf-8") as file:
                raw = json.load(file)
        except json.JSONDecodeError as error:
            raise SuiteError(f"Suite file {source!r} is not valid JSON: {error}.") from None
    suite = validate_suite(raw, source)
    suite["source"] = source
    return suite


def _positive_ints(value, where, problems, allow_empty=False):
    if not isinstance(value, list) or (not value and not allow_empty) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        problems.append(f"{where} must be a non-empty list of positive integers, got {value!r}")
        return []
    return value


def _context_problems(entry, presets):
    """Shapes longer than the model's context (prompt + new tokens for generation), named."""
    preset = presets.get(entry["model"])
    if preset is None:
        return []
    context = {**preset.config, **entry["overrides"]}.get("max_sequence_length") or 0
    if not context:
        return []
    new = max(entry["new_tokens"] or [0])
    longest = max(entry["sequence_lengths"] or [0])
    source_side = preset.family == "seq2seq"  # the source and the target each have their own context
    needed = longest if source_side else longest + new
    if needed <= context and (not source_side or 1 + new <= context):
        return []
    what = "sequence length" if entry["task"] == "forward" else (
        "source length / 1 + new tokens" if source_side else "prompt + new tokens")
    return [f"{entry['label']!r}: {what} up to {max(needed, 1 + new if source_side else 0)} exceeds "
            f"the model's context (max_sequence_length {context}); use shorter lengths"]


def validate_suite(raw, source="<dict>"):
    """Check every field of ``raw``; raise one SuiteError naming every problem."""
    from zoo.presets import PRESETS

    problems = []
    if not isinstance(raw, dict):
        raise SuiteError(f"Suite {source!r} must be a JSON object with a 'models' list.")
    unknown = sorted(set(raw) - SUITE_KEYS)
    if unknown:
        problems.append(f"unknown suite field(s) {unknown}; valid: {', '.join(sorted(SUITE_KEYS))}")
    suite = {**DEFAULTS, **{k: v for k, v in raw.items() if k in SUITE_KEYS}}
    suite.setdefault("name", os.path.splitext(os.path.basename(source))[0])
    for key in ("warmup", "iterations", "timeout_seconds", "max_seconds"):
        value = suite[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < (0 if key == "warmup" else 1e-9):
            problems.append(f"{key} must be a {'non-negative' if key == 'warmup' else 'positive'} number, got {value!r}")
    default_runtimes = suite.get("runtimes", list(RUNTIMES))
    entries = raw.get("models")
    if not isinstance(entries, list) or not entries:
        problems.append("'models' must be a non-empty list of model entries")
        entries = []
    checked = []
    for i, entry in enumerate(entries):
        where = f"models[{i}]"
        if not isinstance(entry, dict) or "model" not in entry:
            problems.append(f"{where} must be an object with at least a 'model' name")
            continue
        where = f"models[{i}] ({entry['model']!r})"
        bad_keys = sorted(set(entry) - ENTRY_KEYS)
        if bad_keys:
            problems.append(f"{where}: unknown field(s) {bad_keys}; valid: {', '.join(sorted(ENTRY_KEYS))}")
        if entry["model"] not in PRESETS:
            problems.append(f"{where}: unknown model; valid models: {', '.join(sorted(PRESETS))}")
        task = entry.get("task", "forward")
        if task not in TASKS:
            problems.append(f"{where}: unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
        runtimes = entry.get("runtimes", default_runtimes)
        if not isinstance(runtimes, list) or not runtimes:
            problems.append(f"{where}: runtimes must be a non-empty list")
            runtimes = []
        bad = [r for r in runtimes if r not in RUNTIMES]
        if bad:
            problems.append(f"{where}: unknown runtime(s) {bad}; valid runtimes: {', '.join(RUNTIMES)}")
        overrides = entry.get("overrides", {})
        if not isinstance(overrides, dict):
            problems.append(f"{where}: overrides must be an object of config fields")
            overrides = {}
        checked.append({
            "model": entry["model"],
            "label": entry.get("label") or entry["model"],
            "task": task,
            "batch_sizes": _positive_ints(entry.get("batch_sizes", [1]), f"{where}: batch_sizes", problems),
            "sequence_lengths": _positive_ints(entry.get("sequence_lengths", [32]), f"{where}: sequence_lengths", problems),
            "new_tokens": _positive_ints(entry.get("new_tokens", [16]), f"{where}: new_tokens", problems)
            if task == "generate" else [0],
            "overrides": overrides,
            "runtimes": list(dict.fromkeys(r for r in runtimes if r in RUNTIMES)),
        })
    for entry in checked:
        problems += _context_problems(entry, PRESETS)
    labels = [e["label"] for e in checked]
    duplicates = sorted({(lab) for lab in labels if labels.count(lab) > 1})
    if duplicates:
        problems.append(f"model entries share a label {duplicates}: give each a distinct 'label'")
    if problems:
        raise SuiteError(f"Suite {source!r} is not valid:\n  - " + "\n  - ".join(problems))
    suite["models"] = checked
    return suite


def select(suite, models=None, runtimes=None):
    """Narrow a loaded suite to some model labels/names and runtimes (CLI --models/--runtimes)."""
    suite = copy.deepcopy(suite)
    if models:
        known = sorted({e["label"] for e in suite["models"]} | {e["model"] for e in suite["models"]})
        bad = [m for m in models if m not in known]
        if bad:
            raise SuiteError(f"Model(s) {bad} are not in suite {suite['name']!r}; its models: {', '.join(known)}.")
        suite["models"] = [e for e in suite["models"] if e["label"] in models or e["model"] in models]
    if runtimes:
        bad = [r for r in runtimes if r not in RUNTIMES]
        if bad:
            raise SuiteError(f"Unknown runtime(s) {bad}; valid runtimes: {', '.join(RUNTIMES)}.")
        for entry in suite["models"]:
            entry["runtimes"] = [r for r in entry["runtimes"] if r in runtimes]
        suite["models"] = [e for e in suite["models"] if e["runtimes"]]
        if not suite["models"]:
            raise SuiteError(f"No model in suite {suite['name']!r} uses runtime(s) {runtimes}.")
    return suite
