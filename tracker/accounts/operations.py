"""Staff accounts: passwords (argon2), the rules a new password must meet, signing in,
accounts opened in the console with a one-time password, choosing one's own password, and
ending every session of an account."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import AccountError
from tracker.models import Office, Role, StaffAccount

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_STRENGTH = 2  # zxcvbn's score: 0 and 1 are guessed from lists of common passwords
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
PRODUCT_WORDS = ["siapambil", "dukcapil", "disdukcapil", "ktp", "kependudukan"]
# A one-time password is read aloud or copied by hand: no 0/o, 1/l/i look-alikes.
EASY_TO_READ = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_GROUPS, ONE_TIME_GROUP = 4, 4

hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)  # the default
_profile = "RFC_9106_LOW_MEMORY"
# Verified against when the username is unknown, so that both answers take as long.
_UNKNOWN = hasher.hash("no account has this password")


def use_profile(name: str) -> None:
    """Hash new passwords with the argon2 profile ``name`` of ``argon2.profiles`` (the
    ``PASSWORD_HASHING`` setting, checked in ``tracker.config``), as the app starts. Checking
    a password reads its parameters from the hash it was stored with, and a sign-in stores it
    again under the profile in use when they differ, so a new profile reaches each account as
    its owner signs in."""
    global hasher, _profile, _UNKNOWN
    if name == _profile:
        return
    hasher = PasswordHasher.from_parameters(getattr(profiles, name))
    _profile = name
    _UNKNOWN = hasher.hash("no account has this password")


def password_problem(
    password: str, username: str = "", office: Office | None = None
) -> AccountError | None:
    """Why a password cannot be used (``password_short``, ``password_long``,
    ``password_weak``), or None when it can."""
    if len(password) < MIN_LENGTH:
        return AccountError(reason="password_short", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return AccountError(reason="password_long", count=MAX_LENGTH)
    words = [username, *PRODUCT_WORDS, *(office.name.split() if office else [])]
    if zxcvbn(password, user_inputs=words)["score"] < MIN_STRENGTH:
        return AccountError(reason="password_weak")
    return None


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find(session: Session, username: str) -> StaffAccount | None:
    name = normalise_username(username)
    return session.scalars(select(StaffAccount).where(StaffAccount.username == name)).first()


def create(
    session: Session,
    *,
    username: str,
    password: str,
    office: Office,
    role: Role,
    full_name: str = "",
) -> StaffAccount:
    """A new active account; raises AccountError when the name or the password will not do."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise AccountError(reason="username_form")
    if session.scalar(select(func.count()).where(StaffAccount.username == name)):
        raise AccountError(reason="username_taken", name=name)
    problem = password_problem(password, name, office)
    if problem is not None:
        raise problem
    account = StaffAccount(
        username=name,
        full_name=full_name.strip(),
        password_hash=hasher.hash(password),
        office=office,
        role=role,
    )
    session.add(account)
    session.flush()
    return account


def authenticate(
    session: Session, username: str, password: str, now: dt.datetime
) -> StaffAccount | None:
    """The active account with this name and password, signed in at ``now``, or None; as
    slow either way."""
    account = find(session, username)
    if account is None or not account.active:
        _verify(_UNKNOWN, password)
        return None
    if not _verify(account.password_hash, password):
        return None
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    account.last_login_at = now
    return account


def _verify(stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """Four groups of four easy-to-read characters (about 79 bits), e.g. ``k7pq-2xmz-…``."""
    groups = (
        "".join(secrets.choice(EASY_TO_READ) for _ in range(ONE_TIME_GROUP))
        for _ in range(ONE_TIME_GROUPS)
    )
    return "-".join(groups)


def open_account(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    *,
    username: str,
    full_name: str,
    office: Office,
    role: Role,
) -> tuple[StaffAccount, str]:
    """A new account with a one-time password, which it must replace at first sign-in; the
    password is returned to be shown once, and kept only as its hash."""
    password = one_time_password()
    account = create(
        session, username=username, password=password, office=office, role=role,
        full_name=full_name,
    )  # fmt: skip
    account.must_change_password = True
    audit.record(
        session, "account_created", actor=actor, at=now, target=account.username,
        role=role.value, office=office.code,
    )  # fmt: skip
    return account, password


def choose_password(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    account: StaffAccount,
    *,
    current: str,
    new: str,
) -> None:
    """The account replaces its password (the one-time one, or its own): ``current`` must
    be right (else ``password_wrong``) and ``new`` good enough. Every session ends."""
    if not _verify(account.password_hash, current):
        raise AccountError(reason="password_wrong")
    if new == current:
        raise AccountError(reason="password_same")
    set_password(account, new)
    account.must_change_password = False
    audit.record(session, "password_set", actor=actor, at=now, target=account.username)


def set_password(account: StaffAccount, password: str) -> None:
    problem = password_problem(password, account.username, account.office)
    if problem is not None:
        raise problem
    account.password_hash = hasher.hash(password)
    end_sessions(account)


def end_sessions(account: StaffAccount) -> None:
    """Every cookie of this account stops working: it names the session version it began in."""
    account.session_version += 1


def set_active(account: StaffAccount, active: bool) -> None:
    account.active = active
    end_sessions(account)
