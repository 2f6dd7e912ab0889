"""``export.export``: every requested artifact, validated, with a manifest, written safely.

    report = export(model, "artifacts/gpt2", formats=["savedmodel", "onnx"])
    print(report)          # per artifact: path, size, max abs diff vs Keras per output, pass/fail

Layout of ``out_dir`` (servable as is)::

    manifest.json
    savedmodel/<name>/1/            TF Serving: --model_base_path=out_dir/savedmodel/<name>
    onnx/<name>/config.pbtxt        Triton:     --model-repository=out_dir/onnx
    onnx/<name>/1/model.onnx
    onnx/<name>_decoder/...         GPT / seq2seq: one step with past state in -> present out
    onnx/<name>_optimized/...       optimize=True: ORT fused graph
    onnx/<name>_int8/...            quantize="int8": dynamic int8 weights
    onnx/<name>_int4/...            quantize="int4": 4-bit weight-only (MatMulNBits)
    onnx/<name>_decoder_int8/...    the past-state decoder quantized likewise (also _int4),
                                    gated on the task (export.quality_gate)
    huggingface/<name>/             formats "huggingface": config.json + model.safetensors (transformers)

Everything is written to a temporary folder beside ``out_dir``, validated
against the Keras model, and moved into place only if every gated artifact
passes; otherwise nothing is left behind (``export.staging``).
"""

import os
import time

from export import huggingface, layout_gate, quality_gate, staging, task_metrics, validate
from export import inputs as inputs_lib
from export import manifest as manifest_lib
from export.arguments import DEFAULT_FORMATS, check_arguments, check_quality_limits
from export.errors import ValidationError
from export.model_info import describe
from export.onnx import conversion, decoders, generate
from export.onnx import optimize as onnx_optimize
from export.onnx import quantize as onnx_quantize
from export.onnx.contract import graph_signature
from export.onnx.opset import DEFAULT_OPSET
from export.report import ExportReport
from export.savedmodel import serving_check, serving_config, text_signatures, writer
from export.triton import repository
from zoo import cpu
from zoo.disk import size_on_disk

