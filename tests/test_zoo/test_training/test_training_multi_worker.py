"""Multi-worker training (``--strategy multi-worker``): two worker processes on loopback ports train
what one device trains, survive a worker killed mid-epoch by restarting, and bad clusters,
unreachable peers and other runs' checkpoints are refused with a message, never a hang.

Workers are subprocesses (MultiWorkerMirroredStrategy must be configured before TensorFlow
starts, once per process); every address is 127.0.0.1 and every wait has a timeout.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.training
from zoo.training import cluster as cluster_lib
from zoo.training import options as options_lib
from zoo.training import rendezvous, run_folder
from zoo.training.options import run_identity
from harness import REPO_ROOT

REPO = Path(REPO_ROOT)
RECIPE = "gpt-shakespeare-char"
# Two epochs of 10 steps, global batch 8, no dropout (a replica's dropout masks cannot match
# one device's); clipping stays at the recipe's default 1.0 and acts in these steps.
TINY = dict(model="gpt-nano", model_overrides="num_layers=1,hidden_dim=16,num_heads=2,intermediate_dim=32",
            block_size=16, batch_size=8, iterations=20, eval_interval=10, eval_batch_size=256, eval_windows=32,
            warmup_steps=2, learning_rate=3e-3, dropout=0.0, jit_compile=False)
# Measured on this 2-core machine: the largest weight difference to one device after these
# 20 steps is 1.2e-7 (weights up to ~1.05). With Keras' per-replica clipping (before
# zoo.training.clipping) it was 1.1e-3 after 30 steps.
WEIGHT_TOLERANCE = 1e-5
WORKER_TIMEOUT = 600  # seconds a worker process may take, on a loaded 2-core machine

# A worker run through the Python API; on the worker given a marker path it stops part-way
# through the second epoch, writes the marker, and waits there to be killed.
WORKER = textwrap.dedent("""
    import json, sys, time
    import keras
    import zoo.training

    out, options, marker = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]

    class PauseMidEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (1, 3):
                open(marker, "w").write("epoch 1, batch 3")
                time.sleep(300)

    metrics = zoo.training.run_recipe("gpt-shakespeare-char", out, verbose=2, strategy="multi-worker",
                                      callbacks=[PauseMidEpoch()] if marker else [], **options)
    print("RESULT", json.dumps({"task": metrics["task"], "resumed_from_epoch": metrics["resumed_from_epoch"]}))
""")


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def _flags(options):
    flags = []
    for name, value in options.items():
        flags += ["--" + name.replace("_", "-"), str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


class Cluster:
    """Worker processes of one launch, with their logs, killed if the test ends early."""

    def __init__(self, commands, ports, tmp_path, tag):
        self.scratch = tmp_path / "scratch"
        self.scratch.mkdir(exist_ok=True)
        self.logs = [tmp_path / f"{tag}-worker{i}.log" for i in range(len(commands))]
        self.procs = []
        for index, command in enumerate(commands):
            env = dict(os.environ, TF_CONFIG=_tf_config(ports, index), TMPDIR=str(self.scratch))
            with open(self.logs[index], "w") as log:
                self.procs.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=log,
                                                   stderr=subprocess.STDOUT))

    def leftovers(self):
        """Scratch folders of non-chief workers still on disk (TensorFlow's own temporary files aside)."""
        return sorted(name for name in os.listdir(self.scratch) if name.startswith("zoo-"))

    def log(self, index):
        return self.logs[index].read_text(errors="replace")

    def tails(self):
        return "\n".join(f"--- worker {i} ---\n{self.log(i)[-3000:]}" for i in range(len(self.procs)))

    def wait(self, timeout=WORKER_TIMEOUT):
        end = time.monotonic() + timeout
        try:
            return [proc.wait(timeout=max(1.0, end - time.monotonic())) for proc in self.procs]
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"workers still running after {timeout} s:\n{self.tails()}")

    def kill(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def _weights(folder):
    return zoo.load(str(folder)).model.get_weights()


@pytest.mark.slow  # 41 s on the 2 cores alone, 2.4 min shared with other jobs: two processes, then one device
def test_two_workers_train_the_weights_one_device_trains(tmp_path):
    out = tmp_path / "run"
    ports = _free_ports(2)
    # A time limit never reached: the workers still decide together at every epoch's end.
    options = dict(TINY, time_limit_minutes=30.0)
    command = [sys.executable, "-m", "zoo.cli", "train", RECIPE, "--out", str(out), "--strategy", "multi-worker",
               "--verbose", "2", *_flags(options)]
    workers = Cluster([command, command], ports, tmp_path, "cli")
    try:
        assert workers.wait() == [0, 0], workers.tails()
    finally:
        workers.kill()
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["workers"], metrics["replicas"], metrics["task"]) == (2, 2, "worker:0")
    assert not metrics["stopped_by_time_limit"]
    losses = [row["loss"] for row in metrics["history"]]
    assert len(losses) == 2 and losses[1] < losses[0], losses
    assert "The chief (worker:0) writes the artifacts" in workers.log(1)
    # Only the chief wrote the run folder; the other worker's scratch folder is gone.
    assert sorted(os.listdir(out)) == sorted(run_folder.RUN_ARTIFACTS)
    assert workers.leftovers() == []

    single = zoo.training.run_recipe(RECIPE, tmp_path / "single", verbose=0, **options)
    assert single["replicas"] == 1
    two, one = _weights(out / "model"), _weights(tmp_path / "single" / "model")
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(two, one))
    print(f"largest weight difference, 2 workers vs 1 device after 20 steps: {difference:.3g}")
    assert difference < WEIGHT_TOLERANCE
    np.testing.assert_allclose(losses, [row["loss"] for row in single["history"]], rtol=1e-5)


