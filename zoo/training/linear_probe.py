"""Linear probe, then fine-tune (LP-FT): start fine-tuning with a head that already fits.

A randomly initialised classifier sends large, arbitrary gradients into a
pretrained encoder during the first steps and distorts its features before
the head has learnt anything. Fitting the head alone on the frozen encoder's
features first (a logistic regression, seconds on cached features) and only
then fine-tuning everything avoids that (Kumar et al. 2022, "Fine-Tuning can
Distort Pretrained Features and Underperform Out-of-Distribution").
"""

import keras
import numpy as np


def fit_linear_probe(model, batches, validation=None, epochs=100, learning_rate=1e-2, head="classifier"):
    """Fit ``model``'s Dense layer ``head`` on the frozen features that feed it.

    ``batches`` yields ``(inputs, labels)`` (one pass, any order). The features are
    computed once (inference mode), the head is trained full-batch-ish with Adam and
    written into ``model``. Returns the probe's training (and validation) accuracy.
    """
    classifier = model.get_layer(head)
    features_of = keras.Model(model.inputs, classifier.input)

    def features(dataset):
        pairs = [(features_of(inputs, training=False), labels) for inputs, labels in dataset]
        return (np.concatenate([keras.ops.convert_to_numpy(f) for f, _ in pairs]),
                np.concatenate([keras.ops.convert_to_numpy(y) for _, y in pairs]))

    x, y = features(batches)
    probe = keras.Sequential([keras.Input((x.shape[-1],)), keras.layers.Dense(classifier.units)])
    probe.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    fitted = probe.fit(x, y, batch_size=1024, epochs=epochs, verbose=0)
    classifier.set_weights(probe.get_weights())
    result = {"probe_train_accuracy": float(fitted.history["accuracy"][-1])}
    if validation is not None:
        val_x, val_y = features(validation)
        result["probe_val_accuracy"] = float(probe.evaluate(val_x, val_y, verbose=0, return_dict=True)["accuracy"])
    return result
