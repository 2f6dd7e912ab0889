"""``manifest.json``: what was exported, from what, with what, and how well it matches.

Written last into the export folder (before it is moved into place), it
records the source model (name, class, family, config), library versions,
opset, every file with size and sha256, each artifact's signatures (input
and output names, shapes, dtypes; for ONNX also each axis's name and each
tensor's meaning, from ``export.onnx.contract``), validation results (``max_abs_diff`` per
output and the tolerance), fusion counts and quantization deltas - enough
to reproduce the export and to check an artifact has not been altered
(:func:`verify_files`).
"""

import datetime
import hashlib
import importlib.metadata
import json
import os

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_LIBRARIES = ("tensorflow", "keras", "keras-hub", "tensorflow-text", "tf2onnx", "onnx", "onnxruntime", "numpy", "zoo")


def library_versions():
    """{distribution: version} for the libraries that shape an artifact."""
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(root):
    """[{path (relative, /-separated), size_bytes, sha256}] for every file under ``root``."""
    entries = []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if name == MANIFEST:
                continue
            path = os.path.join(folder, name)
            entries.append({
                "path": os.path.relpath(path, root).replace(os.sep, "/"),
                "size_bytes": os.path.getsize(path),
                "sha256": sha256(path),
            })
    return sorted(entries, key=lambda e: e["path"])


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _relative_paths(artifacts, out_dir):
    """Artifact paths relative to the export folder, so the manifest survives a move."""
    for artifact in artifacts.values():
        if "path" in artifact:
            artifact["path"] = os.path.relpath(artifact["path"], out_dir).replace(os.sep, "/")
    return artifacts


def build_manifest(root, info, report, opset):
    return {
        "format_version": FORMAT_VERSION,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": {
            "name": info.name,
            "class": type(info.model).__name__,
            "family": info.family,
            "config": _jsonable(info.config),
            "parameters": int(info.model.count_params()),
            "tokenizer": type(info.tokenizer).__name__ if info.tokenizer is not None else None,
        },
        "libraries": library_versions(),
        "opset": opset,
        "artifacts": _relative_paths(_jsonable(report["artifacts"]), report["out_dir"]),
        "notes": list(report.get("notes", [])),
        "files": file_entries(root),
    }


def write_manifest(root, info, report, opset):
    manifest = build_manifest(root, info, report, opset)
    with open(os.path.join(root, MANIFEST), "w", encoding="utf-8") as file:
        json.dump(manifest, file, indent=2, sort_keys=False)
    return manifest


def read_manifest(root):
    with open(os.path.join(root, MANIFEST), encoding="utf-8") as file:
        return json.load(file)


def verify_files(root):
    """Files whose size or sha256 no longer match the manifest (empty list = intact)."""
    bad = []
    for entry in read_manifest(root)["files"]:
        path = os.path.join(root, entry["path"])
        if not os.path.exists(path) or os.path.getsize(path) != entry["size_bytes"] or sha256(path) != entry["sha256"]:
            bad.append(entry["path"])
    return bad
