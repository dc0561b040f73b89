"""The integrated plan out: Excel workbook, CSV, printable plan."""

from flask import Blueprint

bp = Blueprint("export", __name__)
