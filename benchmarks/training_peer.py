"""Training against a PyTorch peer: the zoo's recipes and plain PyTorch, one after the other, same machine.

    python benchmarks/training_peer.py --settings cpu-recipe|gpt-mini|bert-sentiment|all [...] \
        [--out benchmarks/results] [--iterations N] [--eval-interval N] \
        [--seeds 0 1] [--max-train-examples N]

Each setting runs two processes in turn, peer first, each timed from outside
(``time.perf_counter`` around ``subprocess.run``: imports, data, model
building, compilation, training, final evaluation, saving -- everything):

* ``cpu-recipe`` -- nanoGPT's CPU settings (gpt-nano: 4 layers, 128 dims, 4
  heads; block 64, batch 12, 2,000 iterations, learning rate 1e-3 -> 1e-4,
  dropout 0, validation every 250 steps over 240 windows).
  ``benchmarks/peers/torch_gpt.py`` (eager PyTorch, nanoGPT's recipe) against
  ``zoo train gpt-shakespeare-char`` at the same settings. The target is the
  peer's final validation loss (whole split, ``zoo.data.char_eval_windows``);
  the zoo's time-to-target is read off its periodic evaluations: the
  training clock (seconds since training began, compilation and periodic
  evaluations included, both sides alike) at the first evaluation whose
  loss is <= the target, *interpolated linearly* between that evaluation and
  the one before. The peer's time-to-target is its training clock when its
  final loss was known (end of training + the final evaluation). Goal:
  zoo / peer <= 0.6.
* ``gpt-mini`` -- the recipe's defaults (gpt-mini: 4 layers, 256 dims, block
  128, batch 32, dropout 0.1, learning rate 2e-3 -> 2e-4) for 500 iterations,
  validation every 250 over 240 windows: steady-state training tokens/s =
  batch x block x steps / seconds of those steps, over the evaluation
  intervals after the first (the first holds the zoo's XLA compilation and
  the peer's warm-up), evaluation time excluded on both sides: the zoo's
  ``history[i]["train_seconds"]`` (``zoo.training.callbacks.WallClock``), the
  peer's summed step times. Goal: zoo / peer >= 1.5.
* ``bert-sentiment`` -- ``benchmarks/peers/torch_sentiment.py`` (transformers'
  ``Trainer``) against ``zoo train bert-sentiment --pooling cls``, fine-tuning
  all-MiniLM-L6-v2 on the same rt-polarity split, for each of ``--seeds``:
  test accuracy and whole-process time. Goal: accuracy within +-0.5 points of
  the Trainer's, in <= 0.5x its time.

Both sides get identical data: this script reads ``zoo.data`` once and hands
the peer the arrays (character ids, the exact evaluation windows) or the
sentence splits as a file, so the peer process never imports TensorFlow.
``--iterations`` / ``--eval-interval`` / ``--max-train-examples`` shorten runs
for a quick check of the plumbing; such numbers measure nothing.

Writes ``training_peer-<cpu kind>.json`` and ``.md`` into ``--out`` (results of
settings not run this time are kept from an earlier file), naming the date,
the machine, its CPU kind (``zoo.cpu``) and the torch and TensorFlow versions.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import result_files

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
SETTINGS = ("cpu-recipe", "gpt-mini", "bert-sentiment")
ZOO_CLI = "import sys; from zoo.cli import main; sys.exit(main())"

# The two GPT settings: recipe options as ``zoo train gpt-shakespeare-char`` takes them.
GPT_SETTINGS = {
    "cpu-recipe": dict(model="gpt-nano", block_size=64, batch_size=12, iterations=2000, eval_interval=250,
                       eval_windows=240, dropout=0.0, learning_rate=1e-3, min_learning_rate=1e-4),
    "gpt-mini": dict(model="gpt-mini", block_size=128, batch_size=32, iterations=500, eval_interval=250,
                     eval_windows=240, dropout=0.1, learning_rate=2e-3, min_learning_rate=2e-4),
}
GOALS = {"cpu-recipe": "time-to-target zoo / peer <= 0.6", "gpt-mini": "steady tokens/s zoo / peer >= 1.5",
         "bert-sentiment": "accuracy within +-0.5 points of the Trainer's, in <= 0.5x its time"}


# --- running the two sides ------------------------------------------------------------


def run_timed(label, command):
    """Run ``command`` from the repository root (its ``zoo`` first on the path); whole-process seconds."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
    shown = ["zoo", *command[3:]] if command[1] == "-c" else [os.path.relpath(command[1], REPO), *command[2:]]
    print(f"\n=== {label}: {' '.join(shown)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env)
    seconds = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{label} failed with exit status {result.returncode} after {seconds:.1f} s.")
    print(f"=== {label}: {seconds:.1f} s (whole process)", flush=True)
    return seconds


def read_json(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def zoo_train(python, recipe, out, options):
    command = [python, "-c", ZOO_CLI, "train", recipe, "--out", out, "--verbose", "2"]
    for name, value in options.items():
        command += ["--" + name.replace("_", "-"), str(value)]
    return command


def zoo_only_options(pairs):
    """``--zoo-option name=value`` pairs -> {name: value}: recipe options for the zoo side only
    (``precision=mixed_bfloat16``, ``jit_compile=false``), which the peer has no counterpart for."""
    options = {}
    for pair in pairs or ():
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise SystemExit(f"--zoo-option takes name=value, got {pair!r}")
        options[name.strip().replace("-", "_")] = value.strip()
    return options


def flags(options):
    return [item for name, value in options.items() for item in ("--" + name.replace("_", "-"), str(value))]


# --- GPT settings ----------------------------------------------------------------------


def write_char_data(path, block_size, eval_windows, eval_batch_size=64):
    """The corpus and the evaluation windows exactly as the zoo recipe sees them, as an .npz."""
    import numpy as np

    from zoo import data

    corpus = data.shakespeare_char()

    def windows(max_windows):
        batches = list(data.char_eval_windows(corpus.val_ids, block_size, eval_batch_size,
                                              max_windows=max_windows).as_numpy_iterator())
        return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])

    full_x, full_y = windows(0)
    periodic_x, periodic_y = windows(eval_windows) if eval_windows else (full_x, full_y)
    np.savez(path, train_ids=corpus.train_ids, full_x=full_x, full_y=full_y, periodic_x=periodic_x,
             periodic_y=periodic_y, vocabulary_size=corpus.vocabulary_size)


