"""Safe writing: build an export in a temporary folder, then move it into place.

    with staged_output("artifacts/gpt2", force=False) as staging:
        ...write and validate everything under `staging`...
    # only now does artifacts/gpt2 exist (or get replaced)

The temporary folder is created *next to* the target (same filesystem), so
the final step is a rename, not a copy. If the block raises - a failed
validation, an error, Ctrl-C - the temporary folder is deleted and the
target is untouched: an existing export stays exactly as it was. Replacing
an existing export (``force``) renames the old one aside, renames the new
one in, and only then deletes the old one; if the swap fails the old one is
renamed back.
"""

import contextlib
import os
import shutil
import tempfile

from export.errors import ExportError


def check_target(target, force):
    """Raise an ExportError if ``target`` cannot be (re)written; return its absolute path."""
    target = os.path.abspath(os.fspath(target))
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise ExportError(f"Output {target!r} exists and is not a folder; choose another output folder.")
        if os.listdir(target) and not force:
            raise ExportError(
                f"Output folder {target!r} already exists and is not empty; pass force=True "
                "(--force) to replace it, or choose another output folder."
            )
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise ExportError(f"Cannot create the parent folder {parent!r} of the output ({error}); choose another output folder.") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"Cannot write into {parent!r} (permission denied); choose a writable output folder.")
    return target


def _swap_into_place(staging, target):
    if not os.path.exists(target):
        os.rename(staging, target)
        return
    backup = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=os.path.dirname(target))
    os.rmdir(backup)
    os.rename(target, backup)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def staged_output(target, force=False):
    """Yield a temporary folder; on success move it to ``target`` (see module doc)."""
    target = check_target(target, force)
    try:
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=os.path.dirname(target))
    except OSError as error:
        raise ExportError(f"Cannot create a temporary folder next to {target!r} ({error}); choose a writable output folder.") from None
    try:
        yield staging
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the export should not be
        _swap_into_place(staging, target)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
