"""The live projector and phone views of a plan opened to the public."""

from flask import Blueprint

bp = Blueprint("projector", __name__)