def peer_gpt_flags(options):
    from zoo.presets import get_preset

    config = get_preset(options["model"]).config
    if config["intermediate_dim"] != 4 * config["hidden_dim"]:
        raise ValueError("benchmarks/peers/torch_gpt.py builds a 4 x hidden feed-forward; "
                         f"{options['model']} has {config['intermediate_dim']}.")
    return flags(dict(layers=config["num_layers"], hidden=config["hidden_dim"], heads=config["num_heads"],
                      block_size=options["block_size"], batch_size=options["batch_size"],
                      iterations=options["iterations"], learning_rate=options["learning_rate"],
                      min_learning_rate=options["min_learning_rate"], warmup=options["warmup_steps"],
                      dropout=options["dropout"], eval_interval=options["eval_interval"],
                      eval_windows=options["eval_windows"], seed=options["seed"]))


def crossing(history, target):
    """(seconds, step, how) at which the periodic val loss first reaches ``target``, else None.

    Linear interpolation of the training clock between the first evaluation at
    or below the target and the one before it (none before the first: its time).
    """
    previous = None
    for row in history:
        if row.get("val_loss") is None:
            continue
        if row["val_loss"] <= target:
            if previous is None or previous["val_loss"] == row["val_loss"]:
                return row["wall_seconds"], row["step"], "at the first evaluation (not interpolated)"
            share = (previous["val_loss"] - target) / (previous["val_loss"] - row["val_loss"])
            seconds = previous["wall_seconds"] + share * (row["wall_seconds"] - previous["wall_seconds"])
            step = previous["step"] + share * (row["step"] - previous["step"])
            return seconds, step, "interpolated"
        previous = row
    return None


def steady_tokens_per_second(history, tokens_per_step):
    """(tokens/s, steps) over the evaluation intervals after the first, evaluation excluded."""
    rows = [row for row in history if "train_seconds" in row]
    later = rows[1:]
    if not later:
        return None, 0
    steps = sum(b["step"] - a["step"] for a, b in zip(rows, rows[1:]))
    return tokens_per_step * steps / sum(row["train_seconds"] for row in later), steps


