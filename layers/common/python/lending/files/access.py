"""Who may read the FTP files (files/ftp.py writes them): the login the Transfer Family identity provider
checks (files/transfer.py). Apart from the writer so that the login function loads none of what writes
the files (the ONIX and PMB writers, lxml): its cold start is a login's wait."""

from __future__ import annotations

from ..domain.accounts import Account, Role
from ..domain.codes import Refused
from ..domain.values import Value
from ..services import auth
from ..store import catalogue as feeds
from ..store import ftp_files as store
from . import layout

ROLES = (Role.COLLECTIVITY, Role.RESELLER)  # the accounts with a folder (getOffers callers too)


def distributors() -> list[str]:
    """Every distributor with a catalogue folder: those with a feed and every distributor account."""
    return sorted({f.gln_distributor for f in feeds.feeds()} | set(store.accounts_of(Role.DISTRIBUTOR)))


class Access(Value):
    gln: str
    tree: list[tuple[str, str]]  # (visible directory, bucket key prefix)

    def __init__(self, gln: str, tree: list[tuple[str, str]]) -> None:
        self._init(gln, tree)


def visible_distributors(account: Account) -> list[str]:
    return [gln for gln in distributors() if account.may_order_from(gln)]


def login(username: object, password: object) -> Access | None:
    """The tree an FTP login may read: the hub's own accounts and passwords (PNB's), collectivities and
    resellers only; None for anything else (a wrong password, a distributor, a malformed name)."""
    try:
        account = auth.authenticate(username, password, ROLES)
    except Refused:
        return None
    return Access(account.gln, layout.mappings(account.gln, visible_distributors(account)))
