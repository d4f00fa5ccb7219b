"""A collectivity's order lines of one EAN (a title of its catalogue): GSI2 COLLEAN#<glnColl>#<ean13>,
which cancelled lines leave (store/licences.py)."""

from __future__ import annotations

from typing import Any

from . import table


def lines_of(gln_coll: str, ean13: str) -> list[dict[str, Any]]:
    # "0", not "": DynamoDB refuses an empty string as a key condition value.
    return table.query("gsi2", "gsi2pk", f"COLLEAN#{gln_coll}#{ean13}", sk_name="gsi2sk", sk_between=("0", "~"))
