"""After the forum: follow-up of every project, the district dashboard, agencies across tambons."""

from flask import Blueprint

bp = Blueprint("district", __name__)
