"""Open311 GeoReport v2, the read side, under ``/open311/v2/``: discovery, services and the
status of requests by receipt number, in XML and JSON, from the public view of a request."""
