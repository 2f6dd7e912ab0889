"""``zoo demo``: build every family, train it briefly on real text, save,
reload with plain Keras and check the outputs are identical.

The README's first command runs this until the benchmark suite lands. Text
is mapped to ids byte by byte (tokenizers come with ``zoo.tokenizers``), so
the demo depends on nothing but the shipped corpora.
"""

import os
import time

import numpy as np


def _byte_windows(text, length, count, rng):
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype("int32")
    starts = rng.integers(0, len(data) - length - 1, size=count)
    return np.stack([data[s : s + length + 1] for s in starts])


def _lines_as_ids(path, length, count):
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for _, line in zip(range(count), f)]
    ids = np.zeros((count, length), "int32")
    mask = np.zeros((count, length), "int32")
    for i, line in enumerate(lines):
        raw = np.frombuffer(line.encode("utf-8")[:length], dtype=np.uint8)
        ids[i, : len(raw)] = raw
        mask[i, : len(raw)] = 1
    return ids, mask


def _jobs(rng):
    """(preset, overrides, x, y) per family: small, real data, byte ids."""
    from zoo.corpora import corpus_path

    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as f:
        shakespeare = f.read()
    windows = _byte_windows(shakespeare, 64, 256, rng)
    lm_x, lm_y = windows[:, :-1], windows[:, 1:]

    pos_ids, pos_mask = _lines_as_ids(corpus_path("rt-polarity.pos"), 64, 128)
    neg_ids, neg_mask = _lines_as_ids(corpus_path("rt-polarity.neg"), 64, 128)
    clf_x = {
        "token_ids": np.concatenate([pos_ids, neg_ids]),
        "padding_mask": np.concatenate([pos_mask, neg_mask]),
    }
    clf_y = np.array([1] * 128 + [0] * 128)

    de_ids, de_mask = _lines_as_ids(corpus_path("multi30k", "train.de"), 48, 256)
    en_ids, en_mask = _lines_as_ids(corpus_path("multi30k", "train.en"), 49, 256)
    s2s_x = {
        "source_ids": de_ids,
        "source_padding_mask": de_mask,
        "target_ids": en_ids[:, :-1],
        "target_padding_mask": en_mask[:, :-1],
    }
    s2s_y = en_ids[:, 1:]
    return [
        ("gpt-nano", dict(vocabulary_size=256), lm_x, lm_y, None),
        ("lstm-lm-char", dict(vocabulary_size=256, hidden_dim=256), lm_x, lm_y, None),
        ("bert-tiny", dict(vocabulary_size=256, max_sequence_length=64), clf_x, clf_y, "classifier"),
        (
            "seq2seq-lstm-small",
            dict(source_vocabulary_size=256, target_vocabulary_size=256, hidden_dim=128),
            s2s_x,
            s2s_y,
            None,
        ),
    ]


def run_demo(out_dir, epochs=2, verbose=1):
    """Train, save and reload one small model per family; return summary rows."""
    import keras

    import zoo

    rng = np.random.default_rng(0)
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for preset, overrides, x, y, task in _jobs(rng):
        print(f"\n== {preset} ==")
        model = zoo.build(preset, **overrides)
        if task == "classifier":
            model = zoo.BertClassifier(model, num_classes=2)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=verbose)
        seconds = time.perf_counter() - start
        path = os.path.join(out_dir, f"{preset}.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)
        sample = {k: v[:4] for k, v in x.items()} if isinstance(x, dict) else x[:4]
        diff = float(np.max(np.abs(model.predict(sample, verbose=0) - reloaded.predict(sample, verbose=0))))
        losses = history.history["loss"]
        rows.append((preset, type(model).__name__, model.count_params(), losses[0], losses[-1], seconds, diff))
    return rows


def cmd_demo(args):
    rows = run_demo(args.out, epochs=args.epochs)
    header = f"{'preset':<20} {'model':<16} {'params':>12} {'loss first':>10} {'loss last':>10} {'fit s':>7} {'reload max|diff|':>17}"
    print("\n" + header + "\n" + "-" * len(header))
    for preset, kind, params, first, last, seconds, diff in rows:
        print(f"{preset:<20} {kind:<16} {params:>12,} {first:>10.3f} {last:>10.3f} {seconds:>7.1f} {diff:>17.2e}")
    print(f"\nSaved models are in {args.out}/ (load with zoo.load, or keras.saving.load_model after `import zoo.models`).")


def register(subparsers):
    p = subparsers.add_parser("demo", help="build, train briefly, save and reload every family")
    p.add_argument("--out", default="demo-output", help="folder for the saved .keras models")
    p.add_argument("--epochs", type=int, default=2)
    p.set_defaults(func=cmd_demo)