def trained_in(zoo_metrics):
    """The precision and XLA setting the zoo's run settled on (``precision=auto`` picks per machine)."""
    return {"precision": zoo_metrics.get("precision", zoo_metrics["options"].get("precision")),
            "jit_compile": zoo_metrics.get("jit_compile")}


def ratio(numerator, denominator):
    return numerator / denominator if numerator is not None and denominator else None


def gpt_setting(name, args, scratch):
    options = dict(GPT_SETTINGS[name], seed=0, warmup_steps=100)
    if args.iterations:
        options["iterations"] = args.iterations
    if args.eval_interval:
        options["eval_interval"] = args.eval_interval
    data_path = os.path.join(scratch, f"{name}-data.npz")
    write_char_data(data_path, options["block_size"], options["eval_windows"])

    peer_json = os.path.join(scratch, f"{name}-peer.json")
    peer_command = [args.python, os.path.join(PEERS, "torch_gpt.py"), *peer_gpt_flags(options),
                    "--data", data_path, "--out", peer_json]
    peer_process = run_timed(f"{name} peer (PyTorch eager)", peer_command)
    zoo_out = os.path.join(scratch, f"{name}-zoo")
    zoo_only = zoo_only_options(args.zoo_option)
    zoo_options = dict(options, **zoo_only)
    zoo_process = run_timed(f"{name} zoo", zoo_train(args.python, "gpt-shakespeare-char", zoo_out, zoo_options))

    peer, zoo_metrics = read_json(peer_json), read_json(os.path.join(zoo_out, "metrics.json"))
    zoo_history = zoo_metrics["history"]
    tokens_per_step = options["batch_size"] * options["block_size"]
    peer_tps, peer_steps = steady_tokens_per_second(peer["history"], tokens_per_step)
    zoo_tps, zoo_steps = steady_tokens_per_second(zoo_history, tokens_per_step)
    target = peer["final_val_loss"]
    peer_ttt = peer["training_wall_seconds"] + peer["final_eval_seconds"]
    crossed = crossing(zoo_history, target)
    result = {
        "options": options,
        "zoo_only_options": zoo_only,
        "target_val_loss": target,
        "peer": {
            "process_seconds": round(peer_process, 2),
            "final_val_loss": target,
            "training_clock_seconds": peer["training_wall_seconds"],
            "time_to_target_seconds": round(peer_ttt, 2),
            "steady_tokens_per_second": peer_tps,
            "steady_steps": peer_steps,
            "steady_tokens_per_second_after_50_steps": peer["steady_state_tokens_per_second"],
            "steady_state_steps": peer["steady_state_steps"],
            "step_seconds_median": peer["step_seconds_median"],
            "history": peer["history"],
            "torch": peer["torch"],
            "threads": peer["threads"],
        },
        "zoo": {
            "process_seconds": round(zoo_process, 2),
            "final_val_loss": zoo_metrics["metrics"].get("val_loss"),
            "training_clock_seconds": zoo_metrics.get("train_wall_seconds"),
            "time_to_target_seconds": round(crossed[0], 2) if crossed else None,
            "time_to_target_step": round(crossed[1], 1) if crossed else None,
            "time_to_target_how": crossed[2] if crossed else "not reached by the periodic evaluations",
            "steady_tokens_per_second": zoo_tps,
            "steady_steps": zoo_steps,
            "history": zoo_history,
            "tensorflow": zoo_metrics["environment"]["tensorflow"],
            "keras": zoo_metrics["environment"]["keras"],
            **trained_in(zoo_metrics),
        },
    }
    result["ratios"] = {
        "process_seconds_zoo_over_peer": ratio(zoo_process, peer_process),
        "time_to_target_zoo_over_peer": ratio(result["zoo"]["time_to_target_seconds"], peer_ttt),
        "steady_tokens_per_second_zoo_over_peer": ratio(zoo_tps, peer_tps),
    }
    return result


# --- bert-sentiment --------------------------------------------------------------------


