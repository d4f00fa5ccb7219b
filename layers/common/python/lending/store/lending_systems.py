"""The lending systems the platform knows: the identifiers a warehouse loan may bill its DRM fee to
(`bill_drm_to`: "the alphanumeric identifier of the lending system obtained from the platform").

- lending system   LENDINGSYSTEMS / <id>      its name and when it was registered (one partition: a few
                                              hundred systems at most, listed in one query)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.dates import iso
from . import table

PK = "LENDINGSYSTEMS"


def register(system_id: str, name: str, now: datetime) -> None:
    """Register (or rename) a lending system."""
    table.put({"pk": PK, "sk": system_id, "type": "lendingSystem", "name": name, "registeredAt": iso(now)})


def known(system_id: str) -> bool:
    return table.get(PK, system_id) is not None


def listed() -> list[dict[str, Any]]:
    return [{"id": i["sk"], "name": i.get("name", ""), "registeredAt": i.get("registeredAt")}
            for i in table.query(None, "pk", PK, consistent=True)]
