"""Managing users: the rules an administrator's screens and the CLI share.

The district office must never lock itself out: the last active administrator can be neither
deactivated nor made a facilitator, and nobody deactivates their own account.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from planapp.accounts import sessions
from planapp.domain import OFFICER_ROLES
from planapp.extensions import db
from planapp.models import Tambon, User


class UserRuleError(Exception):
    """A change the rules refuse; `field` says next to which form field the message goes."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def username_taken(username: str, except_user: User | None = None) -> bool:
    query = select(User.id).where(func.lower(User.username) == username.lower())
    if except_user is not None:
        query = query.where(User.id != except_user.id)
    return db.session.scalar(query) is not None


def _active_admin_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    )


def _tambons(ids: list[int]) -> list[Tambon]:
    if not ids:
        return []
    return list(db.session.scalars(select(Tambon).where(Tambon.id.in_(ids))).all())


AREA_MAX = 200


def _area_name(text: str | None, field: str) -> str:
    name = " ".join((text or "").split())  # as typed, without stray or doubled spaces
    if len(name) > AREA_MAX:
        raise UserRuleError(field, _l("Keep the name under 200 characters."))
    if not name.isprintable():
        raise UserRuleError(field, _l("The name has invisible characters: type it again."))
    return name


def officer_area(role: str, province: str | None, district: str | None):
    """(area_province, area_district) the role keeps: a district officer's district of a
    province, a provincial officer's province, nothing for the other roles (what the form had
    in those fields is dropped). Raises UserRuleError next to the field at fault."""
    if role not in OFFICER_ROLES:
        return None, None
    province = _area_name(province, "area_province")
    if not province:
        raise UserRuleError("area_province", _l("Type or choose the officer's province."))
    if role == "provincial_officer":
        return province, None
    district = _area_name(district, "area_district")
    if not district:
        raise UserRuleError("area_district", _l("Type or choose the officer's district."))
    return province, district


def create_user(
    username: str,
    role: str,
    password: str,
    display_name: str = "",
    tambon_ids=(),
    area_province: str | None = None,
    area_district: str | None = None,
) -> User:
    if username_taken(username):
        raise UserRuleError("username", _l("This username is already taken."))
    area = officer_area(role, area_province, area_district)
    user = User(username=username, role=role, display_name=display_name or username, active=True)
    user.area_province, user.area_district = area
    user.set_password(password)
    # Administrators edit every plan, officers none; an assignment would only mislead.
    user.tambons = _tambons(list(tambon_ids)) if role == "facilitator" else []
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    acting: User,
    username: str,
    role: str,
    display_name: str,
    tambon_ids=(),
    area_province: str | None = None,
    area_district: str | None = None,
) -> None:
    area = officer_area(role, area_province, area_district)
    if username_taken(username, except_user=user):
        raise UserRuleError("username", _l("This username is already taken."))
    if user.is_admin and user.active and role != "admin" and _active_admin_count() <= 1:
        raise UserRuleError("role", _l("This is the only active administrator."))
    if user.id == acting.id and role != "admin":
        raise UserRuleError("role", _l("You cannot take away your own administrator role."))
    user.username = username
    user.role = role
    user.area_province, user.area_district = area
    user.display_name = display_name or username
    user.tambons = _tambons(list(tambon_ids)) if role == "facilitator" else []
    db.session.flush()


def set_active(user: User, active: bool, *, acting: User) -> None:
    if not active:
        if user.id == acting.id:
            raise UserRuleError("active", _l("You cannot deactivate your own account."))
        if user.is_admin and user.active and _active_admin_count() <= 1:
            raise UserRuleError("active", _l("This is the only active administrator."))
    user.active = active
    if not active:
        sessions.end_all(user)
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """A new password signs the user out on every device (the acting device signs in again)."""
    user.set_password(password)
    sessions.end_all(user)
    db.session.flush()


# --- the first run ------------------------------------------------------------------------


def no_user_yet() -> bool:
    """A fresh install: nobody can sign in until the first administrator exists."""
    return db.session.scalar(select(User.id).limit(1)) is None


def create_first_administrator(username: str, password: str, display_name: str = "") -> User:
    """The first user, an administrator: only while there is no user at all (the home page on
    the laptop itself offers it; afterwards administrators add users)."""
    if not no_user_yet():
        raise UserRuleError("username", _l("The first administrator exists already: sign in."))
    return create_user(username, "admin", password, display_name)
