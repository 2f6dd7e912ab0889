"""TF Serving's ``models.config`` beside the SavedModels: ``out_dir/savedmodel/models.config``.

A ``ModelServerConfig`` text proto listing every model folder::

    model_config_list {
      config {
        name: "gpt2"
        base_path: "/abs/path/to/out_dir/savedmodel/gpt2"
        model_platform: "tensorflow"
      }
    }

``base_path`` is absolute: TF Serving refuses a relative one at start-up
("Expected model ... to have an absolute path or URI"), and would not read
it relative to the config file's folder anyway. The export writes the *final* ``out_dir`` path (it is staged
in a temporary folder and renamed into place, see ``export.staging``), so

    tensorflow_model_server --model_config_file=out_dir/savedmodel/models.config

works from any directory. For a moved folder or a container mount, rewrite it
with another base folder::

    python -m export.savedmodel.serving_config out_dir/savedmodel --base /models   # docker -v .../savedmodel:/models
"""

import argparse
import os
import sys

MODELS_CONFIG = "models.config"


def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def models_config_text(models):
    """The text proto for ``models``: [(name, absolute base_path)]."""
    lines = ["model_config_list {"]
    for name, base_path in models:
        lines += ["  config {", f"    name: {_quoted(name)}", f"    base_path: {_quoted(base_path)}",
                  '    model_platform: "tensorflow"', "  }"]
    return "\n".join(lines + ["}"]) + "\n"


def model_names(savedmodel_root):
    """The model folders under ``savedmodel_root`` that hold a numbered version."""
    names = []
    for name in sorted(os.listdir(savedmodel_root)):
        folder = os.path.join(savedmodel_root, name)
        if os.path.isdir(folder) and any(v.isdigit() for v in os.listdir(folder)):
            names.append(name)
    return names


def write_models_config(savedmodel_root, base):
    """Write ``savedmodel_root/models.config`` with base paths under ``base``; return its path.

    ``savedmodel_root``: where the model folders are now (e.g. the staging
    folder); ``base``: the absolute folder the server will see them in.
    """
    if not os.path.isabs(base):
        raise ValueError(f"base must be an absolute path (TF Serving needs one), got {base!r}.")
    models = [(name, os.path.join(base, name)) for name in model_names(savedmodel_root)]
    path = os.path.join(savedmodel_root, MODELS_CONFIG)
    with open(path, "w", encoding="utf-8") as file:
        file.write(models_config_text(models))
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description="(Re)write TF Serving's models.config for an export's savedmodel/ folder.")
    parser.add_argument("savedmodel_root", help="out_dir/savedmodel")
    parser.add_argument("--base", help="the absolute folder the server sees the models in (default: where they are)")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.savedmodel_root)
    print(write_models_config(root, args.base or root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
