"""The app for `flask --app app` and gunicorn (`gunicorn app:app`)."""

from planapp import create_app

app = create_app()
