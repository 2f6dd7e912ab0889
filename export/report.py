"""What ``export`` returns: the artifacts, their validation, and a printable table."""

from export import validate


class ExportReport(dict):
    """The result of :func:`export`: a dict (``artifacts``, ``passed``, ``out_dir``,
    ``manifest``); ``str(report)`` is the validation table."""

    def __str__(self):
        head = f"export of {self['name']!r} -> {self['out_dir']}: {'PASSED' if self['passed'] else 'FAILED'}"
        return head + "\n" + validate.format_table(self)
