"""Build a suite entry's model once and write every artifact its runtimes load.

Runs in its own process (see ``zoo.bench.worker``). The model is built from
its preset with random weights (seeded; speed does not depend on the
weights, and nothing is downloaded). Every matrix is then redrawn with its
own values: the presets' seeded initializers give many kernels identical
values, which tf2onnx deduplicates into one shared tensor - an artifact
unrealistically small and cache-friendly, i.e. a flattering benchmark.
The model is saved as ``model.keras`` (what the
Keras runtimes load), and exported with ``export.export`` - SavedModel,
ONNX, the fused and int8 ONNX graphs, the ONNX decoders for generation - so
each artifact is validated against Keras exactly as users' exports are.
For the peers that carry the model's weights (``keras-lstm``,
``torch-lstm``) it also writes the model's logits on every bench input
(``zoo.bench.reference``), which they check parity with.

Next to them, ``reference.npz`` holds the Keras model's outputs on one small
fixed batch (``zoo.bench.reference.write_batch``): a runtime that reads an artifact other
than the way export validated it (OpenVINO, at its own precision) measures
its own max abs difference from Keras on it.

If the full export fails (say the fused graph cannot be built), the
artifacts are retried in smaller groups, so one broken artifact only fails
the runtimes that need it; each failure is recorded with its error.
"""

import dataclasses
import os
import time

from zoo.bench import reference
from zoo.disk import size_on_disk

EXPORT_ATOL = 1e-3  # random-weight models at benchmark sizes; the measured diff is reported per artifact


