"""At the counter: calling a document to a counter (``operations``), moving a scanned pile at
once (``batch``), and the handover, call and batch pages (``views``). A handover itself is
a move of status: ``tracker.requests.operations.move``."""
