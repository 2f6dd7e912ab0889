"""Functions traced once for fixed specs: the form Keras' ``ExportArchive`` takes.

Shared by the ``serving_default`` signature (``export.savedmodel.writer``)
and the text signatures (``export.savedmodel.text_signatures``).
"""

import tensorflow as tf


def traced(python_function, *args, **kwargs):
    """``tf.function(python_function)`` traced once for these specs: the form
    ``ExportArchive.add_endpoint`` takes (an already-traced function)."""
    function = tf.function(python_function)
    function.get_concrete_function(*args, **kwargs)
    return function


def concrete(function):
    """The first trace of a function from :func:`traced`: the one ``ExportArchive``
    makes the signature (saving adds a trace of its own for the object graph)."""
    return function._list_all_concrete_functions()[0]  # noqa: SLF001 - as ExportArchive reads it
