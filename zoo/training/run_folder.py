"""The output folder of a training run, and who owns it.

    out/
      run.json          the recipe and the options that define the run (written first)
      checkpoint/       Keras BackupAndRestore state: weights + optimizer, epoch reached
      logs/             TensorBoard event files (`tensorboard --logdir out/logs`)
      history.csv       one row per epoch: losses, metrics, step, wall_seconds
      loss_curve.png    training / validation loss against optimizer steps
      metrics.json      final metrics, wall time, versions
      model/            model folder with tokenizer: ``zoo.load("out/model")``

A folder holding another run (another recipe, or other options) is never
written into: that would mix two runs' checkpoints and logs. Such a folder,
and a non-empty folder that is not a run, are refused unless the caller
asks to overwrite; overwriting removes only the files listed above.
In a multi-worker run only the chief claims and writes the folder; the other
workers check it without writing (``check_without_claiming``) and write to
scratch (``zoo.training.worker_files``).
"""

import json
import os
import shutil

RUN_FILE = "run.json"
CHECKPOINT_DIR = "checkpoint"
LOG_DIR = "logs"
HISTORY_FILE = "history.csv"
CURVE_FILE = "loss_curve.png"
METRICS_FILE = "metrics.json"
MODEL_DIR = "model"
RUN_ARTIFACTS = (RUN_FILE, CHECKPOINT_DIR, LOG_DIR, HISTORY_FILE, CURVE_FILE, METRICS_FILE, MODEL_DIR)


class RunMismatch(ValueError):
    """An output folder or checkpoint that belongs to a different run."""


def _differences(old, new):
    if old.get("recipe") != new["recipe"]:
        return [f"recipe {old.get('recipe')!r} vs {new['recipe']!r}"]
    before, after = old.get("options", {}), new["options"]
    return [
        f"{key}: {before.get(key, '<unset>')!r} vs {after.get(key, '<unset>')!r}"
        for key in sorted(set(before) | set(after))
        if before.get(key, "<unset>") != after.get(key, "<unset>")
    ]


def read_identity(folder):
    """The ``run.json`` of ``folder`` (None when there is none)."""
    path = os.path.join(folder, RUN_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, json.JSONDecodeError) as error:
        raise RunMismatch(
            f"{path} is unreadable ({error}); the folder's run cannot be identified. "
            "Pass overwrite=True (--overwrite) to start afresh, or choose another folder."
        ) from None


def remove_run(folder):
    """Delete the run artifacts (only those) from ``folder``."""
    for name in RUN_ARTIFACTS:
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def prepare(folder, identity, overwrite=False):
    """Claim ``folder`` for the run ``identity``; returns True when a checkpoint will be resumed.

    - empty or missing folder: created, ``run.json`` written;
    - same run (recipe and options match): resumed from its checkpoint;
    - another run, or a non-empty folder that is not a run: refused, unless
      ``overwrite`` (then the old run's artifacts are removed first).
    """
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileExistsError(f"Output path {folder!r} is a file; choose a folder.")
    os.makedirs(folder, exist_ok=True)
    existing = None if overwrite else read_identity(folder)
    if overwrite:
        remove_run(folder)
    elif existing is not None:
        _refuse_another_run(folder, existing, identity)
    elif os.listdir(folder):
        raise FileExistsError(
            f"Output folder {folder!r} is not empty and holds no zoo training run; choose an "
            "empty folder, or pass overwrite=True (--overwrite) to write into it anyway "
            "(only the run's own files are replaced)."
        )
    check_checkpoint(os.path.join(folder, CHECKPOINT_DIR), identity)
    _write_identity(os.path.join(folder, RUN_FILE), identity)
    checkpoint = os.path.join(folder, CHECKPOINT_DIR)
    return os.path.isfile(os.path.join(checkpoint, "training_metadata.json"))


def _refuse_another_run(folder, existing, identity):
    differences = _differences(existing, identity)
    if differences:
        has_checkpoint = os.path.isdir(os.path.join(folder, CHECKPOINT_DIR))
        what = "a checkpoint of a different run" if has_checkpoint else "a different run"
        raise RunMismatch(
            f"{folder!r} holds {what} ({'; '.join(differences)}). A checkpoint resumes only "
            "with the same recipe and options: rerun with the original options, choose "
            "another output folder, or pass overwrite=True (--overwrite) to discard it."
        )


def _refuse_another_checkpoint(checkpoint_dir, identity):
    stamp = read_identity(checkpoint_dir)
    if stamp is not None:
        differences = _differences(stamp, identity)
        if differences:
            raise RunMismatch(
                f"The checkpoint in {checkpoint_dir!r} was written by another run "
                f"({'; '.join(differences)}); it cannot be resumed with these options. "
                "Rerun with the checkpoint's options or pass overwrite=True (--overwrite)."
            )


def _write_identity(path, identity):
    """Write ``run.json`` whole or not at all: other workers may read it meanwhile."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(identity, file, indent=2, sort_keys=True)
    os.replace(partial, path)


def check_checkpoint(checkpoint_dir, identity):
    """Refuse a checkpoint folder stamped by another run; stamp it for this one."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    _refuse_another_checkpoint(checkpoint_dir, identity)
    _write_identity(os.path.join(checkpoint_dir, RUN_FILE), identity)


def check_without_claiming(folder, identity):
    """:func:`prepare`'s refusals of another run's folder or checkpoint, writing nothing.

    For the workers of a multi-worker run that are not the chief: the chief
    claims the folder, and every worker refuses a mismatch at once, by itself,
    rather than waiting for a chief that stopped.
    """
    folder = os.fspath(folder)
    existing = read_identity(folder) if os.path.isdir(folder) else None
    if existing is not None:
        _refuse_another_run(folder, existing, identity)
    checkpoint_dir = os.path.join(folder, CHECKPOINT_DIR)
    if os.path.isdir(checkpoint_dir):
        _refuse_another_checkpoint(checkpoint_dir, identity)


def completed_metrics(folder):
    """The metrics of a finished run in ``folder``, or None."""
    path = os.path.join(os.fspath(folder), METRICS_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def initial_epoch(folder):
    """The epoch a resumed run starts at (0 without a checkpoint)."""
    path = os.path.join(os.fspath(folder), CHECKPOINT_DIR, "training_metadata.json")
    if not os.path.isfile(path):
        return 0
    with open(path, encoding="utf-8") as file:
        return int(json.load(file).get("epoch", 0))
