"""Many orders at once, written as sendOrder writes them (for the getOrders bound's test and bench):
orders of up to 99 licence lines of a demo title, each order created one second after the last."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from ..domain.dates import iso
from ..domain.identifiers import new_order_line_id
from ..domain.licences import Licence
from ..store import licences as line_store
from . import demo

LINES_PER_ORDER = 99


def orders(gln_coll: str, lines: int, start: datetime, order_id_coll: str = "BULK", prefix: str = "B",
           per_order: int = LINES_PER_ORDER) -> list[str]:
    """Write orders holding `lines` licence lines in all, `per_order` to an order; returns their orderIds, oldest
    first. Up to 49 lines an order fits one transaction with every line split (docs/line-split.md); more are
    split one by one after it, which the emulator takes far longer to do."""
    offer = demo.offers()[0]
    made: list[str] = []
    n = 0
    while n < lines:
        at = start + timedelta(seconds=len(made))
        order_id = f"{prefix}{len(made)}"[:16]
        rows = []
        for _ in range(min(per_order, lines - n)):
            line_id = new_order_line_id(int(at.timestamp() * 1000))
            lic = Licence.new(order_line_id=line_id, gln_coll=gln_coll, gln_reseller=demo.RESELLER, order_id=order_id,
                              ean13=offer.ean13, gln_distributor=offer.gln_distributor, terms=offer.terms,
                              dmd_date=at, lending_token=secrets.token_urlsafe(24))
            rows.append({**line_store.licence_fields(lic), "orderLineId": line_id, "glnColl": gln_coll,
                         "glnReseller": demo.RESELLER, "orderId": order_id, "orderIdColl": order_id_coll,
                         "ean13": offer.ean13, "glnDistributor": offer.gln_distributor, "quantity": 1,
                         "unitPrice": offer.price_ttc, "unitPriceExcludingTax": offer.price_ht, "currency": "EUR",
                         "lineReferenceColl": "REFCOLL000000001", "status": "OK", "createdAt": iso(at)})
            n += 1
        line_store.create_order({
            "glnReseller": demo.RESELLER, "orderId": order_id, "glnColl": gln_coll, "orderIdColl": order_id_coll,
            "resellerCountry": "FR", "collCountry": "FR", "createdAt": iso(at),
            "lineIds": [r["orderLineId"] for r in rows]}, rows)
        made.append(order_id)
    return made
