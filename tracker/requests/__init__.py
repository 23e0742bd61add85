"""Requests: statuses (``status``), the table of moves (``workflow``) and the one way to make
them (``operations.move``), receipt numbers (``receipts``), what the public may see
(``public``) and the console's lists (``queries``), what happens with time (``lifecycle``),
the calendar entry (``calendar``); the citizen's pages (``views``) and the console's
(``console``)."""
