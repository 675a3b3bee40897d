"""The single entry point for servers: `gunicorn -w 1 --threads 100 wsgi:app`."""

from editor import create_app

app = create_app()
