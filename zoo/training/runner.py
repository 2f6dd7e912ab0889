"""Run a recipe: the same loop, artifacts and safety checks for every recipe.

1. resolve the options and claim the output folder (``run_folder``: refuses
   another run's folder or checkpoint unless asked to overwrite);
2. under the ``tf.distribute`` strategy's scope, let the recipe build its
   :class:`~zoo.training.task.Task`, settle its precision
   (``zoo.training.precision``: float32 with XLA, or bf16 without it where
   that measured faster), and compile it with AdamW + warmup/cosine;
3. ``fit`` with Keras' own callbacks: progress bar, ``BackupAndRestore``
   (one checkpoint per epoch, weights + optimizer state; an interrupted run
   resumes from it), ``TensorBoard``, ``CSVLogger`` -- plus the wall clock;
4. measure the final metrics, save the model folder (``zoo.load`` opens it),
   draw the loss curve, write ``metrics.json``.

With ``strategy="multi-worker"`` every worker runs these same steps
(``zoo.training.multi_worker``): the cluster is read from ``TF_CONFIG``
first, only the chief claims and writes the run folder while the others
write to scratch (``zoo.training.worker_files``), and the workers check that
they agree on the run before training and on its restored state when ``fit``
starts.
"""

import datetime
import math
import os
import time

import keras
import tensorflow as tf

from zoo.model_folder import save_model_folder
from zoo.training import cluster as cluster_lib
from zoo.training import multi_worker
from zoo.training import options as options_lib
from zoo.training import precision as precision_lib
from zoo.training import report, run_folder
from zoo.training.callbacks import TimeLimit, WallClock
from zoo.training.optimizer import adamw
from zoo.training.strategy import make_strategy, prebuild_for_strategy, steps_use_xla
from zoo.training.worker_files import WorkerFiles

# What the survivors get when a worker dies or stops answering mid-run.
PEER_FAILURES = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
                 tf.errors.CancelledError)


class WorkerLost(RuntimeError):
    """A worker of a multi-worker run failed mid-run; the message says how to resume."""


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _steps_per_execution(requested, steps_per_epoch):
    """Keras runs whole executions even past ``steps_per_epoch``: use a divisor of it."""
    if requested < 1:
        raise ValueError(f"steps_per_execution must be >= 1, got {requested}.")
    return math.gcd(requested, steps_per_epoch) if steps_per_epoch else requested


def inference_copy(model):
    """The trained model without its optimizer: the same architecture (from its config)
    with the trained weights. The model folder is for using the model, and AdamW's two
    slots would triple its size; the optimizer state lives in ``checkpoint/`` for resuming."""
    return precision_lib.rebuilt_in(model, keras.config.dtype_policy())


def declared_options(recipe):
    """The recipe's options: the common ones, with the recipe's own (and its defaults) on top."""
    return {**options_lib.COMMON, **recipe.options}


def run(recipe, out_dir, overwrite=False, verbose="auto", callbacks=(), **overrides):
    """Train ``recipe`` into ``out_dir``; returns the metrics dict written to ``metrics.json``."""
    options = options_lib.resolve(recipe.name, declared_options(recipe), overrides)
    identity = options_lib.run_identity(recipe.name, options)
    out = os.fspath(out_dir)
    # Before anything is written: a malformed TF_CONFIG is refused with nothing to clean up.
    cluster = cluster_lib.from_environment() if options["strategy"] == "multi-worker" else None

    if not overwrite and os.path.isdir(out) and run_folder.read_identity(out) == identity:
        finished = run_folder.completed_metrics(out)
        if finished is not None:
            if verbose:
                print(f"{out} already holds this finished run; its metrics: {finished.get('metrics')}. "
                      "Pass overwrite=True (--overwrite) to train again.")
            return finished

    if cluster is None or cluster.is_chief:
        run_folder.prepare(out, identity, overwrite=overwrite)
    elif not overwrite:
        run_folder.check_without_claiming(out, identity)
    files = WorkerFiles(out, cluster)
    try:
        return _train(recipe, options, out, files, cluster, verbose, callbacks)
    except PEER_FAILURES as error:
        if cluster is None:
            raise
        raise WorkerLost(
            f"Worker {cluster.task_name} lost the cluster ({type(error).__name__}: {_gist(error)}). A worker "
            "stopped or became unreachable. Start every worker again with the same command: the run resumes "
            f"from its last completed epoch (checkpoint in {os.path.join(out, run_folder.CHECKPOINT_DIR)}).") from error
    finally:
        files.cleanup()


