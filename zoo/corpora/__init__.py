"""Real text corpora shipped with zoo (see README.md here for sources and licences)."""

import os

CORPORA_DIR = os.path.dirname(os.path.abspath(__file__))


def corpus_path(*parts):
    """Absolute path of a shipped corpus file, e.g. ``corpus_path("tinyshakespeare.txt")``."""
    path = os.path.join(CORPORA_DIR, *parts)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Corpus file {path!r} is missing; reinstall zoo.")
    return path
