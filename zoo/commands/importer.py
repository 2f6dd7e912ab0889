"""``zoo import PATH --out FOLDER``: a local Hugging Face checkpoint or keras-hub preset -> a zoo model folder.

``--from keras-hub`` reads a local keras-hub preset folder (``save_to_preset``)
instead (``zoo.from_keras_hub``); the default, ``--from huggingface``, is
``zoo.from_huggingface``.

The folder (``model.keras`` + tokenizer assets, see ``zoo.model_folder``) opens
with ``zoo.load(FOLDER)``. After writing, the folder is loaded back and run on
a few tokens next to the in-memory model, so a broken save is caught here
rather than by the first user.
"""

import os


def _sample_inputs(model, tokenizer):
    """A small batch of ids the model accepts (from the tokenizer when there is one)."""
    import numpy as np

    ids = [5, 6, 7]
    if tokenizer is not None:
        ids = [int(i) for i in np.asarray(tokenizer("Hello world, this is zoo."))][:16] or ids
    inputs = {"token_ids": np.array([ids], "int32")}
    if "mask_positions" in [i.name for i in model.inputs]:
        inputs["mask_positions"] = np.array([[0]], "int32")
    return inputs


def reload_difference(folder, model, tokenizer):
    """Max abs difference between ``model`` and the copy ``zoo.load(folder)`` returns."""
    import keras
    import numpy as np

    import zoo

    reloaded = zoo.load(folder)
    reloaded = getattr(reloaded, "model", reloaded)  # a TextModel when a tokenizer was saved
    inputs = _sample_inputs(model, tokenizer)
    pairs = zip(keras.tree.flatten(model(inputs)), keras.tree.flatten(reloaded(inputs)))
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in pairs)


def cmd_import(args):
    from zoo.checkpoints import import_model, import_tokenizer
    from zoo.model_folder import save_model_folder

    out = os.fspath(args.out)
    if os.path.isdir(out) and os.listdir(out) and not args.overwrite:
        raise FileExistsError(f"{out!r} exists and is not empty; pass --overwrite or choose another --out.")
    if args.source == "keras-hub":
        from zoo.checkpoints import from_keras_hub

        model, tokenizer = from_keras_hub(args.path, tokenizer=not args.no_tokenizer)
    else:
        # The tokenizer first: missing tokenizer files fail before the (slow) weight import.
        tokenizer = None if args.no_tokenizer else import_tokenizer(args.path)
        model = import_model(args.path)
    save_model_folder(out, model, tokenizer)
    diff = reload_difference(out, model, tokenizer)
    kind = type(model).__name__
    print(f"{args.path}: {kind}, {model.count_params():,} parameters"
          f"{', ' + type(tokenizer).__name__ if tokenizer is not None else ', no tokenizer'}")
    print(f"wrote {out}/ (open with zoo.load({out!r})); reload check max abs diff {diff:.1e}")
    if diff > 1e-5:
        raise ValueError(f"The saved folder does not reproduce the imported model (max abs diff {diff:.2e}).")


def register(subparsers):
    p = subparsers.add_parser("import", help="import a local Hugging Face or keras-hub BERT/GPT-2 folder as a zoo model folder")
    p.add_argument("path", help="folder with config.json, model.safetensors (or pytorch_model.bin) and tokenizer files; "
                                "with --from keras-hub, a save_to_preset folder (config.json, model.weights.h5, ...)")
    p.add_argument("--from", dest="source", choices=["huggingface", "keras-hub"], default="huggingface",
                   help="what PATH holds (default: huggingface)")
    p.add_argument("--out", required=True, help="zoo model folder to write (model.keras + tokenizer)")
    p.add_argument("--no-tokenizer", action="store_true", help="import the weights alone")
    p.add_argument("--overwrite", "--force", action="store_true", help="write into a non-empty --out folder")
    p.set_defaults(func=cmd_import)
