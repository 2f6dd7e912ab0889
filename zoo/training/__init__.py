"""Training recipes on the shipped corpora: pretrain, fine-tune, translate.

    import zoo.training
    metrics = zoo.training.run_recipe("gpt-shakespeare-char", "runs/gpt", iterations=3000)
    lm = zoo.load("runs/gpt/model")

    zoo train gpt-shakespeare-char --out runs/gpt --iterations 3000

| concept | file |
|---|---|
| recipe options: declaration, checking, what identifies a run | ``options.py`` |
| Recipe and Task: what a recipe gives the runner | ``task.py`` |
| the shared loop: strategy, compile, fit, artifacts | ``runner.py`` |
| output folder ownership, resume checks | ``run_folder.py`` |
| AdamW + warmup/cosine | ``optimizer.py`` |
| layer-wise learning-rate decay | ``layer_decay.py`` |
| linear probe before fine-tuning (LP-FT) | ``linear_probe.py`` |
| tf.distribute strategy | ``strategy.py`` |
| multi-worker: TF_CONFIG's cluster, checked | ``cluster.py`` |
| multi-worker: meeting the peers, bounded | ``rendezvous.py`` |
| multi-worker: the strategy, sharding, agreement checks | ``multi_worker.py`` |
| multi-worker: chief writes the run folder, others scratch | ``worker_files.py`` |
| gradient clipping of the global batch under any strategy | ``clipping.py`` |
| wall clock and time limit callbacks | ``callbacks.py`` |
| length-bucketed batches | ``batching.py`` |
| loss curve PNG, metrics.json | ``report.py`` |
| the recipes | ``recipes/`` |
"""

from zoo.training.recipes import RECIPES
from zoo.training.runner import declared_options


def list_recipes():
    """Recipe names, sorted."""
    return sorted(RECIPES)


def get_recipe(name):
    """The recipe called ``name``, or a ValueError listing the valid names."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"Unknown recipe {name!r}. Valid recipes: {', '.join(sorted(RECIPES))}.") from None


def run_recipe(name, out_dir, overwrite=False, verbose="auto", callbacks=(), **options):
    """Train recipe ``name`` into ``out_dir`` (see ``zoo.training.runner.run``); returns its metrics.

    ``options`` override the recipe's defaults (``recipe_options(name)`` lists them).
    ``callbacks`` are extra Keras callbacks for ``fit``.
    """
    from zoo.training.runner import run

    return run(get_recipe(name), out_dir, overwrite=overwrite, verbose=verbose, callbacks=callbacks, **options)


def recipe_options(name):
    """{option: (default, help)} of recipe ``name``."""
    return {k: (v.default, v.help) for k, v in declared_options(get_recipe(name)).items()}


__all__ = ["RECIPES", "get_recipe", "list_recipes", "recipe_options", "run_recipe"]