def write_sentence_data(path):
    from zoo import data

    splits = data.rt_polarity_splits()
    with open(path, "w", encoding="utf-8") as file:
        json.dump({name: [list(texts), [int(v) for v in labels]] for name, (texts, labels) in splits.items()}, file)


def sentiment_setting(args, scratch):
    data_path = os.path.join(scratch, "rt-polarity.json")
    write_sentence_data(data_path)
    runs = []
    for seed in args.seeds:
        shared = dict(seed=seed, max_train_examples=args.max_train_examples)
        peer_json = os.path.join(scratch, f"sentiment-{seed}-peer.json")
        peer_process = run_timed(f"bert-sentiment seed {seed} peer (transformers Trainer)",
                                 [args.python, os.path.join(PEERS, "torch_sentiment.py"), *flags(shared),
                                  "--data", data_path, "--out", peer_json])
        zoo_out = os.path.join(scratch, f"sentiment-{seed}-zoo")
        zoo_process = run_timed(f"bert-sentiment seed {seed} zoo",
                                zoo_train(args.python, "bert-sentiment", zoo_out, dict(pooling="cls", **shared)))
        peer, zoo_metrics = read_json(peer_json), read_json(os.path.join(zoo_out, "metrics.json"))
        runs.append({
            "seed": seed,
            "peer": {"test_accuracy": peer["test_accuracy"], "process_seconds": round(peer_process, 2),
                     "training_seconds": peer["training_wall_seconds"], "test_examples": peer["test_examples"],
                     "torch": peer["torch"], "transformers": peer["transformers"]},
            "zoo": {"test_accuracy": zoo_metrics["metrics"]["test_accuracy"], "process_seconds": round(zoo_process, 2),
                    "training_seconds": zoo_metrics.get("fit_wall_seconds"),
                    "test_examples": zoo_metrics["metrics"]["test_examples"],
                    "tensorflow": zoo_metrics["environment"]["tensorflow"], **trained_in(zoo_metrics)},
            "accuracy_points_zoo_minus_peer": 100 * (zoo_metrics["metrics"]["test_accuracy"] - peer["test_accuracy"]),
            "process_seconds_zoo_over_peer": zoo_process / peer_process,
        })
    mean = statistics.fmean
    return {
        "options": {"pooling": "cls", "seeds": list(args.seeds), "max_train_examples": args.max_train_examples},
        "runs": runs,
        "mean": {
            "peer_test_accuracy": mean(r["peer"]["test_accuracy"] for r in runs),
            "zoo_test_accuracy": mean(r["zoo"]["test_accuracy"] for r in runs),
            "accuracy_points_zoo_minus_peer": mean(r["accuracy_points_zoo_minus_peer"] for r in runs),
            "process_seconds_zoo_over_peer": (mean(r["zoo"]["process_seconds"] for r in runs)
                                              / mean(r["peer"]["process_seconds"] for r in runs)),
        },
    }


# --- report ----------------------------------------------------------------------------


def machine():
    from zoo import cpu

    model_name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            model_name = next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": cpu.describe(), "cpu_model": model_name, "cpu_count": os.cpu_count(),
            "machine": platform.machine(), "python": platform.python_version()}


def number(value, digits=2, suffix=""):
    if value is None:
        return "--"
    return f"{value:,.{digits}f}{suffix}"


def trained_as(zoo):
    precision = zoo.get("precision")
    return f"{precision}, XLA {'on' if zoo.get('jit_compile') else 'off'}" if precision else "not recorded"


