"""``zoo list`` and ``zoo build``: the presets, and building one."""

from zoo.overrides import parse_overrides


def cmd_list(args):
    from zoo.presets import PRESETS

    width = max(map(len, PRESETS))
    for name in sorted(PRESETS):
        preset = PRESETS[name]
        print(f"{name:<{width}}  {preset.family:<8}  {preset.description}")


def cmd_build(args):
    import zoo

    model = zoo.build(args.name, **parse_overrides(args.set))
    print(f"{args.name}: {type(model).__name__}, {model.count_params():,} parameters")
    if args.out:
        model.save(args.out)
        print(f"saved to {args.out}")


def register(subparsers):
    p = subparsers.add_parser("list", help="list the model presets")
    p.set_defaults(func=cmd_list)
    p = subparsers.add_parser("build", help="build a preset, print its size, optionally save it")
    p.add_argument("name", help="a preset name (see `zoo list`)")
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="config overrides")
    p.add_argument("--out", help="save the built model to this .keras file")
    p.set_defaults(func=cmd_build)
