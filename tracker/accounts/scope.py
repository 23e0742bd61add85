"""Which offices a staff account sees, decided in one place.

An operator or a supervisor sees their own office; an admin sees every office, or the one
they chose with ``?office=``. Every console list, search, count and look-up limits its query
with ``limit`` (or a ``Scope``), and every single row is checked with ``sees``, so that no
view decides this on its own. A supervisor opens accounts of their own office (operators
and supervisors), an admin of any office and role (``may_open``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import QueryableAttribute

from tracker.models import Role, StaffAccount

Query = TypeVar("Query", bound=Select[Any])


def is_admin(account: StaffAccount) -> bool:
    """An admin sees and changes every office's requests, points and accounts."""
    return account.role == Role.ADMIN


def sees(account: StaffAccount, office_id: int) -> bool:
    """Whether the account may see (and, as its role allows, change) a row of this office."""
    return is_admin(account) or account.office_id == office_id


def roles_to_give(account: StaffAccount) -> tuple[Role, ...]:
    """The roles of the accounts this account may open: an admin any, a supervisor an
    operator or a supervisor, an operator none."""
    if is_admin(account):
        return tuple(Role)
    if account.role == Role.SUPERVISOR:
        return (Role.OPERATOR, Role.SUPERVISOR)
    return ()


def may_open(account: StaffAccount, office_id: int, role: Role) -> bool:
    """Whether the account may open an account of this role at this office."""
    return role in roles_to_give(account) and sees(account, office_id)


def shown_office(account: StaffAccount, chosen: int | None = None) -> int | None:
    """The one office the account's lists show, or None for every office (an admin who
    chose none). What anyone else chooses does not count."""
    return chosen if is_admin(account) else account.office_id


def limit(
    query: Query, account: StaffAccount, column: QueryableAttribute[int], chosen: int | None = None
) -> Query:
    """``query`` limited to the rows whose office (``column``, e.g. ``Request.office_id``) the
    account's lists show."""
    office_id = shown_office(account, chosen)
    return query if office_id is None else query.where(column == office_id)


@dataclass(frozen=True)
class Scope:
    """An account with the office it chose: what the console's query functions take, so
    that none of them can be called without saying whose lists it makes."""

    account: StaffAccount
    chosen: int | None = None

    @property
    def office_id(self) -> int | None:
        return shown_office(self.account, self.chosen)

    def limit(self, query: Query, column: QueryableAttribute[int]) -> Query:
        return limit(query, self.account, column, self.chosen)
