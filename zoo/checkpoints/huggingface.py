"""``from_huggingface(path)``: a local Hugging Face checkpoint folder -> (zoo model, tokenizer).

    model, tokenizer = zoo.from_huggingface("all-MiniLM-L6-v2/")
    ids = tokenizer(["A sentence."])            # add [CLS]/[SEP] for BERT inputs

Supported ``model_type`` values are the keys of :data:`ARCHITECTURES`. Every
problem is found before anything is built or executed where possible
(model type, weight file, unsafe pickles), and tensor names/shapes are all
checked before any weight is assigned.
"""

from zoo.checkpoints import bert, gpt2, tokenizer_files
from zoo.checkpoints.hf_folder import CheckpointError, check_folder, read_config, read_tensors, weight_file

# Hugging Face model_type -> (weight mapping module, tokenizer format)
ARCHITECTURES = {"bert": (bert, "bert"), "gpt2": (gpt2, "gpt2")}


def model_type(config, folder=""):
    """The checkpoint's ``model_type``, or an error that lists the supported ones."""
    kind = config.get("model_type")
    if kind not in ARCHITECTURES:
        raise CheckpointError(
            f"Unsupported model_type {kind!r} in {folder}/config.json; zoo imports "
            f"{', '.join(sorted(ARCHITECTURES))} (BERT of any size incl. MiniLM; GPT-2)."
        )
    return kind


def import_model(path):
    """The zoo model (``Bert``, ``BertMaskedLM``, ``BertClassifier``,
    ``BertTokenClassifier`` or ``Gpt``) with the checkpoint's weights."""
    folder = check_folder(path)
    config = read_config(folder)
    kind = model_type(config, folder)
    weight_file(folder)  # a missing weight file is reported before anything is built
    mapping, _ = ARCHITECTURES[kind]
    return mapping.build_model(config, read_tensors(folder))


def import_tokenizer(path):
    """The zoo tokenizer (keras-hub WordPiece or byte-level BPE) of the checkpoint folder."""
    folder = check_folder(path)
    _, tokenizer_format = ARCHITECTURES[model_type(read_config(folder), folder)]
    return tokenizer_files.load_tokenizer(folder, tokenizer_format)


def from_huggingface(path, tokenizer=True):
    """Import a local Hugging Face folder; returns ``(model, tokenizer)``.

    Args:
        path: a folder with ``config.json``, ``model.safetensors`` (or
            ``pytorch_model.bin``, read only with ``torch.load(weights_only=True)``)
            and tokenizer files (``vocab.txt``; ``vocab.json`` + ``merges.txt``;
            or ``tokenizer.json``). Nothing is downloaded.
        tokenizer: False to import the weights alone (``(model, None)``).

    The model is imported first; then a folder without tokenizer files raises
    :class:`TokenizerFilesMissing`, naming the files it looked for.
    """
    model = import_model(path)
    if not tokenizer:
        return model, None
    return model, import_tokenizer(path)
