"""The app the single-process benchmarks run: a fresh SQLite file in a scratch instance folder
(a DATABASE_URL in the environment is ignored, so a benchmark never writes to a real database)."""

from __future__ import annotations

import os
import tempfile

from flask import Flask

from planapp import create_app


def scratch_app() -> Flask:
    instance = tempfile.mkdtemp(prefix="planapp-bench-")
    os.environ["PLANAPP_INSTANCE_PATH"] = instance
    os.environ.pop("DATABASE_URL", None)
    return create_app(
        {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite"}
    )
