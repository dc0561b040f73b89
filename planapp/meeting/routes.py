"""Running the meeting: steps, timer, votes, budget lines, confirm and lock, minutes."""

from flask import Blueprint

bp = Blueprint("meeting", __name__)