def _snapshot(out):
    """The chief's files that must survive a crash of the cluster unchanged."""
    logs = {str(path): path.read_bytes() for path in (out / "logs").rglob("*") if path.is_file()}
    return {"run": (out / "run.json").read_bytes(), "stamp": (out / "checkpoint" / "run.json").read_bytes(),
            "history": (out / "history.csv").read_bytes(), "logs": logs}


@pytest.mark.slow  # 52 s on the 2 cores alone, 3.3 min shared with other jobs: two launches of two processes
def test_a_worker_killed_mid_epoch_is_survived_by_restarting_the_cluster(tmp_path):
    import h5py

    out, marker = tmp_path / "run", tmp_path / "paused"
    ports = _free_ports(2)

    def commands(pause):
        return [[sys.executable, "-c", WORKER, str(out), json.dumps(TINY), str(marker) if pause and i == 1 else ""]
                for i in range(2)]

    first = Cluster(commands(pause=True), ports, tmp_path, "first")
    try:
        end = time.monotonic() + WORKER_TIMEOUT
        while not marker.exists():
            if any(proc.poll() is not None for proc in first.procs) or time.monotonic() > end:
                pytest.fail(f"worker 1 never reached the middle of epoch 2:\n{first.tails()}")
            time.sleep(0.5)
        first.procs[1].send_signal(signal.SIGKILL)  # part-way through the second epoch
        killed_at = time.monotonic()
        chief_status = first.procs[0].wait(timeout=180)
        print(f"the chief stopped {time.monotonic() - killed_at:.1f} s after the kill")
    finally:
        first.kill()
    assert chief_status != 0 and "lost the cluster" in first.log(0), first.tails()
    assert "Start every worker again with the same command" in first.log(0)
    assert [name.split("-scratch-")[0] for name in first.leftovers()] == ["zoo-worker1"]  # killed: no clean-up

    # What the chief wrote before the kill: the first epoch's checkpoint, history and logs.
    assert not (out / "metrics.json").exists() and not (out / "model").exists()
    assert run_folder.initial_epoch(out) == 1
    with h5py.File(out / "checkpoint" / "latest.weights.h5", "r") as checkpoint:
        assert len(checkpoint.keys()) > 0
    before = _snapshot(out)
    assert before["history"].decode().count("\n") == 2 and before["logs"]  # header + epoch 0

    second = Cluster(commands(pause=False), ports, tmp_path, "second")
    try:
        assert second.wait() == [0, 0], second.tails()
    finally:
        second.kill()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == 1 and metrics["optimizer_steps"] == 20
    assert [row["epoch"] for row in metrics["history"]] == [0, 1]
    after = _snapshot(out)
    assert after["run"] == before["run"] and after["stamp"] == before["stamp"]
    assert after["history"].startswith(before["history"])
    for path, content in before["logs"].items():
        assert after["logs"][path].startswith(content), path
    assert isinstance(zoo.load(str(out / "model")), zoo.model_folder.TextModel)
    assert second.leftovers() == []  # the killed worker's scratch was cleared at its restart, then removed