def distinct_weights(model, seed=0):
    """Redraw every matrix (kernels, embeddings) with its own seeded values at its current scale."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if len(weight.shape) >= 2:
            value = np.asarray(weight)
            scale = float(value.std()) or 0.02
            weight.assign(rng.normal(0.0, scale, weight.shape).astype(value.dtype))


QUANTIZED = {"onnx_int8": "int8", "onnx_int4": "int4", "onnx_decoder_int8": "int8", "onnx_decoder_int4": "int4"}
DECODERS = {"onnx_decoder", "onnx_decoder_optimized", "onnx_decoder_int8", "onnx_decoder_int4"}


def _attempts(needed):
    """Export option sets to try, largest first: {"formats", "optimize", "quantize", "decoders"}.

    Quantized decoders are made from the fused decoder (``optimize``), as users'
    exports with ``optimize=True`` make them.
    """
    formats = [f for f in ("savedmodel", "onnx") if f in needed or (f == "onnx" and needed & (
        {"onnx_optimized"} | set(QUANTIZED) | DECODERS))]
    if not formats:
        return []
    modes = sorted({mode for key, mode in QUANTIZED.items() if key in needed})
    full = {"formats": formats,
            "optimize": bool(needed & {"onnx_optimized", "onnx_decoder_optimized", "onnx_decoder_int8",
                                       "onnx_decoder_int4"}),
            "quantize": modes or None,
            "decoders": bool(needed & DECODERS)}
    attempts = [full]
    if "onnx" in formats:
        extras = [("optimize", True), ("quantize", modes or None), ("decoders", True)]
        if any(full[k] for k, _ in extras):
            attempts.append({**full, "optimize": False, "quantize": None, "decoders": False})
            for key, value in extras:
                if full[key]:
                    attempts.append({"formats": ["onnx"], "optimize": False, "quantize": None,
                                     "decoders": False, key: value})
        if "savedmodel" in formats:
            attempts.append({"formats": ["savedmodel"], "optimize": False, "quantize": None, "decoders": False})
    return attempts


def _produces(options):
    """The artifact keys an export with ``options`` writes."""
    modes = options["quantize"] or []
    keys = set(options["formats"])
    keys |= {f"onnx_{mode}" for mode in modes}
    if options["optimize"]:
        keys.add("onnx_optimized")
    if options["decoders"]:
        keys |= {"onnx_decoder", "onnx_encoder"} | {f"onnx_decoder_{mode}" for mode in modes}
        if options["optimize"]:
            keys.add("onnx_decoder_optimized")
    return keys


def _one_line(error):
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


KILLED = "the prepare process died during this export (see the prepare step's error)"


def prepare(preset, overrides, folder, needed, seed=0, checkpoint=None, shapes=()):
    """Build ``preset`` and write the ``needed`` artifacts under ``folder``; return the model's facts.

    ``needed``: artifact keys (``savedmodel``, ``onnx``, ``onnx_optimized``,
    ``onnx_int8``, ``onnx_decoder``, ``reference_logits``: the model's logits
    on the bench inputs of every (batch, length, ...) in ``shapes``, which
    the peers carrying its weights compare with, see ``zoo.bench.reference``).
    ``checkpoint(facts)``, if given, is
    called whenever an artifact is written, so a process killed during a
    later export (out of memory) still leaves what was done. Returns {"family", "config",
    "parameters", "artifacts": {key: {"path", "size_bytes", "max_abs_diff"}},
    "errors": {key: message}, "export_seconds"}.
    """
    import keras

    import zoo
    from zoo.presets import get_preset

    keras.utils.set_random_seed(seed)
    family = get_preset(preset).family
    model = zoo.build(preset, **{"dropout": 0.0, **overrides})
    distinct_weights(model, seed)
    os.makedirs(folder, exist_ok=True)
    keras_path = os.path.join(folder, "model.keras")
    model.save(keras_path)
    facts = {
        "family": family,
        "config": {k: v for k, v in dataclasses.asdict(model.config).items() if isinstance(v, (int, float, str, bool))},
        "parameters": int(model.count_params()),
        "artifacts": {"keras": {"path": keras_path, "size_bytes": size_on_disk(keras_path), "max_abs_diff": None}},
        "errors": {},
        "export_seconds": {},
    }
    if set(needed) & {"onnx", "onnx_int8"}:
        facts["reference"] = reference.write_batch(model, family, facts["config"], os.path.join(folder, "reference.npz"))
    wanted = set(needed) - {"keras", "none"}
    if reference.ARTIFACT in wanted:
        wanted.discard(reference.ARTIFACT)
        try:
            path = reference.write(model, family, facts["config"], shapes, os.path.join(folder, reference.ARTIFACT))
            facts["artifacts"][reference.ARTIFACT] = {"path": path, "size_bytes": size_on_disk(path),
                                                      "max_abs_diff": None}
        except Exception as error:  # recorded: only the peers that compare with it fail
            facts["errors"][reference.ARTIFACT] = _one_line(error)
    if family == "seq2seq" and wanted & DECODERS:
        wanted.add("onnx_encoder")
    remaining = set(wanted)
    if checkpoint is not None:
        checkpoint({**facts, "errors": {key: KILLED for key in remaining}})
    from export import export

    for number, options in enumerate(_attempts(wanted)):
        produces = _produces(options)
        if not produces & remaining:
            continue
        start = time.perf_counter()
        try:
            report = export(model, os.path.join(folder, f"export{number}"), atol=EXPORT_ATOL, force=True, **options)
        except Exception as error:  # recorded; smaller groups are tried next
            for key in produces & remaining:
                facts["errors"][key] = _one_line(error)
            continue
        facts["export_seconds"][f"export{number}"] = round(time.perf_counter() - start, 2)
        for key, artifact in report["artifacts"].items():
            if key in remaining:
                diffs = [o["max_abs_diff"] for o in artifact["validation"].get("outputs", {}).values()]
                facts["artifacts"][key] = {"path": artifact["path"], "size_bytes": artifact["size_bytes"],
                                           "max_abs_diff": max(diffs) if diffs else None}
                remaining.discard(key)
                facts["errors"].pop(key, None)
        if checkpoint is not None:
            checkpoint({**facts, "errors": {**facts["errors"], **{key: KILLED for key in remaining}}})
        if not remaining:
            break
    for key in remaining:
        facts["errors"].setdefault(key, "export did not produce this artifact")
    return facts
