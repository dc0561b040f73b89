"""The forum board: priority order, the three funding groups, feasibility, urgency, agencies."""

from flask import Blueprint

bp = Blueprint("forum", __name__)
