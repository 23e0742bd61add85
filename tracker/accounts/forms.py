"""The sign-in form and its query argument, the form that opens an account, and the form
that chooses one's own password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import EqualTo, Length, Optional

from tracker.models import Role
from tracker.web.edge import (
    CleanText,
    Form,
    QueryForm,
    Required,
    Visible,
)
from tracker.web.forms import options

ROLE_NAMES = {
    Role.OPERATOR: _l("Operator"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ADMIN: _l("Admin"),
}


class LoginForm(Form):
    username = StringField(_l("Username"), [CleanText(), Visible(), Length(max=60)])
    password = PasswordField(_l("Password"), [Required(), Length(max=200)])
    next = HiddenField()


class LoginQuery(QueryForm):
    """``?next=``: where to go after signing in (a path of the console, else its home)."""

    next = StringField(validators=[Optional(), Length(max=2000)])


class NewAccountForm(Form):
    """An account opened in the console. Every role and office is a valid choice here; the
    view offers, and ``scope.may_open`` allows, only those the signed-in account may give."""

    username = StringField(_l("Username"), [CleanText(), Visible(), Length(max=60)])
    full_name = StringField(_l("Full name"), [CleanText(), Visible(), Length(max=200)])
    office = SelectField(_l("Office"), coerce=int, validators=[Optional()])
    role = SelectField(
        _l("Role"), choices=options((r.value, label) for r, label in ROLE_NAMES.items())
    )


class PasswordForm(Form):
    """Choose one's own password: the current one (or the one-time one), the new one twice."""

    current = PasswordField(_l("Current password"), [Required(), Length(max=200)])
    new = PasswordField(_l("New password"), [Required(), Length(max=200)])
    again = PasswordField(
        _l("New password again"),
        [Required(), EqualTo("new", message=_l("The two new passwords are not the same."))],
    )
