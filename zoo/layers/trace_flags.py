"""Per-thread switches that change how layers are traced (not what they compute
for a given input), set by exporters around a trace.

``TraceFlag`` is one such switch: ``with flag.enabled(): ...`` turns it on for
the current thread (restoring the previous state on exit, so uses nest), and
``flag.is_set()`` reads it while a layer builds its graph.
"""

import contextlib
import threading


class TraceFlag:
    """An on/off switch local to the current thread, off by default."""

    def __init__(self):
        self._local = threading.local()

    def is_set(self):
        return getattr(self._local, "on", False)

    @contextlib.contextmanager
    def enabled(self):
        previous = self.is_set()
        self._local.on = True
        try:
            yield
        finally:
            self._local.on = previous
