"""What every page shares: validation at the edge (``edge``, ``arguments``), what the console's
forms share (``forms``), error answers and their words (``errorpages``, ``wording``),
formatters, security headers and log masking, and the answers a worker keeps for a few
seconds (``cache``)."""
