"""How many bytes a file or a folder (all files under it) takes on disk.

Export reports and benchmarks quote artifact sizes; a SavedModel or an ONNX
graph with external data is a folder, so a file's size is not enough.
"""

import os


def size_on_disk(path):
    """Bytes of ``path``: the file's size, or the sum over every file under the folder."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(path) for name in names)
