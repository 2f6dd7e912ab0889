"""``zoo export NAME_OR_FOLDER --formats savedmodel,onnx --out DIR``: validated artifacts.

NAME_OR_FOLDER is a preset name (built with random weights: useful for
serving and benchmark plumbing), a ``.keras`` file, or a model folder
(``zoo.load``; a tokenizer there adds the SavedModel's text signatures).
Prints the validation table; exits non-zero when an artifact fails
validation, in which case nothing is written.

``zoo check-export FOLDER``: an existing export's SavedModels loaded as TF
Serving loads them (``export.check_savedmodel``: files complete, TF1 session
loader with XLA off, every signature runs); exits non-zero naming the file or
signature that fails.
"""

import os


def _load(source, overrides):
    import zoo

    if os.path.exists(source):
        if overrides:
            raise ValueError("--set applies to preset names only, not to saved models.")
        return zoo.load(source), False
    return zoo.build(source, **overrides), True


def cmd_export(args):
    from export import export
    from zoo.overrides import parse_overrides

    from export.arguments import check_formats, check_quantize

    check_formats(args.formats)  # a bad format or quantize mode fails before a (slow) model build
    check_quantize(args.quantize)
    model, random_weights = _load(args.model, parse_overrides(args.set))
    if random_weights:
        print(f"{args.model}: built from its preset with random weights (pass a folder or .keras file to export trained weights)")
    options = {k: v for k, v in (("opset", args.opset), ("atol", args.atol)) if v is not None}
    limits = {k: v for k, v in (("perplexity_increase", args.max_perplexity_increase),
                                ("bleu_drop", args.max_bleu_drop)) if v is not None}
    if "perplexity_increase" in limits:
        limits["perplexity_increase"] /= 100.0  # given in percent
    if limits:
        options["quality_limits"] = limits
    report = export(
        model,
        args.out,
        formats=args.formats,
        optimize=args.optimize,
        quantize=args.quantize,
        force=args.force,
        name=args.name,
        decoders=not args.no_decoders,
        fp16=args.fp16,
        **options,
    )
    print(report)
    print(f"manifest: {report['manifest']}")


def register(subparsers):
    p = subparsers.add_parser("export", help="export a model to SavedModel / ONNX, validated against Keras")
    p.add_argument("model", help="a preset name (random weights), a .keras file or a model folder")
    p.add_argument("--out", required=True, help="export folder (must not exist unless --force)")
    p.add_argument("--formats", default="savedmodel,onnx",
                   help="comma-separated: savedmodel,onnx,huggingface (default savedmodel,onnx; "
                        "huggingface: a transformers checkpoint folder, BERT/GPT only)")
    p.add_argument("--force", action="store_true", help="replace an existing export folder (after validation)")
    p.add_argument("--optimize", action="store_true", help="also write an ONNX Runtime fused graph")
    p.add_argument("--quantize", default=None, metavar="MODES",
                   help="also write quantized ONNX graphs (forward and past-state decoders): int8 (dynamic), "
                        "int4 (4-bit weight-only, MatMulNBits), or both: int8,int4")
    p.add_argument("--max-perplexity-increase", type=float, default=None, metavar="PERCENT",
                   help="quality gate: a quantized language model may raise held-out perplexity by this "
                        "many percent (default 2)")
    p.add_argument("--max-bleu-drop", type=float, default=None, metavar="POINTS",
                   help="quality gate: a quantized seq2seq decoder may lose this many greedy BLEU points "
                        "(default 0.5)")
    p.add_argument("--fp16", action="store_true", help="also write a float16 ONNX graph (GPU)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset, 13..18 (default 17)")
    p.add_argument("--atol", type=float, default=None, help="validation tolerance: max abs diff vs Keras (default 1e-4)")
    p.add_argument("--name", help="served model name (default: the model's name)")
    p.add_argument("--no-decoders", action="store_true", help="skip the ONNX decoder with past state")
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="config overrides for a preset")
    p.set_defaults(func=cmd_export)

    c = subparsers.add_parser("check-export", help="check an export's SavedModels as TF Serving loads them")
    c.add_argument("folder", help="an export folder, its savedmodel/<name> or a version folder")
    c.set_defaults(func=cmd_check_export)


def cmd_check_export(args):
    from export.savedmodel.serving_check import check_savedmodel, format_results

    print(format_results(check_savedmodel(args.folder)))