def markdown(report):
    m = report["machine"]
    lines = [f"# Training against a PyTorch peer ({m['cpu']['kind']})", "",
             f"`python benchmarks/training_peer.py`; {m['cpu_count']} CPUs, {m['cpu_model'] or m['machine']}, "
             f"{m['cpu'].get('core_design') or 'core design not recorded'}, "
             f"CPU kind {m['cpu']['kind']} ({', '.join(m['cpu']['instruction_sets'])}). Each setting's two "
             "processes ran one after the other on this machine; process times are measured from outside.", ""]
    for name in SETTINGS:
        result = report["settings"].get(name)
        if result is None:
            continue
        zoo_runs = [r["zoo"] for r in result["runs"]] if name == "bert-sentiment" else [result["zoo"]]
        trained = " / ".join(sorted({trained_as(zoo) for zoo in zoo_runs}))
        core = f" on {result['core_design']}" if result.get("core_design") else " (core design not recorded)"
        lines += [f"## {name}", "", f"Measured {result['date']}{core}; torch {result['versions'].get('torch')}, "
                  f"TensorFlow {result['versions'].get('tensorflow')}. The zoo trained in {trained}. "
                  f"Goal: {GOALS[name]}.", ""]
        if name == "bert-sentiment":
            lines += ["| seed | Trainer test acc. | zoo test acc. | zoo - Trainer (points) | Trainer process s "
                      "| zoo process s | zoo / Trainer |", "|---|---|---|---|---|---|---|"]
            for r in result["runs"]:
                lines.append(f"| {r['seed']} | {number(100 * r['peer']['test_accuracy'])} % "
                             f"| {number(100 * r['zoo']['test_accuracy'])} % "
                             f"| {r['accuracy_points_zoo_minus_peer']:+.2f} "
                             f"| {number(r['peer']['process_seconds'], 1)} | {number(r['zoo']['process_seconds'], 1)} "
                             f"| **{number(r['process_seconds_zoo_over_peer'])}×** |")
            mean = result["mean"]
            lines += [f"| mean | {number(100 * mean['peer_test_accuracy'])} % "
                      f"| {number(100 * mean['zoo_test_accuracy'])} % "
                      f"| {mean['accuracy_points_zoo_minus_peer']:+.2f} | | | "
                      f"**{number(mean['process_seconds_zoo_over_peer'])}×** |", ""]
            if result["options"]["max_train_examples"]:
                lines += [f"Shortened run (`--max-train-examples {result['options']['max_train_examples']}`): "
                          "a check of the plumbing, not a measurement.", ""]
            continue
        peer, zoo, ratios, o = result["peer"], result["zoo"], result["ratios"], result["options"]
        lines += [f"{o['model']}, block {o['block_size']}, batch {o['batch_size']}, {o['iterations']} iterations, "
                  f"learning rate {o['learning_rate']:g} -> {o['min_learning_rate']:g}, dropout {o['dropout']:g}, "
                  f"validation every {o['eval_interval']} steps over {o['eval_windows']} windows."
                  + (f" Zoo side only: {', '.join(f'{k}={v}' for k, v in result['zoo_only_options'].items())}."
                     if result.get("zoo_only_options") else ""), "",
                  "| | PyTorch peer (eager) | zoo | zoo / peer |", "|---|---|---|---|",
                  f"| final val loss (whole split) | {number(peer['final_val_loss'], 4)} "
                  f"| {number(zoo['final_val_loss'], 4)} | |",
                  f"| whole process, s | {number(peer['process_seconds'], 1)} | {number(zoo['process_seconds'], 1)} "
                  f"| **{number(ratios['process_seconds_zoo_over_peer'])}×** |",
                  f"| time to the peer's final val loss, s (training clock) "
                  f"| {number(peer['time_to_target_seconds'], 1)} | {number(zoo['time_to_target_seconds'], 1)} "
                  f"({zoo['time_to_target_how']}) | **{number(ratios['time_to_target_zoo_over_peer'])}×** |",
                  f"| steady tokens/s (intervals after the first, no evaluation) "
                  f"| {number(peer['steady_tokens_per_second'], 0)} | {number(zoo['steady_tokens_per_second'], 0)} "
                  f"| **{number(ratios['steady_tokens_per_second_zoo_over_peer'])}×** |", "",
                  f"Peer: {number(peer['steady_tokens_per_second_after_50_steps'], 0)} tokens/s over its "
                  f"{peer['steady_state_steps']} steps after the first 50 (all steps when there are no more), median "
                  f"step {number(1000 * peer['step_seconds_median'], 1)} ms, "
                  f"{peer['threads']} threads. Target {number(result['target_val_loss'], 4)} = the peer's final "
                  "val loss; the zoo's crossing is read off its periodic (subset) evaluations.", ""]
        if result.get("shortened"):
            lines += ["Shortened run (`--iterations` / `--eval-interval`): a check of the plumbing, not a "
                      "measurement.", ""]
    return "\n".join(lines)


