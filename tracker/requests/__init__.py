"""Requests: the table of moves (``workflow``) and the one way to make them
(``operations.move``), what the public may see (``public``) and the console's lists
(``queries``), what happens with time (``lifecycle``), the calendar entry (``calendar``);
the citizen's pages (``views``) and the console's (``console``). The statuses and receipt
numbers, which every layer speaks, are ``tracker.status`` and ``tracker.receipts``."""
