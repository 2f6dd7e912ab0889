"""``zoo generate``: continue prompts with a model folder, a .keras file or a preset.

    zoo generate runs/shakespeare-char "ROMEO:" --max-new-tokens 200 --sampler top_p --seed 0
    zoo generate gpt-nano --ids 1,2,3 --ids 4,5 --max-new-tokens 8       # random weights, ids
"""

import os


def _parse_ids(groups):
    rows = []
    for group in groups or []:
        try:
            rows.append([int(t) for t in group.replace(",", " ").split()])
        except ValueError:
            raise ValueError(f"--ids takes comma-separated integers, e.g. --ids 1,2,3; got {group!r}.") from None
    return rows


def _load(name, overrides):
    import zoo
    from zoo.overrides import parse_overrides

    if os.path.exists(name):
        if overrides:
            raise ValueError("--set applies to presets only, not to a saved model.")
        return zoo.load(name)
    return zoo.build(name, **parse_overrides(overrides))


def cmd_generate(args):
    from zoo.generation import generate
    from zoo.model_folder import TextModel

    model = _load(args.model, args.set)
    ids = _parse_ids(args.ids)
    if args.prompts and ids:
        raise ValueError("Give text prompts or --ids, not both.")
    if not args.prompts and not ids:
        raise ValueError("Nothing to generate from: give a text prompt, or token ids with --ids 1,2,3.")
    if args.prompts and not isinstance(model, TextModel):
        raise ValueError(
            f"{args.model!r} has no tokenizer, so it cannot read text: pass token ids with --ids, "
            "or a model folder saved with a tokenizer."
        )
    keras_model = model.model if isinstance(model, TextModel) else model
    seq2seq = type(keras_model).__name__ == "Seq2Seq"
    outputs = generate(
        model,
        list(args.prompts) if args.prompts else ids,
        max_new_tokens=args.max_new_tokens,
        sampler=args.sampler,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        num_beams=args.num_beams,
        length_penalty=args.length_penalty,
        stop_token_ids=args.stop_token_ids,
        seed=args.seed,
        start_token_id=args.start_token_id,
    )
    prompts = args.prompts or ids
    for prompt, output in zip(prompts, outputs):
        if isinstance(output, str):
            print(output if seq2seq else prompt + output)
        else:
            print(" ".join(map(str, output)))
        if len(prompts) > 1:
            print("---")


def register(subparsers):
    from zoo.samplers import SAMPLERS

    p = subparsers.add_parser("generate", help="generate text or token ids with a model")
    p.add_argument("model", help="a model folder, a .keras file, or a preset name (random weights)")
    p.add_argument("prompts", nargs="*", help="text prompts (needs a model folder with a tokenizer)")
    p.add_argument("--ids", action="append", metavar="1,2,3", help="a prompt as token ids (repeatable)")
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--sampler", default="greedy", help=f"one of {', '.join(SAMPLERS)}")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=50)
    p.add_argument("--top-p", type=float, default=0.9)
    p.add_argument("--num-beams", type=int, default=4)
    p.add_argument("--length-penalty", type=float, default=1.0)
    p.add_argument("--stop-token-ids", type=int, nargs="*", default=None)
    p.add_argument("--start-token-id", type=int, default=None, help="Seq2Seq: target start id")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="config overrides for a preset")
    p.set_defaults(func=cmd_generate)
