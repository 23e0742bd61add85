"""The JSON API: every ``/api/v1`` route (``views``) and every JSON shape it answers with
(``serialisers``)."""
