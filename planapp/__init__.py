"""planapp: the tambon community-plan forum, from village plans to the integrated tambon plan."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from flask import Flask

from planapp import config as config_module
from planapp.extensions import compress, csrf, db, migrate

# One blueprint per area of the job; each owns its routes, forms and templates.
BLUEPRINTS = [
    "planapp.main.routes",
    "planapp.accounts.routes",
    "planapp.intake.routes",
    "planapp.forum.routes",
    "planapp.projector.routes",
    "planapp.export.routes",
    "planapp.district.routes",
    "planapp.meeting.routes",
    "planapp.transfer.routes",
    "planapp.sync.routes",
    "planapp.sync.api",
    "planapp.ballots.routes",
    "planapp.jobs.routes",
]


def create_app(config: dict | None = None) -> Flask:
    # The instance folder holds the SQLite file, the generated secret key and compiled catalogs.
    instance_path = os.environ.get("PLANAPP_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config_module.configure(app, config or {})

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    compress.init_app(app)
    from planapp import i18n

    i18n.init_app(app)

    from planapp import accounts, formatting, live, security, streams

    security.init_app(app)
    formatting.init_app(app)
    accounts.init_app(app)
    # After the user is loaded: the CSRF check reads the form, which for a file over the limit
    # raises 413 there, and the 413 page (the import page with its message) needs the user.
    csrf.init_app(app)
    live.init_app(app)
    streams.init_app(app)

    for module_name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module_name).bp)

    from planapp import backup, cli

    cli.init_app(app)
    backup.init_app(app)
    return app
