"""Village plans in: tambon set-up, villages, projects, Excel import, merging duplicates."""

from flask import Blueprint

bp = Blueprint("intake", __name__)
