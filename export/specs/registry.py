"""The registry of export specs, keyed by model class, and the lookup by MRO.

Specs name their class by import path (``"zoo.models.gpt:Gpt"``), so
registering one imports nothing; :func:`spec_for` imports the classes when it
first walks a model's MRO, so a subclass of ``Gpt`` is exported as a GPT.
A model no spec claims gets :data:`~export.specs.generic.GENERIC`.
"""

from export.specs.base import resolve
from export.specs.generic import GENERIC

_REGISTRY = []
_classes = {}


def register(spec):
    """Add ``spec`` to the registry; returns it so a family file can name it."""
    if spec.model_class is None:
        raise ValueError(f"spec {spec.family!r} names no model class")
    if any(s.model_class == spec.model_class for s in _REGISTRY):
        raise ValueError(f"{spec.model_class} already has a spec")
    _REGISTRY.append(spec)
    return spec


def registered():
    """Every registered spec, in registration order."""
    return tuple(_REGISTRY)


def model_class(spec):
    """The class ``spec`` is registered for (imported on first use)."""
    if spec.model_class not in _classes:
        _classes[spec.model_class] = resolve(spec.model_class)
    return _classes[spec.model_class]


def spec_for(model):
    """The spec of the closest class in ``type(model)``'s MRO that has one, else :data:`GENERIC`."""
    by_class = {model_class(spec): spec for spec in _REGISTRY}
    for cls in type(model).__mro__:
        if cls in by_class:
            return by_class[cls]
    return GENERIC
