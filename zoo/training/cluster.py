"""The cluster a multi-worker run belongs to, read from ``TF_CONFIG`` and checked.

Every worker of a ``tf.distribute.MultiWorkerMirroredStrategy`` run gets the
same ``cluster`` and its own ``task`` in the ``TF_CONFIG`` environment
variable (TensorFlow's standard way)::

    {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
     "task": {"type": "worker", "index": 0}}

TensorFlow itself reports a malformed ``TF_CONFIG`` late, or not at all (a
task index past the end of its job makes a worker wait for a peer that does
not exist). :func:`from_environment` checks it before anything is written or
any port is opened, and names the problem. The chief -- the one worker that
writes the run folder -- is ``chief:0`` when the cluster has a ``chief`` job,
else ``worker:0``, as in TensorFlow.
"""

import dataclasses
import json
import os

SUPPORTED_JOBS = ("chief", "worker")
EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:2222", "host2:2222"]}, '
           '"task": {"type": "worker", "index": 0}}\'')


class ClusterConfigError(ValueError):
    """``TF_CONFIG`` is missing or malformed; the message says what is wrong."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    jobs: dict          # job name -> tuple of "host:port", as in TF_CONFIG
    task_type: str
    task_index: int

    @property
    def workers(self):
        """Every task's (job, index, address), the chief first."""
        return [(job, index, address) for job in SUPPORTED_JOBS for index, address in
                enumerate(self.jobs.get(job, ()))]

    @property
    def num_workers(self):
        return len(self.workers)

    @property
    def is_chief(self):
        chief_job = "chief" if "chief" in self.jobs else "worker"
        return (self.task_type, self.task_index) == (chief_job, 0)

    @property
    def task_name(self):
        return f"{self.task_type}:{self.task_index}"

    @property
    def address(self):
        return self.jobs[self.task_type][self.task_index]

    @property
    def peers(self):
        """The other tasks as ("job:index", "host:port")."""
        return [(f"{job}:{index}", address) for job, index, address in self.workers
                if (job, index) != (self.task_type, self.task_index)]


def split_address(address):
    """("host", port) of "host:port" (IPv6 hosts in brackets: "[::1]:2222")."""
    host, _, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterConfigError(f"TF_CONFIG address {address!r} is not host:port (port 1-65535).")
    return host, int(port)


def _check_cluster(cluster):
    if not isinstance(cluster, dict) or not cluster:
        raise ClusterConfigError(f'TF_CONFIG "cluster" must map job names to address lists, got {cluster!r}.')
    unsupported = sorted(set(cluster) - set(SUPPORTED_JOBS))
    if unsupported:
        raise ClusterConfigError(
            f"TF_CONFIG has job(s) {unsupported}; MultiWorkerMirroredStrategy runs only 'chief' and "
            "'worker' tasks (no parameter servers or evaluators).")
    jobs = {}
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses or not all(isinstance(a, str) for a in addresses):
            raise ClusterConfigError(f'TF_CONFIG job {job!r} must be a non-empty list of "host:port" strings, '
                                     f"got {addresses!r}.")
        for address in addresses:
            split_address(address)
        jobs[job] = tuple(addresses)
    if len(jobs.get("chief", ())) > 1:
        raise ClusterConfigError(f"TF_CONFIG has {len(jobs['chief'])} chief tasks; there can be one.")
    every = [address for addresses in jobs.values() for address in addresses]
    repeated = sorted({address for address in every if every.count(address) > 1})
    if repeated:
        raise ClusterConfigError(f"TF_CONFIG gives address(es) {repeated} to more than one task.")
    return jobs


def parse(text):
    """The :class:`Cluster` described by the JSON ``text`` of a ``TF_CONFIG``."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ClusterConfigError(f"TF_CONFIG is not valid JSON ({error}). Expected e.g. {EXAMPLE}.") from None
    if not isinstance(config, dict):
        raise ClusterConfigError(f"TF_CONFIG must be a JSON object, got {type(config).__name__}. "
                                 f"Expected e.g. {EXAMPLE}.")
    missing = [key for key in ("cluster", "task") if key not in config]
    if missing:
        raise ClusterConfigError(f"TF_CONFIG lacks {' and '.join(repr(k) for k in missing)}. Expected e.g. {EXAMPLE}.")
    jobs = _check_cluster(config["cluster"])
    task = config["task"]
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ClusterConfigError(f'TF_CONFIG "task" must be {{"type": ..., "index": ...}}, got {task!r}.')
    task_type, index = task["type"], task["index"]
    if task_type not in jobs:
        raise ClusterConfigError(f"TF_CONFIG task type {task_type!r} is not a job of the cluster {sorted(jobs)}.")
    if isinstance(index, bool) or not isinstance(index, int):
        raise ClusterConfigError(f"TF_CONFIG task index must be an integer, got {index!r}.")
    if not 0 <= index < len(jobs[task_type]):
        raise ClusterConfigError(
            f"TF_CONFIG task index {index} is out of range: job {task_type!r} has {len(jobs[task_type])} "
            f"task(s), indices 0-{len(jobs[task_type]) - 1}.")
    return Cluster(jobs=jobs, task_type=task_type, task_index=index)


def from_environment(environ=None):
    """The :class:`Cluster` of this process' ``TF_CONFIG``; a clear error when it is unset or malformed."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if not text.strip():
        raise ClusterConfigError(
            "strategy 'multi-worker' needs the TF_CONFIG environment variable on every worker: the same "
            f"cluster, and this worker's own task. For example, on the first of two machines: {EXAMPLE}.")
    return parse(text)
