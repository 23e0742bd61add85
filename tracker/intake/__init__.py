"""Intake: registering a request (``operations``), the checks of what the counter types
(``checks``, ``nik``), and the intake page (``views``)."""
