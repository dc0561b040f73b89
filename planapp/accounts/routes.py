from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from planapp.accounts import admin_required, current_user, sessions, sign_in, sign_out
from planapp.accounts import users as accounts_users
from planapp.accounts.forms import ConfirmForm, LoginForm, NewUserForm, PasswordForm, UserForm
from planapp.accounts.throttle import throttle
from planapp.areas import known_areas
from planapp.extensions import db
from planapp.models import Tambon, User
from planapp.urls import safe_redirect_target

bp = Blueprint("accounts", __name__)


def _too_many_attempts(form, wait: int):
    if wait < 60:
        message = _("Too many failed sign-ins. Try again in %(seconds)s seconds.", seconds=wait)
    else:
        minutes = -(-wait // 60)
        message = _("Too many failed sign-ins. Try again in %(minutes)s minutes.", minutes=minutes)
    form.password.errors.append(message)
    response = make_response(render_template("accounts/login.html", form=form), 429)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or ""
        username = form.username.data.strip()
        user = sessions.user_named(username)
        device_cookie = request.cookies.get(sessions.DEVICE_COOKIE)
        known_device = sessions.device_knows(device_cookie, user)
        wait = throttle().retry_after(address, username, known_device=known_device)
        if wait:
            # Refused before the password is even checked: guessing gains nothing.
            return _too_many_attempts(form, wait)
        if sessions.password_is_right(user, form.password.data):
            throttle().succeeded(address, username)
            sign_in(user)
            db.session.commit()
            flash(_("Signed in as %(name)s.", name=user.name), "success")
            next_page = safe_redirect_target(request.args.get("next"), url_for("main.index"))
            response = redirect(next_page)
            sessions.remember_device(response, device_cookie, user)
            return response
        throttle().failed(address, username)
        form.password.errors.append(_("Wrong username or password."))
    if form.errors:
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out()
    db.session.commit()
    flash(_("Signed out."), "success")
    return redirect(url_for("main.index"))


# --- user management (administrators) ----------------------------------------------------


def _tambon_choices() -> list[SelectChoice]:
    tambons = db.session.scalars(
        select(Tambon).order_by(Tambon.province, Tambon.district, Tambon.name)
    ).all()
    return [
        SelectChoice(
            t.id,
            _(
                "%(tambon)s, %(district)s, %(province)s",
                tambon=t.name,
                district=t.district,
                province=t.province,
            ),
        )
        for t in tambons
    ]


def _user_form_page(form, user=None, status=200):
    template = "accounts/user_form.html"
    provinces, districts = known_areas()
    page = render_template(template, form=form, user=user, provinces=provinces, districts=districts)
    return page, status


def _users_page(row_errors=None, status=200):
    everyone = db.session.scalars(
        select(User).order_by(User.active.desc(), User.role, User.username)
    ).all()
    page = render_template(
        "accounts/users.html", users=everyone, confirm=ConfirmForm(), row_errors=row_errors or {}
    )
    return page, status


@bp.route("/admin/users")
@admin_required
def users():
    return _users_page()


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = NewUserForm()
    form.tambons.choices = _tambon_choices()
    if form.validate_on_submit():
        try:
            user = accounts_users.create_user(
                form.username.data,
                form.role.data,
                form.password.data,
                display_name=form.display_name.data,
                tambon_ids=form.tambons.data,
                area_province=form.area_province.data,
                area_district=form.area_district.data,
            )
        except accounts_users.UserRuleError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
    return _user_form_page(form, status=400 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    form.tambons.choices = _tambon_choices()
    if request.method == "GET":
        form.tambons.data = [t.id for t in user.tambons]
    if form.validate_on_submit():
        try:
            accounts_users.update_user(
                user,
                acting=current_user(),
                username=form.username.data,
                role=form.role.data,
                display_name=form.display_name.data,
                tambon_ids=form.tambons.data,
                area_province=form.area_province.data,
                area_district=form.area_district.data,
            )
        except accounts_users.UserRuleError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
    return _user_form_page(form, user, status=400 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def user_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        accounts_users.set_password(user, form.password.data)
        if user.id == current_user().id:
            sign_in(user)  # keep this device signed in; the others are signed out
        db.session.commit()
        flash(_("New password set for %(name)s.", name=user.username), "success")
        return redirect(url_for("accounts.users"))
    status = 400 if form.errors else 200
    return render_template("accounts/user_password.html", form=form, user=user), status


def _set_active(user_id: int, active: bool):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts_users.set_active(user, active, acting=current_user())
    except accounts_users.UserRuleError as error:
        db.session.rollback()
        # The reason goes next to the button that was pressed.
        return _users_page({user.id: error.message}, status=400)
    db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=user.username), "success")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.username), "success")
    return redirect(url_for("accounts.users"))


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.route("/admin/users/<int:user_id>/activate", methods=["POST"])
@admin_required
def activate_user(user_id: int):
    return _set_active(user_id, True)
