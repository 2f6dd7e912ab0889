"""Where each worker of a run writes: the chief into the run folder, the others into scratch.

Every worker runs the whole run -- callbacks, final evaluation, saving --
because those steps contain collective operations that need every worker.
Only where files go differs (Keras' pattern for multi-worker checkpoints and
logs): the chief writes the run folder (``zoo.training.run_folder``), and a
non-chief writes the same names under a scratch folder in the system's
temporary directory, removed when the run ends. The scratch folder's name is
fixed per output folder and task, so one left behind by a killed worker is
cleared when that worker starts again; nothing a non-chief does touches the
run folder.

Resuming: every worker restores the chief's checkpoint. A non-chief copies
the chief's ``checkpoint/`` into its scratch folder before ``fit``, so Keras'
own ``BackupAndRestore`` restores from the copy and later overwrites only the
copy. The chief's ``checkpoint/`` must therefore be readable by every worker
at the same path (a shared file system such as NFS). Without shared storage
a fresh run still works; a resumed one is refused when the workers compare
the checkpoint epoch each one sees (``zoo.training.multi_worker.join``),
since a worker that sees no checkpoint would start from scratch.
"""

import hashlib
import os
import shutil
import tempfile

from zoo.training import run_folder


class WorkerFiles:
    """The run's file paths for this worker (``paths``: artifact name -> path) and its clean-up."""

    def __init__(self, out, cluster=None):
        self.out = os.fspath(out)
        self.is_chief = cluster is None or cluster.is_chief
        if self.is_chief:
            self.root = self.out
        else:
            tag = hashlib.sha256(os.path.abspath(self.out).encode()).hexdigest()[:12]
            self.root = os.path.join(tempfile.gettempdir(),
                                     f"zoo-{cluster.task_type}{cluster.task_index}-scratch-{tag}")
            shutil.rmtree(self.root, ignore_errors=True)  # a killed worker's leftovers
            os.makedirs(self.root)
        self.paths = {name: os.path.join(self.root, name) for name in run_folder.RUN_ARTIFACTS}

    def copy_chief_checkpoint(self):
        """A non-chief's copy of the chief's checkpoint, for ``BackupAndRestore`` to restore.

        Returns the epoch the copy resumes at (0: no checkpoint to resume).
        """
        if self.is_chief:
            return run_folder.initial_epoch(self.out)
        chief_checkpoint = os.path.join(self.out, run_folder.CHECKPOINT_DIR)
        if os.path.isdir(chief_checkpoint):
            shutil.copytree(chief_checkpoint, self.paths[run_folder.CHECKPOINT_DIR], dirs_exist_ok=True)
        return run_folder.initial_epoch(self.root)

    def cleanup(self):
        """Remove a non-chief's scratch folder (the chief's run folder stays, of course)."""
        if not self.is_chief:
            shutil.rmtree(self.root, ignore_errors=True)