# ~13 s (quiet machine): two TensorFlow processes that stop right after meeting.
def test_workers_that_disagree_on_the_run_stop_together_naming_the_difference(tmp_path):
    # The chief resumes from epoch 1; worker 1 has another time limit and, as without shared
    # storage, another (empty) output folder, so it sees no checkpoint.
    out = tmp_path / "run"
    recipe = zoo.training.get_recipe(RECIPE)
    resolved = options_lib.resolve(RECIPE, zoo.training.declared_options(recipe),
                                   dict(TINY, strategy="multi-worker"))
    run_folder.prepare(out, run_identity(RECIPE, resolved))
    (out / "checkpoint" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    commands = [[sys.executable, "-m", "zoo.cli", "train", RECIPE, "--out", str(folder), "--strategy", "multi-worker",
                 "--worker-timeout-seconds", "120", *_flags(dict(TINY, time_limit_minutes=minutes))]
                for folder, minutes in ((out, 0.0), (tmp_path / "elsewhere", 5.0))]
    workers = Cluster(commands, _free_ports(2), tmp_path, "disagree")
    try:
        assert workers.wait() == [2, 2], workers.tails()
    finally:
        workers.kill()
    for index in range(2):
        log = workers.log(index)
        assert "The workers disagree: worker:1 has run options fingerprint" in log, log[-2000:]
        assert "worker:1 has checkpoint epoch 0, the chief 1" in log
    assert not (out / "metrics.json").exists() and not (tmp_path / "elsewhere" / "run.json").exists()


# --- bad input: fast, in this process (each fails before a strategy would be created) ---


BAD_TF_CONFIGS = [
    (None, "needs the TF_CONFIG environment variable"),
    ("{'cluster': 1}", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"task": {"type": "worker", "index": 0}}', "lacks 'cluster'"),
    ('{"cluster": {"worker": ["127.0.0.1:2222"]}}', "lacks 'task'"),
    ('{"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}, "task": {"type": "worker", "index": 2}}',
     "task index 2 is out of range: job 'worker' has 2 task"),
    ('{"cluster": {"worker": ["127.0.0.1:2222"]}, "task": {"type": "chief", "index": 0}}',
     "task type 'chief' is not a job"),
    ('{"cluster": {"worker": ["127.0.0.1:2222"], "ps": ["127.0.0.1:2223"]}, "task": {"type": "worker", "index": 0}}',
     "no parameter servers"),
    ('{"cluster": {"worker": ["127.0.0.1"]}, "task": {"type": "worker", "index": 0}}', "is not host:port"),
    ('{"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2222"]}, "task": {"type": "worker", "index": 0}}',
     "to more than one task"),
]


@pytest.mark.parametrize("tf_config, message", BAD_TF_CONFIGS)
def test_a_malformed_tf_config_is_named_before_anything_is_written(tf_config, message, tmp_path, monkeypatch):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    out = tmp_path / "run"
    with pytest.raises(cluster_lib.ClusterConfigError, match=message):
        zoo.training.run_recipe(RECIPE, out, verbose=0, strategy="multi-worker")
    assert not out.exists()


def test_the_cli_reports_a_bad_tf_config(tmp_path, monkeypatch, capsys):
    from zoo.cli import main

    monkeypatch.setenv("TF_CONFIG", "not json")
    assert main(["train", RECIPE, "--out", str(tmp_path / "run"), "--strategy", "multi-worker"]) == 2
    assert "TF_CONFIG is not valid JSON" in capsys.readouterr().err


def test_a_worker_that_cannot_reach_its_peers_gives_up_within_the_timeout(tmp_path, monkeypatch, capsys):
    from zoo.cli import main

    ports = _free_ports(2)  # nobody will listen on the second
    monkeypatch.setenv("TF_CONFIG", _tf_config(ports, 0))
    started = time.monotonic()
    with pytest.raises(rendezvous.PeersUnreachable, match=rf"could not reach worker:1 at 127.0.0.1:{ports[1]}"):
        zoo.training.run_recipe(RECIPE, tmp_path / "api", verbose=0, strategy="multi-worker",
                                worker_timeout_seconds=2, **TINY)
    assert time.monotonic() - started < 30
    status = main(["train", RECIPE, "--out", str(tmp_path / "cli"), "--strategy", "multi-worker",
                   "--worker-timeout-seconds", "1"])
    assert status == rendezvous.EXIT_STARTUP_TIMEOUT and "within 1 s" in capsys.readouterr().err


def test_a_worker_whose_port_is_taken_says_so_at_once(tmp_path, monkeypatch):
    ports = _free_ports(2)
    monkeypatch.setenv("TF_CONFIG", _tf_config(ports, 1))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports[1]))
        squatter.listen(1)
        started = time.monotonic()
        with pytest.raises(rendezvous.PeersUnreachable, match=f"cannot listen on its TF_CONFIG port {ports[1]}"):
            zoo.training.run_recipe(RECIPE, tmp_path / "run", verbose=0, strategy="multi-worker",
                                    worker_timeout_seconds=60, **TINY)
        assert time.monotonic() - started < 10


