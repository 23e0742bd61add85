"""The audit trail: append-only rows chained by SHA-256, the ``Actor`` that operations are
given, redaction and verification (``trail``), and staff searches kept as keyed hashes
(``search``)."""
