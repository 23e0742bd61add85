"""The sign-in form and its query argument."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.validators import Length, Optional

from tracker.web.edge import (
    CleanText,
    Form,
    QueryForm,
    Required,
    Visible,
)


class LoginForm(Form):
    username = StringField(_l("Username"), [CleanText(), Visible(), Length(max=60)])
    password = PasswordField(_l("Password"), [Required(), Length(max=200)])
    next = HiddenField()


class LoginQuery(QueryForm):
    """``?next=``: where to go after signing in (a path of the console, else its home)."""

    next = StringField(validators=[Optional(), Length(max=2000)])