@pytest.mark.parametrize("index", [0, 1], ids=["chief", "non-chief"])
def test_resuming_another_recipes_checkpoint_is_refused_by_every_worker(index, tmp_path, monkeypatch):
    out = tmp_path / "run"
    run_folder.prepare(out, run_identity(RECIPE, {"iterations": 30, "seed": 0}))
    (out / "checkpoint" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    before = sorted(str(p) for p in out.rglob("*"))
    monkeypatch.setenv("TF_CONFIG", _tf_config(_free_ports(2), index))
    started = time.monotonic()
    with pytest.raises(run_folder.RunMismatch, match="checkpoint of a different run.*lstm-shakespeare-char"):
        zoo.training.run_recipe("lstm-shakespeare-char", out, verbose=0, strategy="multi-worker",
                                worker_timeout_seconds=60)
    assert time.monotonic() - started < 10  # refused before waiting for any peer
    assert sorted(str(p) for p in out.rglob("*")) == before


def test_a_process_where_tensorflow_already_ran_is_told_to_start_fresh(tmp_path, monkeypatch):
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # this test process has long initialized TensorFlow; make sure
    monkeypatch.setenv("TF_CONFIG", _tf_config(_free_ports(1), 0))
    with pytest.raises(RuntimeError, match="Run each worker in a fresh process"):
        zoo.training.run_recipe(RECIPE, tmp_path / "run", verbose=0, strategy="multi-worker",
                                worker_timeout_seconds=30, **TINY)


def test_workers_meet_whichever_starts_first():
    ports = _free_ports(3)
    clusters = [cluster_lib.parse(json.dumps({"cluster": {"chief": [f"127.0.0.1:{ports[0]}"],
                                                          "worker": [f"127.0.0.1:{p}" for p in ports[1:]]},
                                              "task": {"type": job, "index": index}}))
                for job, index in (("chief", 0), ("worker", 0), ("worker", 1))]
    assert [c.is_chief for c in clusters] == [True, False, False]
    assert clusters[2].peers == [("chief:0", f"127.0.0.1:{ports[0]}"), ("worker:0", f"127.0.0.1:{ports[1]}")]
    errors, servers, done = [], [], threading.Event()

    def worker(cluster, delay):
        time.sleep(delay)
        try:
            rendezvous.wait_for_peers(cluster, timeout_seconds=20, poll_seconds=0.05)
        except Exception as error:  # reported below
            errors.append(error)
            return
        server = socket.socket()  # as TensorFlow's server takes the port over once a worker has met all
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", cluster_lib.split_address(cluster.address)[1]))
        server.listen(8)
        servers.append(server)
        done.wait(30)

    threads = [threading.Thread(target=worker, args=(c, d)) for c, d in zip(clusters, (0.6, 0.0, 0.3))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(servers) + len(errors) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    for thread in threads:
        thread.join(timeout=30)
    for server in servers:
        server.close()
    assert not errors and len(servers) == 3


def test_a_rendezvous_past_its_deadline_exits_instead_of_hanging(monkeypatch, capfd):
    exits = []
    monkeypatch.setattr(rendezvous.os, "_exit", exits.append)
    with rendezvous.deadline(0.2, "Forming the 2-worker cluster"):
        time.sleep(1.0)
    assert exits == [rendezvous.EXIT_STARTUP_TIMEOUT]
    assert "Forming the 2-worker cluster did not complete within 0.2 s" in capfd.readouterr().err
    with rendezvous.deadline(5, "quick"):
        pass
    time.sleep(0.1)
    assert exits == [rendezvous.EXIT_STARTUP_TIMEOUT]  # a block that finishes in time cancels it