class _Run:
    """One export in progress: the staging folder, references and the report."""

    def __init__(self, info, staging_dir, out_dir, atol, opset, quality_limits=None):
        self.info, self.root, self.out_dir = info, staging_dir, out_dir
        self.atol, self.opset = atol, opset
        self.quality_limits = {**quality_gate.DEFAULT_LIMITS, **(quality_limits or {})}
        self.batches = inputs_lib.validation_batches(info)
        self.references = [validate.keras_outputs(info, b) for b in self.batches]
        self.artifacts = {}
        self.notes = []

    def final_path(self, path):
        return os.path.join(self.out_dir, os.path.relpath(path, self.root))

    def add(self, key, fmt, path, signatures, validation, seconds, **extra):
        if fmt == "onnx":  # its declared contract and its Triton entry, checked against the graph
            signatures, validation = layout_gate.gate(self.info, key, path, signatures, validation, self.root)
        self.artifacts[key] = {
            "format": fmt,
            "path": self.final_path(path),
            "size_bytes": size_on_disk(os.path.dirname(path) if fmt == "onnx" else path),
            "export_seconds": round(seconds, 2),
            "signatures": signatures,
            "validation": validation,
            **extra,
        }

    def savedmodel(self, generate_xla=True):
        start = time.perf_counter()
        folder = os.path.join(self.root, "savedmodel", self.info.name)
        path, signatures = writer.save_savedmodel(self.info, folder, generate_xla=generate_xla)
        seconds = time.perf_counter() - start
        result = validate.run_checked(validate.savedmodel_runner, path, self.references, self.batches, self.atol)
        self.add("savedmodel", "savedmodel", path, signatures, result, seconds)
        cases = None
        if self.info.tokenizer is not None:
            cases = text_signatures.text_cases(self.info, list(signatures))
            checks = text_signatures.check_text_signatures(self.info, path, self.atol, cases)
            self.artifacts["savedmodel"]["text_signatures"] = checks
            if not all(c["passed"] for c in checks.values()):
                result["passed"] = False
                result["text_signatures_failed"] = sorted(k for k, c in checks.items() if not c["passed"])
        self.tf_serving(path, signatures, result, cases)

    def tf_serving(self, path, signatures, result, cases):
        """The TF Serving gate (``export.savedmodel.serving_check``): the TF1 session loader in a
        fresh process, XLA off; then ``savedmodel/models.config`` for the server."""
        start = time.perf_counter()
        check = serving_check.tf1_check(self.info, path, list(signatures), self.batches, self.references,
                                        self.atol, cases)
        check["seconds"] = round(time.perf_counter() - start, 2)
        artifact = self.artifacts["savedmodel"]
        artifact["tf1_session"] = check
        if not check["passed"]:
            result["passed"] = False
            result["tf1_session_failed"] = serving_check.failure_summary(check)
            result.setdefault("error", f"TF1 session loader: {result['tf1_session_failed']}"[:400])
        config = serving_config.write_models_config(os.path.join(self.root, "savedmodel"),
                                                    self.final_path(os.path.join(self.root, "savedmodel")))
        artifact["serving"] = {
            "models_config": os.path.relpath(config, self.root).replace(os.sep, "/"),
            "signatures": serving_check.server_requirements(signatures),
        }

    def onnx(self, external_data):
        start = time.perf_counter()
        model, external = conversion.convert_model(self.info, self.opset, external_data)
        path = self._write_onnx(self.info.name, model, external)
        signature = {"model": graph_signature(model)}
        del model  # the weights are on disk; don't hold a second copy while ONNX Runtime loads them
        seconds = time.perf_counter() - start
        result = validate.run_checked(validate.onnx_runner, path, self.references, self.batches, self.atol)
        self.add("onnx", "onnx", path, signature, result, seconds,
                 opset=self.opset, external_data=bool(external))
        return path

    def _write_onnx(self, name, model, external_data=None):
        return repository.write_entry(os.path.join(self.root, "onnx"), name, model, external_data)

    def decoders(self):
        if self.info.spec.decoder is None:
            return
        start = time.perf_counter()
        models, check = decoders.export_decoder(self.info, self.opset, self.atol)
        paths = {part: self._write_onnx(f"{self.info.name}_{part}", model) for part, model in models.items()}
        seconds = time.perf_counter() - start
        result = self._decoder_check(lambda: check(paths))
        for part, model in models.items():
            self.add(f"onnx_{part}", "onnx", paths[part], {"model": graph_signature(model)},
                     result if part == "decoder" else {**result, "see": "onnx_decoder"},
                     seconds, opset=self.opset)
        return paths

    def _decoder_check(self, check):
        """``check()``'s validation record; a decoder that cannot run fails validation."""
        try:
            return check()
        except Exception as error:  # noqa: BLE001 - recorded as a failed validation
            return {"atol": self.atol, "passed": False, "outputs": {},
                    "error": f"{type(error).__name__}: {str(error).strip()[:300]}"}

    def optimized_decoder(self, decoder_path):
        """The GPT past-state decoder with fused attention (over its cache), checked
        like the plain one: greedy tokens identical to Keras, first logits within atol."""
        start = time.perf_counter()
        model, fusion = onnx_optimize.optimize_onnx(decoder_path, self.info)
        path = self._write_onnx(f"{self.info.name}_decoder_optimized", model)
        signature = {"model": graph_signature(model)}
        del model
        seconds = time.perf_counter() - start
        result = self._decoder_check(
            lambda: decoders.greedy_check(self.info, generate.GptRunner(path), self.atol))
        self.add("onnx_decoder_optimized", "onnx", path, signature, result, seconds,
                 opset=self.opset, fused_ops=fusion)
        return path

    def optimized(self, base_path):
        if self.info.spec.fusion is None:
            self.notes.append(f"optimize: no fusions apply to the {self.info.family} family; skipped")
            return base_path
        start = time.perf_counter()
        model, fusion = onnx_optimize.optimize_onnx(base_path, self.info)
        path = self._write_onnx(f"{self.info.name}_optimized", model)
        seconds = time.perf_counter() - start
        result = validate.run_checked(validate.onnx_runner, path, self.references, self.batches, self.atol)
        self.add("onnx_optimized", "onnx", path, {"model": graph_signature(model)}, result, seconds,
                 opset=self.opset, fused_ops=fusion)
        return path

    def quantized(self, base_path, mode):
        """``onnx_<mode>``: the forward graph quantized; logit deltas recorded, and a
        language model's held-out perplexity gated (``quality_limits``)."""
        start = time.perf_counter()
        key = f"{self.info.name}_{mode}"
        path = os.path.join(self.root, "onnx", key, "1", "model.onnx")
        model, settings = onnx_quantize.quantize(mode, base_path, path)
        self._write_onnx(key, model)
        seconds = time.perf_counter() - start
        run = validate.onnx_runner(path)
        result = validate.compare(self.references, run, self.batches, self.atol)
        result["gate"] = False  # quantized outputs are expected to differ: recorded, not gated
        delta = onnx_quantize.accuracy_delta(self.references, run, self.batches)
        task = task_metrics.task_delta(self.info, path)
        if task is not None:
            delta["task"] = task
            self._gate_perplexity(f"onnx_{mode}", task, result)
        self.add(f"onnx_{mode}", "onnx", path, {"model": graph_signature(model)}, result, seconds,
                 quantization={**settings, "exporting_cpu": cpu.describe(),
                               "source": os.path.relpath(base_path, self.root), **delta})

    def _gate_perplexity(self, key, task, result):
        if "keras" not in task or "perplexity" not in task.get("task", ""):
            return
        task.update(quality_gate.perplexity_verdict(task["keras"], task["artifact"], self.quality_limits))
        if not task["passed"]:
            result.update(gate=True, passed=False, error=quality_gate.describe_failure(key, task))

    def quantized_decoder(self, mode, decoder_paths):
        """``onnx_decoder_<mode>``: the past-state decoder (fused when there is one) quantized,
        gated on its task cost (``export.quality_gate``); the seq2seq encoder stays float."""
        start = time.perf_counter()
        source = decoder_paths.get("decoder_optimized") or decoder_paths["decoder"]
        key = f"{self.info.name}_decoder_{mode}"
        path = os.path.join(self.root, "onnx", key, "1", "model.onnx")
        model, settings = onnx_quantize.quantize(mode, source, path)
        self._write_onnx(key, model)
        signature = {"model": graph_signature(model)}
        del model
        seconds = time.perf_counter() - start
        quantized_paths = {**decoder_paths, "decoder": path}
        runner = (generate.GptRunner(path) if self.info.family == "gpt"
                  else generate.Seq2SeqRunner(decoder_paths["encoder"], path))
        result = self._decoder_check(lambda: decoders.greedy_check(self.info, runner, self.atol))
        result["gate"] = False  # tokens may differ from float: the task metric below is the gate
        quality = quality_gate.decoder_quality(self.info, decoder_paths, quantized_paths, self.quality_limits)
        if quality["measured"]:
            result.update(gate=True, passed=quality["passed"])
            if not quality["passed"]:
                result["error"] = quality_gate.describe_failure(f"onnx_decoder_{mode}", quality)
        self.add(f"onnx_decoder_{mode}", "onnx", path, signature, result, seconds, opset=self.opset,
                 quantization={**settings, "exporting_cpu": cpu.describe(),
                               "source": os.path.relpath(source, self.root), "task": quality})

    def fp16(self, base_path):
        start = time.perf_counter()
        model = onnx_optimize.to_fp16(base_path)
        path = self._write_onnx(f"{self.info.name}_fp16", model)
        seconds = time.perf_counter() - start
        try:  # float16 is meant for GPUs; on CPU not every kernel exists
            result = validate.run_checked(validate.onnx_runner, path, self.references, self.batches, self.atol)
        except Exception as error:  # noqa: BLE001 - recorded, not gated
            result = {"passed": False, "atol": self.atol, "outputs": {},
                      "note": f"could not run on CPU: {str(error).splitlines()[0][:200]}"}
        result["gate"] = False
        self.add("onnx_fp16", "onnx", path, {"model": graph_signature(model)}, result, seconds,
                 note="float16 for GPU execution providers; recorded, not gated")


