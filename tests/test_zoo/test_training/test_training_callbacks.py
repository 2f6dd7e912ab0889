"""zoo.training.callbacks: the wall clock's ``train_seconds`` counts an epoch's steps, not its validation."""

import time

import keras
import numpy as np

from zoo.training.callbacks import WallClock


class SlowValidation(keras.callbacks.Callback):
    """Makes every validation of ``fit`` take at least ``seconds`` longer."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_test_begin(self, logs=None):
        time.sleep(self.seconds)


def test_train_seconds_leave_out_validation():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((32, 3), "float32"), np.ones((32, 1), "float32")
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x, y), verbose=0,
                        callbacks=[WallClock(), SlowValidation(0.5)]).history
    assert len(history["train_seconds"]) == 2 and all(s > 0 for s in history["train_seconds"])
    second_epoch = history["wall_seconds"][1] - history["wall_seconds"][0]
    assert second_epoch >= 0.5 and history["train_seconds"][1] < second_epoch - 0.4, history
    assert history["step"] == [4, 8]
