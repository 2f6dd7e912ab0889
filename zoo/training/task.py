"""What a recipe hands the runner: :class:`Recipe` (name, options, setup) and :class:`Task`.

A recipe's ``setup(options, initial_epoch)`` runs inside the
``tf.distribute`` strategy's scope and returns a Task: the model, the
``tf.data`` pipelines, the loss and metrics, how long to train, how to
measure the result at the end, and the tokenizer(s) saved with the model.
The runner (``zoo.training.runner``) does everything else the same way for
every recipe.
"""

import dataclasses
from typing import Callable, Optional


@dataclasses.dataclass
class Task:
    model: object                     # a compiled-later keras.Model
    train: object                     # tf.data.Dataset of (x, y) or (x, y, sample_weight)
    epochs: int
    total_steps: int                  # for the learning-rate schedule
    loss: object
    validation: object = None         # tf.data.Dataset, evaluated at every epoch end
    steps_per_epoch: Optional[int] = None
    metrics: list = dataclasses.field(default_factory=list)
    weighted_metrics: list = dataclasses.field(default_factory=list)
    evaluate: Optional[Callable] = None   # model -> dict of final metrics
    tokenizer: object = None
    target_tokenizer: object = None
    generation: Optional[dict] = None
    # The recipe's own zoo.training.precision.choose result, when its data depends on
    # it (bert-sentiment's bucket width); None: the runner chooses.
    precision: object = None


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    options: dict                     # name -> zoo.training.options.Option (recipe-specific)
    setup: Callable                   # (options: dict, initial_epoch: int) -> Task
    goal: str = ""                    # the target, printed with the result
