"""The errors export raises.

Both subclass ``ValueError`` so the ``zoo`` command line reports them as a
one-line error with exit status 2, like every other bad input.
"""


class ExportError(ValueError):
    """An export that cannot be done as asked (bad format, folder, model, opset...)."""


class ValidationError(ExportError):
    """An artifact whose outputs differ from the Keras model's beyond tolerance.

    ``report`` holds the validation rows (per artifact and output) so the
    caller can print what failed; nothing was moved into place.
    """

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report
