from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from planapp.accounts.forms import LoginForm
from planapp.accounts.throttle import throttle
from planapp.extensions import db
from planapp.models import User

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send the user elsewhere after login."""
    if not target:
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or ""
        username = form.username.data.strip()
        wait = throttle().retry_after(address, username)
        if wait:
            # Refused before the password is even checked: guessing gains nothing.
            minutes = max(1, -(-wait // 60))
            form.password.errors.append(
                _(
                    "Too many failed sign-ins. Try again in %(minutes)s minutes.",
                    minutes=minutes,
                )
            )
            response = make_response(render_template("accounts/login.html", form=form), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None and user.active and user.check_password(form.password.data):
            throttle().succeeded(address, username)
            # A fresh session on sign-in (no fixation); only the language choice carries over.
            language = session.get("language")
            session.clear()
            if language:
                session["language"] = language
            session["user_id"] = user.id
            session.permanent = True
            flash(_("Signed in as %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")))
        throttle().failed(address, username)
        form.password.errors.append(_("Wrong username or password."))
    if form.errors:
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    session.pop("user_id", None)
    flash(_("Signed out."), "success")
    return redirect(url_for("main.index"))
