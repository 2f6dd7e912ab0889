"""Meeting the other workers without waiting forever.

Creating a ``MultiWorkerMirroredStrategy`` blocks until every task of the
cluster has joined, with no limit TensorFlow enforces from Python (its
coordination service waits up to an hour; a mistyped address or a worker
that was never started looks like a hang). So the rendezvous has two bounded
halves:

1. :func:`wait_for_peers`, before TensorFlow opens any port: this worker
   listens on its own ``TF_CONFIG`` port and connects to every peer's, until
   all have answered or ``timeout_seconds`` has passed. A peer answers from
   this same check, or from TensorFlow's server once it has moved on, so the
   workers may start in any order. Failing, it raises :class:`PeersUnreachable`
   naming the peers and the last error for each; a port this worker cannot
   listen on (another process holds it) fails at once.
2. :func:`deadline` around the strategy's creation and the first collective
   check: if a peer disappears in between, the process cannot be freed from
   the blocked TensorFlow call, so it prints why and exits with
   :data:`EXIT_STARTUP_TIMEOUT` instead of hanging.
"""

import contextlib
import os
import socket
import sys
import threading
import time

from zoo.training.cluster import split_address

EXIT_STARTUP_TIMEOUT = 75  # EX_TEMPFAIL: start the workers again


class PeersUnreachable(TimeoutError):
    """Some workers of the cluster did not answer within the timeout."""


def _listen(address):
    host, port = split_address(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        # All interfaces, as TensorFlow's own server binds this port right after.
        listener.bind(("::" if family == socket.AF_INET6 else "", port))
        listener.listen(16)
    except OSError as error:
        listener.close()
        raise PeersUnreachable(
            f"This worker cannot listen on its TF_CONFIG port {port} ({error}); another process holds "
            "it (a worker of an earlier run still exiting?). Stop it, or give this task another port.") from None
    return listener


def _answers(address, timeout):
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return error


def wait_for_peers(cluster, timeout_seconds, poll_seconds=0.2):
    """Return once every peer of ``cluster`` accepts a TCP connection; else raise :class:`PeersUnreachable`."""
    listener = _listen(cluster.address)
    try:
        waiting = dict(cluster.peers)
        errors = {}
        end = time.monotonic() + timeout_seconds
        while waiting:
            for name, address in list(waiting.items()):
                error = _answers(address, timeout=min(1.0, max(0.05, end - time.monotonic())))
                if error is None:
                    del waiting[name]
                else:
                    errors[name] = error
            if not waiting:
                break
            if time.monotonic() >= end:
                missing = "; ".join(f"{name} at {address} ({errors[name]})" for name, address in waiting.items())
                raise PeersUnreachable(
                    f"Worker {cluster.task_name} could not reach {missing} within {timeout_seconds:g} s. "
                    "Start every worker of TF_CONFIG's cluster (same cluster, each its own task) and check "
                    "the addresses and firewalls; --worker-timeout-seconds sets how long to wait.")
            time.sleep(poll_seconds)
    finally:
        listener.close()


@contextlib.contextmanager
def deadline(seconds, what):
    """Exit the process with :data:`EXIT_STARTUP_TIMEOUT` if the block runs longer than ``seconds``.

    For blocking TensorFlow calls that Python cannot interrupt; ``what`` says
    what was being waited for.
    """
    def expire():
        sys.stderr.write(f"\nzoo train: error: {what} did not complete within {seconds:g} s; exiting "
                         f"(status {EXIT_STARTUP_TIMEOUT}). A worker left the cluster while it formed: "
                         "start every worker again with the same command.\n")
        sys.stderr.flush()
        os._exit(EXIT_STARTUP_TIMEOUT)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
