"""Public statistics: the daily roll-up and the figures (``figures``), the charts
(``charts``), and ``/statistik`` with its CSV and JSON (``views``)."""
