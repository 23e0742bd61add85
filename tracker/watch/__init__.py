"""Watching the service: liveness, readiness and job health (``health``), Prometheus metrics
(``metrics``), JSON request logs (``logs``), and their routes and request hooks (``views``)."""
