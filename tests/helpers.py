"""Request builders shared by the tests: the demo parties' PNB calls."""

from __future__ import annotations

import ipaddress
import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from lending.local import demo

_ids = itertools.count(1)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def order_body(*lines: dict[str, Any], order_id: str | None = None, **over: Any) -> dict[str, Any]:
    body = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnColl": demo.COLL,
            "orderId": order_id or f"ORD{next(_ids)}{datetime.now(UTC):%H%M%S%f}"[:16],
            "orderIdColl": "COLL1", "resellerCountry": "FR", "collCountry": "FR",
            "orderRequestLine": list(lines) or [line()]}
    body.update(over)
    return body


def line(ean13: str = "9791000000015", dist: str = demo.DISTRIBUTOR, ttc: int | None = None, ht: int | None = None,
         dmd: datetime | None = None, **over: Any) -> dict[str, Any]:
    prices = {o.ean13: (o.price_ttc, o.price_ht) for o in demo.offers()}
    p_ttc, p_ht = prices.get(ean13, (2400, 2275))
    out = {"ean13": ean13, "glnDistributor": dist, "unitPrice": p_ttc if ttc is None else ttc,
           "unitPriceExcludingTax": p_ht if ht is None else ht, "currency": "EUR", "quantity": 1,
           "dmdDate": iso(dmd or datetime.now(UTC) - timedelta(days=1))}
    out.update(over)
    return out


def coll_auth(coll: str = demo.COLL, password: str = demo.COLL_PASSWORD) -> dict[str, str]:
    return {"glnColl": coll, "passwordColl": password}


def loan_body(order_line_id: str, loan_id: str, ean13: str = "9791000000015", days: int = 14,
              medium: str = "DOWNLOAD", where: str = "EX_SITU", now: datetime | None = None, **over: Any
              ) -> dict[str, Any]:
    end = (now or datetime.now(UTC)) + timedelta(days=days)
    body = {**coll_auth(), "orderLineId": order_line_id, "loanId": loan_id, "ean13": ean13, "accessMedium": medium,
            "localization": where, "loanEndDate": iso(end)}
    body.update(over)
    return body


def _functions() -> dict[str, Any]:
    """template.yaml's functions, parsed again only when the file changes (parsing takes ~90 ms)."""
    from lending.local import template

    stamp = template.TEMPLATE.stat().st_mtime_ns
    if _parsed.get("stamp") != stamp:
        _parsed.update(stamp=stamp, functions=template.functions(template.load()))
    return _parsed["functions"]


_parsed: dict[str, Any] = {}


def invoke(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Call the function that template.yaml routes `method path` to, with an HTTP API event."""
    import json

    from lending.local import functions
    from lending.local.gateway import Gateway, build_event

    fns = _functions()
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    route, params, _ = gw.match(method, path.split("?")[0])
    assert route is not None, f"no route for {method} {path}"
    raw = body if isinstance(body, bytes | str) else json.dumps(body) if body is not None else ""
    raw_bytes = raw.encode() if isinstance(raw, str) else raw
    hdrs = {"host": "hub.test", "content-type": "application/json", **(headers or {})}
    query = path.split("?", 1)[1] if "?" in path else ""
    event = build_event(method, path.split("?")[0], query, hdrs, raw_bytes, route, params, "127.0.0.1")
    result = functions.invoke(fns[route.function], event)
    status, _, payload = Gateway.translate(result)
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode(errors="replace")


def pnb(service: str, body: Any) -> dict[str, Any]:
    status, answer = invoke("POST", f"/v2/pnb-numerique/{service}", body)
    assert status == 200, (status, answer)
    assert answer["requestId"]
    return answer


def order_ok(*lines: dict[str, Any], **over: Any) -> list[str]:
    """Place an order and return the orderLineIds of its lines (asserting they are all OK)."""
    answer = pnb("sendOrder", order_body(*lines, **over))
    assert answer["returnStatus"] == "OK", answer
    return [x["orderLineId"] for x in answer["orderResponseLine"]]


def whole_line(order_line_id: str) -> dict[str, Any]:
    """Make a licence line as the hub wrote it before it was split (docs/line-split.md): one item, its
    terms and its hot attributes together, under LINE. Returns it."""
    from lending.store import licences as line_store
    from lending.store import table

    whole = line_store.get_line(order_line_id)
    assert whole is not None
    table.put(whole)
    table.client().delete_item(TableName=table.table_name(), Key=table.key(*line_store.terms_key(order_line_id)))
    return whole


def stored_events(subject: str | None = None) -> list[dict[str, Any]]:
    """The callback events in the table, read straight from it: `hold.reserved` outbox items, and the
    `loan.returned` event each returned loan carries (store.loans.end), as {"eventId", "url", "glnColl",
    "body", "item"} (the body as it is sent); only those about `subject` (a loan or hold id) if given."""
    from lending.notify import events
    from lending.store import table

    out = table.client().scan(TableName=table.table_name(),
                              FilterExpression="#t = :o OR (#t = :l AND attribute_exists(callbackEventId) "
                                               "AND attribute_exists(callbackUrl))",
                              ExpressionAttributeNames={"#t": "type"},
                              ExpressionAttributeValues={":o": {"S": "outbox"}, ":l": {"S": "loan"}})["Items"]
    found = []
    for item in (table.de(i) or {} for i in out):
        event = events.from_outbox(item)
        if subject is None or event.loan_id == subject:
            found.append({"eventId": event.event_id, "url": event.url, "glnColl": event.gln_coll,
                          "body": event.payload, "item": item})
    return found


def unused_ips(count: int = 1) -> list[str]:
    """`count` consecutive IPv4 addresses no test has declared yet: a random block of the shared address space
    100.64.0.0/10, where no test declares anything by a fixed address. The local stack (and its declared
    addresses) lives for the whole session, so a test that needs an address undeclared, or its own declared
    range, takes one here instead of a fixed address another test may declare first."""
    # secrets, not random: pytest-randomly reseeds `random` alike before every test (the same draws).
    first = int(ipaddress.IPv4Address("100.64.0.0")) + secrets.randbelow(2**22 - count)
    return [str(ipaddress.IPv4Address(first + i)) for i in range(count)]
