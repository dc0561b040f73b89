"""What every route says to htmx, in one place: whether a request came from htmx, the plan
version a page sends, and the answers that refuse a change with what to show instead.

Refusals are answers to swap, not errors (base.html's htmx-config says so once, for every page):
- 409 CONFLICT: the change met a newer one (the card or anchor moved, the project was edited on
  another device); the answer shows the fresh state and says why;
- 422 INVALID: bad input; the answer is the form again with the message beside the field;
- 423 LOCKED: the change touches a confirmed (locked) group.
"""

from __future__ import annotations

from flask import abort, make_response, request
from flask_babel import gettext as _

from planapp.intake.values import whole_number_or_none

CONFLICT, INVALID, LOCKED = 409, 422, 423


def is_htmx() -> bool:
    """A request made by htmx (not a boosted page load, which wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def version_field(values, name: str = "version", required: bool = True) -> int | None:
    """The plan version a page sent (the one it shows); 400 when required and unreadable."""
    value = whole_number_or_none(values.get(name))
    if value is not None:
        return value
    if required:
        abort(400, _("The request could not be read."))
    return None


def answer(body, status: int = 200, retarget: str | None = None):
    """An htmx answer; `retarget` swaps it into another element (outerHTML)."""
    response = make_response(body, status)
    if retarget:
        response.headers["HX-Retarget"] = retarget
        response.headers["HX-Reswap"] = "outerHTML"
    return response