def _gist(error):
    """The line of a TensorFlow error that says what happened (its first is "Graph execution error:")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if any(word in line for word in (
        "peer", "heartbeat", "unhealthy", "Socket closed", "aborted", "Deadline", "timed out"))]
    return (telling or lines or [""])[0][:300]


def _train(recipe, options, out, files, cluster, verbose, callbacks):
    paths = files.paths
    started = _utc_now()
    wall_start = time.perf_counter()

    keras.utils.set_random_seed(options["seed"])
    if cluster is None:
        strategy = make_strategy(options["strategy"])
        start_epoch = run_folder.initial_epoch(out)
    else:
        run_fingerprint = multi_worker.fingerprint({"recipe": recipe.name, "options": options})
        strategy, start_epoch = multi_worker.join(cluster, options["worker_timeout_seconds"], run_fingerprint,
                                                  files.copy_chief_checkpoint)
    resuming = os.path.isfile(os.path.join(paths[run_folder.CHECKPOINT_DIR], "training_metadata.json"))
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32" if options["precision"] == precision_lib.AUTO else options["precision"])
    try:
        with strategy.scope():
            task = recipe.setup(options, start_epoch)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    precision = task.precision or precision_lib.choose(options["precision"], options["jit_compile"], task.model)
    if precision.policy != task.model.dtype_policy.name:
        with strategy.scope():
            task.model = precision_lib.rebuilt_in(task.model, precision.policy)
    jit_compile = steps_use_xla(precision, strategy)
    if verbose:
        print(f"Precision: {precision.policy}, XLA {'on' if jit_compile else 'off'} ({precision.reason}).")
    if verbose and precision.jit_compile and not jit_compile:
        print("Note: XLA is off for a multi-replica run on CPU devices (TensorFlow cannot compile "
              "their cross-device reads and all-reduces); it stays on for GPUs and one device.")
    if cluster is not None:
        task.train = multi_worker.shard_by_data(task.train)
        if task.validation is not None:
            task.validation = multi_worker.shard_by_data(task.validation)
    steps_per_execution = _steps_per_execution(options["steps_per_execution"], task.steps_per_epoch)
    if cluster is not None and steps_per_execution > 1:
        # Keras 3's multi-step loop runs each step inside a tf.cond; with the cross-worker
        # all-reduce in it, TensorFlow fails ("You must feed a value for placeholder tensor").
        steps_per_execution = 1
        if verbose:
            print("Note: steps_per_execution is 1 in a multi-worker run (Keras' multi-step loop "
                  "cannot hold the cross-worker all-reduce).")
    with strategy.scope():
        task.model.compile(
            optimizer=adamw(options, task.total_steps, compile_update=not jit_compile),
            loss=task.loss,
            metrics=task.metrics or None,
            weighted_metrics=task.weighted_metrics or None,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
        )
        # Built now, not inside the first traced train step: a tf.function whose first
        # trace creates variables is traced again (gpt-nano: 4 traces -> 2, 5-9 s less
        # on the first epoch). Keras defers this when no strategy was set explicitly.
        task.model.optimizer.build(task.model.trainable_variables)
    prebuild_for_strategy(task.model, task.train, strategy)
    history = report.read_history(paths[run_folder.HISTORY_FILE])
    clock = WallClock(offset_seconds=history[-1].get("wall_seconds", 0.0) if history else 0.0)
    together = None if cluster is None else (lambda flag: multi_worker.any_worker(strategy, flag))
    limit = TimeLimit(clock, options["time_limit_minutes"], together=together)
    same_state = [] if cluster is None else [multi_worker.SameStateOnEveryWorker(strategy, cluster)]
    if verbose and resuming:
        print(f"Resuming {recipe.name} in {out} from its checkpoint at epoch {start_epoch}/{task.epochs}.")

    task.model.fit(
        task.train,
        epochs=task.epochs,
        steps_per_epoch=task.steps_per_epoch,
        validation_data=task.validation,
        shuffle=False,  # the recipes' tf.data pipelines shuffle themselves
        verbose=verbose,
        callbacks=[
            clock,  # first: later callbacks see wall_seconds and step in the logs
            limit,
            keras.callbacks.BackupAndRestore(paths[run_folder.CHECKPOINT_DIR], save_freq="epoch",
                                             delete_checkpoint=False),
            *same_state,  # after BackupAndRestore: checks the restored state
            keras.callbacks.TensorBoard(paths[run_folder.LOG_DIR], update_freq="epoch"),
            keras.callbacks.CSVLogger(paths[run_folder.HISTORY_FILE], append=True),
            *callbacks,
        ],
    )
    train_seconds = clock.elapsed()

    final = task.evaluate(task.model) if task.evaluate else {}
    save_model_folder(
        paths[run_folder.MODEL_DIR],
        inference_copy(task.model),
        task.tokenizer,
        target_tokenizer=task.target_tokenizer,
        generation=task.generation,
    )
    history = report.read_history(paths[run_folder.HISTORY_FILE])
    report.plot_loss_curve(history, paths[run_folder.CURVE_FILE], f"{recipe.name} ({out})")
    scored = [row for row in history if "val_loss" in row]
    best = min(scored, key=lambda row: row["val_loss"]) if scored else {}
    metrics = {
        "recipe": recipe.name,
        "goal": recipe.goal,
        "options": options,
        "metrics": final,
        "epochs_completed": len(history),
        "epochs_planned": task.epochs,
        "optimizer_steps": int(task.model.optimizer.iterations.numpy()),
        # Training clock (compilation included) at the end of the last epoch, whose
        # validation loss is in the history; summed over resumptions.
        "train_wall_seconds": history[-1].get("wall_seconds") if history else None,
        "fit_wall_seconds": round(train_seconds, 2),
        "best_val_loss": best.get("val_loss"),
        "best_val_loss_step": int(best["step"]) if "step" in best else None,
        "best_val_loss_wall_seconds": best.get("wall_seconds"),
        "this_invocation_wall_seconds": round(time.perf_counter() - wall_start, 2),
        "stopped_by_time_limit": limit.stopped_at_epoch is not None,
        "resumed_from_epoch": start_epoch if resuming else None,
        "parameters": int(task.model.count_params()),
        "started_utc": started,
        "finished_utc": _utc_now(),
        "replicas": strategy.num_replicas_in_sync,
        "workers": cluster.num_workers if cluster else 1,
        "task": cluster.task_name if cluster else None,
        "jit_compile": jit_compile,
        "precision": precision.policy,
        "precision_reason": precision.reason,
        "environment": report.environment(),
        "history": history,
    }
    report.write_metrics(paths[run_folder.METRICS_FILE], metrics)
    if verbose:
        shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in final.items()
                          if not isinstance(v, (list, dict)))
        where = (f"Artifacts in {out}/ (model: zoo.load({paths[run_folder.MODEL_DIR]!r}))." if files.is_chief
                 else f"The chief ({cluster.workers[0][0]}:0) writes the artifacts to {out}/.")
        print(f"{recipe.name}: {shown}; training {train_seconds:.1f} s. {where}")
    return metrics
