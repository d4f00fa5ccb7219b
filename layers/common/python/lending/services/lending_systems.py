"""The register of lending systems (the identifiers a warehouse loan's `bill_drm_to` may name) and the
loans their lending URLs gave (what the monthly DRM billing report counts)."""

from __future__ import annotations

from datetime import datetime

from ..domain.loans import Loan
from ..domain.values import Value
from ..store import billing as billing_store
from ..store import lending_systems as store

WAREHOUSE = "warehouse"  # the origin of loans made through a loanUrl (services/warehouse_loans.ORIGIN)


class LendingSystem(Value):
    system_id: str
    name: str
    registered_at: str  # ISO date

    def __init__(self, system_id: str, name: str, registered_at: str) -> None:
        self._init(system_id, name, registered_at)


def register(system_id: str, name: str, now: datetime) -> None:
    """Register (or rename) a lending system; the caller checked the identifier's form."""
    store.register(system_id, name, now)


def listed() -> list[LendingSystem]:
    return [LendingSystem(s["id"], s["name"], s["registeredAt"]) for s in store.listed()]


def known(system_id: str) -> bool:
    return store.known(system_id)


def warehouse_loans_created(start: datetime, end: datetime) -> list[Loan]:
    """Every loan a lending URL gave in [start, end), whatever became of it (the DRM fee is due when a
    file is issued)."""
    return billing_store.loans_created(WAREHOUSE, start, end)
