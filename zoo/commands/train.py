"""``zoo train RECIPE [--options]``: run a training recipe (see ``zoo.training``).

Each recipe is a sub-command whose flags are generated from its declared
options (``zoo train gpt-shakespeare-char --help`` lists them with their
defaults), so the CLI and ``zoo.training.run_recipe`` accept the same things.

Exit status: 0 done, 2 bad input (options, folder, ``TF_CONFIG``), and for a
multi-worker run 75 when the cluster could not form or lost a worker --
start every worker again with the same command (it resumes).
"""

import sys


def _flag_type(option):
    wanted = option.value_type
    if wanted is bool:
        return lambda text: {"true": True, "1": True, "yes": True, "false": False, "0": False,
                             "no": False}[text.lower()]
    return wanted


def cmd_train(args):
    import zoo.training

    recipe = zoo.training.get_recipe(args.recipe)
    declared = zoo.training.declared_options(recipe)
    options = {name: getattr(args, name) for name in declared if getattr(args, name) is not None}
    out = args.out or f"runs/{args.recipe}"
    from zoo.training.rendezvous import EXIT_STARTUP_TIMEOUT, PeersUnreachable
    from zoo.training.runner import WorkerLost

    try:
        metrics = zoo.training.run_recipe(args.recipe, out, overwrite=args.overwrite,
                                          verbose=1 if args.verbose is None else args.verbose, **options)
    except (PeersUnreachable, WorkerLost) as error:
        print(f"zoo train: error: {error}", file=sys.stderr)
        return EXIT_STARTUP_TIMEOUT
    print(f"metrics.json: {out}/metrics.json")
    return 0 if metrics else 1


def register(subparsers):
    from zoo.training import RECIPES, declared_options

    p = subparsers.add_parser("train", help="train a recipe (progress bars, checkpoints with resume, "
                                            "TensorBoard logs, loss curve, metrics.json, model folder)")
    recipes = p.add_subparsers(dest="recipe", required=True, metavar="RECIPE")
    for name, recipe in sorted(RECIPES.items()):
        r = recipes.add_parser(name, help=recipe.description, description=f"{recipe.description}. Goal: {recipe.goal}.")
        r.add_argument("--out", help=f"output folder (default runs/{name})")
        r.add_argument("--overwrite", action="store_true",
                       help="replace a different run (or a checkpoint from one) in --out")
        r.add_argument("--verbose", type=int, choices=(0, 1, 2), help="Keras verbosity (default 1: progress bars)")
        for option_name, option in declared_options(recipe).items():
            r.add_argument(
                "--" + option_name.replace("_", "-"),
                dest=option_name,
                type=_flag_type(option),
                choices=option.choices,
                default=None,
                help=f"{option.help} (default: {option.default!r})",
            )
        r.set_defaults(func=cmd_train)
