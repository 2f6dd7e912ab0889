"""Two small Keras callbacks the recipes add to ``fit``: wall clock and time limit.

``WallClock`` puts cumulative training seconds and the optimizer step into
each epoch's logs, so ``history.csv``, TensorBoard and the loss curve can be
read against time (the issue's goals are "loss X within T minutes").
A resumed run continues the clock from the checkpointed run's last row.
It also records ``train_seconds``: the epoch's own seconds up to its
validation (steps only, evaluation excluded), which steady-state throughput
is computed from (``benchmarks/training_peer.py``).
``TimeLimit`` stops training once a wall-time budget is spent (in a
multi-worker run, all workers stop at the same epoch: each one's clock
differs, so they decide together).
"""

import time

import keras


class WallClock(keras.callbacks.Callback):
    """Adds ``wall_seconds`` (cumulative, across resumptions), ``step`` and
    ``train_seconds`` (this epoch's steps, without its validation) to epoch logs."""

    def __init__(self, offset_seconds=0.0):
        super().__init__()
        self.offset = float(offset_seconds)
        self.start = None
        self.epoch_start = None
        self.steps_end = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start, self.steps_end = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        # fit's validation runs between the epoch's last step and on_epoch_end.
        if self.epoch_start is not None and self.steps_end is None:
            self.steps_end = time.perf_counter()

    def elapsed(self):
        return self.offset + (time.perf_counter() - self.start if self.start is not None else 0.0)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["wall_seconds"] = round(self.elapsed(), 3)
            logs["step"] = int(self.model.optimizer.iterations.numpy())
            if self.epoch_start is not None:
                end = self.steps_end if self.steps_end is not None else time.perf_counter()
                logs["train_seconds"] = round(end - self.epoch_start, 4)


class TimeLimit(keras.callbacks.Callback):
    """Stops ``fit`` at the end of the first epoch that ends past ``minutes`` of training.

    ``together(flag)``, when given, turns this worker's verdict into the one every
    worker shares (``zoo.training.multi_worker.any_worker``).
    """

    def __init__(self, clock, minutes, together=None):
        super().__init__()
        self.clock = clock
        self.seconds = float(minutes) * 60.0
        self.together = together
        self.stopped_at_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if self.seconds <= 0:
            return
        over = self.clock.elapsed() >= self.seconds
        if self.together is not None:
            over = self.together(over)
        if over:
            self.model.stop_training = True
            self.stopped_at_epoch = epoch + 1
