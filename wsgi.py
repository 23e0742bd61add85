"""The WSGI entry point: ``gunicorn wsgi:app``. It builds the web app only."""

from tracker import create_app

app = create_app()