def summary(name, result):
    """One line per setting for the console."""
    if name == "bert-sentiment":
        mean = result["mean"]
        return (f"{name}: test accuracy Trainer {100 * mean['peer_test_accuracy']:.2f} %, "
                f"zoo {100 * mean['zoo_test_accuracy']:.2f} % ({mean['accuracy_points_zoo_minus_peer']:+.2f} points); "
                f"process time zoo / Trainer {mean['process_seconds_zoo_over_peer']:.2f}×")
    peer, zoo, ratios = result["peer"], result["zoo"], result["ratios"]
    parts = [
        f"target {result['target_val_loss']:.4f} (peer's final), zoo's final {number(zoo['final_val_loss'], 4)}",
        f"process {peer['process_seconds']:.1f} s vs {zoo['process_seconds']:.1f} s "
        f"({number(ratios['process_seconds_zoo_over_peer'])}×)",
        f"time-to-target {number(peer['time_to_target_seconds'], 1)} s vs {number(zoo['time_to_target_seconds'], 1)} s "
        f"({number(ratios['time_to_target_zoo_over_peer'])}×, {zoo['time_to_target_how']})",
        f"steady tokens/s {number(peer['steady_tokens_per_second'], 0)} vs {number(zoo['steady_tokens_per_second'], 0)} "
        f"({number(ratios['steady_tokens_per_second_zoo_over_peer'])}×)",
    ]
    return f"{name}: " + "; ".join(parts)


def versions(name, result):
    if name == "bert-sentiment":
        run = result["runs"][0]
        return {"torch": run["peer"]["torch"], "transformers": run["peer"]["transformers"],
                "tensorflow": run["zoo"]["tensorflow"]}
    return {"torch": result["peer"]["torch"], "tensorflow": result["zoo"]["tensorflow"],
            "keras": result["zoo"]["keras"]}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", choices=(*SETTINGS, "all"), nargs="+", default=["all"])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--iterations", type=int, default=0, help="GPT settings: shorten to N iterations (a quick check)")
    p.add_argument("--eval-interval", type=int, default=0, help="GPT settings: evaluate every N steps instead of 250")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="bert-sentiment seeds")
    p.add_argument("--max-train-examples", type=int, default=0,
                   help="bert-sentiment: only this many sentences of each split, both sides (a quick check)")
    p.add_argument("--python", default=sys.executable, help="interpreter for both sides")
    p.add_argument("--zoo-option", action="append", metavar="NAME=VALUE",
                   help="GPT settings: a recipe option for the zoo side only, e.g. precision=mixed_bfloat16 "
                        "(repeatable; recorded with the result)")
    return p.parse_args(argv)


def write_report(report, stem):
    with open(stem + ".json", "w", encoding="utf-8") as file:
        json.dump(report, file, indent=2)
    with open(stem + ".md", "w", encoding="utf-8") as file:
        file.write(markdown(report) + "\n")


def main(argv=None):
    args = parse_args(argv)
    names = SETTINGS if "all" in args.settings else tuple(n for n in SETTINGS if n in args.settings)
    about = machine()
    os.makedirs(args.out, exist_ok=True)
    stem = result_files.stem(args.out, "training_peer", about["cpu"]["kind"])
    report = read_json(stem + ".json") if os.path.isfile(stem + ".json") else {"settings": {}}
    report["machine"] = about
    lines = []
    with tempfile.TemporaryDirectory(prefix="training_peer-") as scratch:
        for name in names:
            if name == "bert-sentiment":
                result = sentiment_setting(args, scratch)
            else:
                result = gpt_setting(name, args, scratch)
                result["shortened"] = bool(args.iterations or args.eval_interval)
            result["date"] = datetime.date.today().isoformat()
            result["versions"] = versions(name, result)
            result["core_design"] = result_files.machine_facts()["core_design"]
            report["settings"][name] = result
            lines.append(summary(name, result))
            print("\n" + lines[-1], flush=True)
            write_report(report, stem)  # after each setting: a long run cut short keeps what it measured
    print("\n== Summary ==\n" + "\n".join(lines) + f"\nWrote {stem}.json and {stem}.md", flush=True)


if __name__ == "__main__":
    main()