def export(
    model,
    out_dir,
    formats=DEFAULT_FORMATS,
    optimize=False,
    quantize=None,
    opset=DEFAULT_OPSET,
    atol=None,
    force=False,
    name=None,
    decoders=True,
    fp16=False,
    external_data=None,
    generate_xla=True,
    quality_limits=None,
):
    """Export ``model`` to ``out_dir``; return an :class:`ExportReport`.

    Args:
        model: a zoo/Keras model, or a TextModel (``zoo.load(folder)``) whose
            tokenizer then goes into the SavedModel's text signatures.
        out_dir: the export folder; must not exist (or be empty) unless ``force``.
        formats: any of ``"savedmodel"``, ``"onnx"``, ``"huggingface"`` (a transformers
            checkpoint folder, BERT and GPT only: ``export.huggingface``); a list or
            comma-separated string.
        optimize: also write an ONNX Runtime-optimized (fused) ONNX graph.
        quantize: None, ``"int8"`` (dynamic int8), ``"int4"`` (4-bit weight-only,
            ``MatMulNBits``), or both (``"int8,int4"`` or a list): quantized ONNX
            graphs of the forward model and of the past-state decoders, their
            logit deltas and task metrics recorded (``export.onnx.quantize``).
        opset: ONNX opset (tf2onnx supports up to 18).
        atol: the largest max-abs-diff vs Keras an artifact may show (float32);
            default: the model's export spec's tolerance (1e-4 for every zoo family).
        force: replace an existing ``out_dir`` (atomically, after validation).
        name: the served model name (default: the Keras model's name).
        decoders: for GPT and seq2seq, also the ONNX decoder with past state.
        fp16: also write a float16 ONNX graph (for GPU providers).
        external_data: force (True) or forbid (False) ONNX external data;
            default: only when the weights exceed ~1.8 GB.
        generate_xla: with a tokenizer, GPT / LSTM LM / seq2seq SavedModels get
            ``generate_xla`` (XLA-compiled, for TF Serving started with
            ``--xla_cpu_compilation_enabled=true``) beside the XLA-free ``generate``.
        quality_limits: what quantization may cost on the task before the export
            fails (``export.quality_gate``): ``{"perplexity_increase": 0.02,
            "bleu_drop": 0.5}`` by default; raise them to accept more.
    Raises ExportError for bad arguments, ValidationError when an artifact
    differs from Keras beyond ``atol`` (nothing is written then).
    """
    formats, quantize, opset, atol = check_arguments(formats, quantize, atol, opset, optimize, fp16)
    quality_limits = check_quality_limits(quality_limits)
    info = describe(model, name=name)
    atol = info.spec.atol if atol is None else atol
    if "huggingface" in formats:
        huggingface.check(info)
    out_dir = staging.check_target(out_dir, force)
    with staging.staged_output(out_dir, force=force) as root:
        run = _Run(info, root, out_dir, atol, opset, quality_limits)
        if "huggingface" in formats:
            huggingface.write(run)
        if "savedmodel" in formats:
            run.savedmodel(generate_xla)
        if "onnx" in formats:
            base = run.onnx(external_data)
            decoder_paths = run.decoders() if decoders else None
            source = run.optimized(base) if optimize else base
            if optimize and decoder_paths and info.spec.fuses_decoder:
                decoder_paths["decoder_optimized"] = run.optimized_decoder(decoder_paths["decoder"])
            for mode in quantize:
                run.quantized(source, mode)
                if decoder_paths:
                    run.quantized_decoder(mode, decoder_paths)
            if fp16:
                run.fp16(base)
        report = ExportReport(
            name=info.name,
            out_dir=out_dir,
            passed=all(a["validation"]["passed"] or not a["validation"].get("gate", True)
                       for a in run.artifacts.values()),
            artifacts=run.artifacts,
            notes=run.notes,
            manifest=os.path.join(out_dir, manifest_lib.MANIFEST),
        )
        if not report["passed"]:
            failed = [k for k, a in run.artifacts.items()
                      if a["validation"].get("gate", True) and not a["validation"]["passed"]]
            quality = [run.artifacts[k]["validation"]["error"] for k in failed
                       if "quantization" in run.artifacts[k] and run.artifacts[k]["validation"].get("error")]
            why = ("the quality gate of quantization: " + "; ".join(quality) if quality else
                   f"outputs differ from the Keras model by more than atol={atol:g}")
            raise ValidationError(
                f"Validation failed for {', '.join(failed)}: {why} (table below). "
                f"Nothing was written to {out_dir!r}.\n"
                + validate.format_table(report),
                report,
            )
        manifest_lib.write_manifest(root, info, report, opset if "onnx" in formats else None)
    return report
