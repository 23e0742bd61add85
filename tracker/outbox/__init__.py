"""The outbox: messages to citizens and other systems. ``operations`` is their owner (the
transition table and the only functions that change a message), ``kinds`` says for each
kind whether consent and quiet hours apply, ``texts`` renders them in the outbox's own
Jinja environment, ``dispatch`` sends them, ``queries`` reads one request's messages for its
page (the last error masked), ``views`` is the supervisors' page."""
