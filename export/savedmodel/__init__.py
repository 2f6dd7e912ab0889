"""SavedModel artifacts for TF Serving: writing, text signatures, and the TF1-session gate.

``writer`` (``<name>/1/`` with ``serving_default``), ``tracing`` (functions
traced once for ``ExportArchive``), ``text_signatures`` (tokenizer inside
the graph), ``session`` (a SavedModel run as TF Serving runs it, in its own
process), ``serving_check`` (that run vs Keras; ``check_savedmodel``),
``serving_config`` (TF Serving's ``models.config``).

Importing this package imports nothing heavy: each module imports what it needs.
"""
