"""The outbox: messages to citizens, their states and texts (``operations``), and the
dispatcher that sends them (``dispatch``); the supervisors' page (``views``)."""
