"""The app for `flask --app app` and gunicorn (`gunicorn app:app`)."""

import gc

from planapp import create_app

app = create_app()

# What the app built at start (modules, templates, translations) lives as long as the process:
# move it out of the garbage collector's sight, so the full collections that a large board's
# thousands of objects set off do not walk it again each time (about a fifth of the board
# page's time at 3,000 cards).
gc.collect()
gc.freeze()
