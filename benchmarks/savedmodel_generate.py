"""The SavedModel's ``generate`` (plain graph loop) vs ``generate_xla`` (XLA-compiled), as TF Serving runs them.

    python benchmarks/savedmodel_generate.py [--preset gpt-nano] [--runs 5] [--batch 1 4] [--new-tokens 48]

Exports the preset (random weights drawn from N(0, 0.1), nothing downloaded)
with a character tokenizer over tiny Shakespeare's characters through
``export.savedmodel.writer.save_savedmodel(..., generate_xla=True)``, then, in a
fresh process, loads it with the TF1 session loader TF Serving uses
(``tf.compat.v1.saved_model.loader.load``) with XLA left on (a server started
with ``--xla_cpu_compilation_enabled=true``; the plain loop needs no XLA, so it
runs the same either way) and times both signatures on the same prompts:
the first call (for ``generate_xla`` the XLA compilation) and the median of
``--runs`` interleaved timed calls per batch size. tokens/s = prompts x
new tokens / seconds; both signatures must return the same text.
``os.getloadavg()`` before and after is recorded: the numbers are only as
quiet as the machine. Writes ``savedmodel_generate.json`` and ``.md`` into ``--out``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

PROMPTS = ["ROMEO:", "First Citizen:\nBefore we proceed", "KING RICHARD", "Thou art"]
SIGNATURES = ("generate", "generate_xla")


def export(preset, folder):
    import zoo
    from export.model_info import describe
    from export.savedmodel.writer import save_savedmodel
    from zoo.corpora import corpus_path
    from zoo.model_folder import TextModel
    from zoo.tokenizers import character_tokenizer, character_vocabulary

    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        vocabulary = character_vocabulary(file.read())
    model = zoo.build(preset, vocabulary_size=len(vocabulary), dropout=0.0)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.1, weight.shape).astype(weight.dtype))
    start = time.perf_counter()
    path, _ = save_savedmodel(describe(TextModel(model, character_tokenizer(vocabulary))), folder,
                              generate_xla=True)
    return path, time.perf_counter() - start, int(model.count_params()), model.config.max_sequence_length


def time_signatures(path, batches, new_tokens, runs):
    """In this (fresh) process: TF1 session, XLA on; -> per signature and batch: first call, median s."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    results, texts = {}, {}
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)
        for batch in batches:
            prompts = np.asarray(PROMPTS[:batch] * (batch // len(PROMPTS) + 1), dtype="S")[:batch]
            calls = {}
            for name in SIGNATURES:
                signature = meta_graph.signature_def[name]
                feed = {signature.inputs["prompts"].name: prompts,
                        signature.inputs["max_new_tokens"].name: np.asarray(new_tokens, np.int32)}
                fetch = signature.outputs["text"].name
                calls[name] = (fetch, feed)
                start = time.perf_counter()
                texts[(name, batch)] = [t.decode() for t in session.run(fetch, feed)]
                results.setdefault(name, {})[batch] = {"first_call_s": time.perf_counter() - start, "times": []}
            for _ in range(runs):
                for name in SIGNATURES:  # interleaved: background load hits both alike
                    start = time.perf_counter()
                    session.run(*calls[name])
                    results[name][batch]["times"].append(time.perf_counter() - start)
    rows = []
    for name in SIGNATURES:
        for batch in batches:
            entry = results[name][batch]
            produced = sum(len(t) for t in texts[(name, batch)])  # one character per token
            median = statistics.median(entry["times"])
            rows.append({"signature": name, "batch": batch, "new_tokens": produced,
                         "first_call_s": round(entry["first_call_s"], 3), "median_s": round(median, 4),
                         "tokens_per_s": round(produced / median, 1)})
    same = all(texts[("generate", b)] == texts[("generate_xla", b)] for b in batches)
    return {"rows": rows, "same_text": same, "tensorflow": tf.__version__}


def write_markdown(report, path):
    lines = [f"# SavedModel generate vs generate_xla ({report['preset']}, TF1 session loader)", "",
             f"{report['date']}; load average before/after {report['load_average_1_5_15']['before']} / "
             f"{report['load_average_1_5_15']['after']}; {report['runs']} interleaved runs, median; "
             f"same text from both: {report['same_text']}", "",
             "| signature | batch | tokens | first call s | median s | tokens/s |", "|---|---|---|---|---|---|"]
    for row in report["rows"]:
        lines.append(f"| {row['signature']} | {row['batch']} | {row['new_tokens']} | {row['first_call_s']} | "
                     f"{row['median_s']} | {row['tokens_per_s']} |")
    for batch, ratio in report["xla_speedup"].items():
        lines.append(f"\nbatch {batch}: generate_xla is {ratio:.2f}x the tokens/s of generate")
    with open(path, "w") as file:
        file.write("\n".join(lines) + "\n")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt-nano")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument("--time", help=argparse.SUPPRESS)  # internal: the fresh timing process
    args = parser.parse_args()
    if args.time:
        print(json.dumps(time_signatures(args.time, args.batch, args.new_tokens, args.runs)))
        return

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="savedmodel-generate-") as folder:
        path, export_s, parameters, context = export(args.preset, folder)
        command = [sys.executable, os.path.abspath(__file__), "--time", path, "--runs", str(args.runs),
                   "--new-tokens", str(args.new_tokens), "--batch", *map(str, args.batch)]
        environment = {k: v for k, v in os.environ.items() if k != "TF_XLA_FLAGS"}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        timing = json.loads(done.stdout.strip().splitlines()[-1])
    after = [round(x, 2) for x in os.getloadavg()]
    by_key = {(r["signature"], r["batch"]): r for r in timing["rows"]}
    report = {
        "benchmark": "SavedModel generate (no XLA) vs generate_xla, TF1 session loader",
        "preset": args.preset, "parameters": parameters, "context": context,
        "new_tokens_requested": args.new_tokens, "runs": args.runs, "statistic": "median",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "python": sys.version.split()[0], "tensorflow": timing["tensorflow"]},
        "load_average_1_5_15": {"before": before, "after": after},
        "export_seconds_both_signatures": round(export_s, 1),
        "same_text": timing["same_text"],
        "rows": timing["rows"],
        "xla_speedup": {b: by_key[("generate_xla", b)]["tokens_per_s"] / by_key[("generate", b)]["tokens_per_s"]
                        for b in args.batch},
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "savedmodel_generate.json"), "w") as file:
        json.dump(report, file, indent=2)
    print("\n".join(write_markdown(report, os.path.join(args.out, "savedmodel_generate.md"))))


if __name__ == "__main__":
    main()
