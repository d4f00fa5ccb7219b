"""Holds on emulated AWS, through the v1 door and the other doors that free places: the queue, the
reservation made atomically with the counters on a return by any door, an expiry or a new licence, its
window (injected clock), passing to the next, cancelling, limits, notices (email, hold.reserved callback),
and reconcile staying clean at every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lending.domain.dates import iso
from lending.domain.values import replace
from lending.local import demo, mail
from lending.notify import events
from lending.services import api_keys, clock, holds, lending
from lending.services.context import Ctx
from lending.store import accounts, licences, table
from lending.store import callbacks as callback_store
from lending.store import holds as hold_store
from lending.store import loans as loan_store
from tests.helpers import invoke, line, loan_body, order_ok, pnb
from tests.v1_helpers import KEY, KEY2, answer

pytestmark = pytest.mark.usefixtures("aws")

ONE = "9791000000022"  # 1 download place, 10 accesses, 21 days at most
HOOK = "https://ils.example/holds"


def call(method: str, path: str, body: Any = None, key: dict[str, str] = KEY) -> tuple[int, dict[str, Any]]:
    status, payload = invoke(method, path, body, key)
    return status, answer("xml" if path.split("?")[0].endswith(".xml") else "json", payload)


def borrow(member: str, ean: str = ONE) -> tuple[int, dict[str, Any]]:
    return call("POST", f"/v1/media/{ean}/loans.json", {"member_id": member})


def hold(member: str, ean: str = ONE, **params: Any) -> tuple[int, dict[str, Any]]:
    return call("POST", f"/v1/media/{ean}/holds.json", {"member_id": member, **params})


def line_counts(order_line_id: str) -> tuple[int, int, int]:
    item = licences.get_line(order_line_id)
    assert item
    return int(item["dlFree"]), int(item.get("held", 0)), int(item["nta"])


def clean() -> None:
    _, drifts = lending.reconcile(pause=lambda s: None)
    assert drifts == []


def hold_events() -> list[dict[str, Any]]:
    out = table.client().scan(TableName=table.table_name(), FilterExpression="#t = :t",
                              ExpressionAttributeNames={"#t": "type"},
                              ExpressionAttributeValues={":t": {"S": "outbox"}})
    return [b for b in ((table.de(i) or {}) for i in out["Items"]) if b["body"].get("event") == "hold.reserved"]


def test_queue_reservation_on_return_claim_and_counters() -> None:
    (lid,) = order_ok(line(ONE))
    status, first = borrow("alice")
    assert status == 201
    assert borrow("bob") == (403, {"errors": ["all_copies_on_loan"],
                                   "messages": ["All resources are currently on loan."]})

    status, b = hold("bob", notify=1, email="bob@example.org", callback_url=HOOK)
    assert status == 201
    assert (b["state"], b["position"], b["member_id"], b["resource_id"], b["hold_expires_at"]) == (
        "waiting", 1, "bob", ONE, None)
    assert b["expected_at"] == first["expires_at"] and b["expected_wait_days"] == 21
    status, c = hold("carol")
    assert (status, c["position"]) == (201, 2)
    # carol waits for the second turn of the one place: alice's end plus a whole default loan (21 days)
    assert c["expected_wait_days"] == 42
    assert hold("bob")[0] == 200 and hold("bob")[1]["id"] == b["id"]  # the same hold again
    assert hold("alice")[1]["errors"] == ["already_on_loan"]
    assert call("GET", "/v1/holds.json?member_id=carol")[1]["holds"][0]["id"] == c["id"]

    before = len(mail.sent())
    assert call("DELETE", f"/v1/loans/{first['id']}")[0] == 200
    # The place went to bob, in the return's transaction: not free, held for him
    assert line_counts(lid) == (0, 1, 9)
    status, b = call("GET", f"/v1/holds/{b['id']}")
    assert (b["state"], b["position"], b["expected_at"]) == ("reserved", None, None)
    window = datetime.fromisoformat(b["hold_expires_at"].replace("Z", "+00:00")) - datetime.now(UTC)
    assert timedelta(hours=47, minutes=59) < window <= timedelta(hours=48)
    assert call("GET", f"/v1/holds/{c['id']}")[1]["position"] == 1
    (notice,) = mail.sent()[before:]
    assert notice.to == ["bob@example.org"] and "Petite histoire du pret" in notice.subject
    (event,) = hold_events()
    assert event["url"] == HOOK and event["body"] == {
        "event": "hold.reserved", "holdId": b["id"], "orderLineId": lid, "ean13": ONE, "memberId": "bob",
        "reservedAt": event["body"]["reservedAt"], "holdExpiresAt": b["hold_expires_at"]}
    assert hold_store.get(demo.COLL, b["id"]).email is None  # the address is dropped once the patron is told
    clean()

    # Nobody else gets the reserved place: not dave (no hold), not carol (next in line)
    assert borrow("dave")[1]["errors"] == ["all_copies_on_loan"]
    assert borrow("carol")[1]["errors"] == ["all_copies_on_loan"]
    assert pnb("loanBook", loan_body(lid, "PNBJUMP", ean13=ONE))["returnStatus"] == "MAX_SIMULTANEOUS_LOAN_REACHED"

    status, loan = borrow("bob")
    assert status == 201
    assert line_counts(lid) == (0, 0, 8)
    listed = call("GET", "/v1/loans.json?member_id=bob")[1]["loans"][0]
    assert listed["id"] == loan["id"] and listed["hold_expires_at"] == b["hold_expires_at"]
    b = call("GET", f"/v1/holds/{b['id']}")[1]
    assert (b["state"], b["loan_id"]) == ("claimed", loan["id"])
    clean()


def test_unclaimed_reservation_passes_to_the_next_then_frees_the_place() -> None:
    (lid,) = order_ok(line(ONE))
    first = borrow("alice")[1]
    b, c = hold("bob")[1], hold("carol")[1]
    call("DELETE", f"/v1/loans/{first['id']}")
    reserved_until = datetime.fromisoformat(call("GET", f"/v1/holds/{b['id']}")[1]["hold_expires_at"][:-1]
                                            ).replace(tzinfo=UTC)
    assert holds.expire_reservations(Ctx(now=reserved_until - timedelta(seconds=1))) == 0
    later = reserved_until + timedelta(seconds=1)
    assert holds.expire_reservations(Ctx(now=later)) == 1
    assert call("GET", f"/v1/holds/{b['id']}")[1]["state"] == "expired"
    c = call("GET", f"/v1/holds/{c['id']}")[1]
    assert c["state"] == "reserved" and c["hold_expires_at"] == iso(later + timedelta(hours=48))
    assert line_counts(lid) == (0, 1, 9)
    clean()
    with clock.frozen(later + timedelta(hours=1)):  # bob is too late now
        assert borrow("bob")[1]["errors"] == ["all_copies_on_loan"]
    # carol lets hers pass too: nobody waits, the place is free again
    assert holds.expire_reservations(Ctx(now=later + timedelta(hours=49))) == 1
    assert line_counts(lid) == (1, 0, 9)
    clean()
    with clock.frozen(later + timedelta(hours=50)):
        assert borrow("dave")[0] == 201


def test_cancelling_a_waiting_and_a_reserved_hold() -> None:
    (lid,) = order_ok(line(ONE))
    first = borrow("alice")[1]
    b, c, d = hold("bob")[1], hold("carol")[1], hold("dave")[1]
    status, cancelled = call("DELETE", f"/v1/holds/{c['id']}")
    assert (status, cancelled["state"]) == (200, "cancelled")
    assert call("DELETE", f"/v1/holds/{c['id']}.xml") == (403, {"errors": ["hold_ended"], "messages": [
        "This hold is no longer active."]})
    assert call("GET", f"/v1/holds/{d['id']}")[1]["position"] == 2
    call("DELETE", f"/v1/loans/{first['id']}")
    assert call("GET", f"/v1/holds/{b['id']}")[1]["state"] == "reserved"
    assert call("DELETE", f"/v1/holds/{b['id']}")[1]["state"] == "cancelled"  # the place passes on to dave
    assert call("GET", f"/v1/holds/{d['id']}")[1]["state"] == "reserved"
    assert line_counts(lid) == (0, 1, 9)
    assert call("DELETE", f"/v1/holds/{d['id']}")[1]["state"] == "cancelled"  # nobody left: freed
    assert line_counts(lid) == (1, 0, 9)
    clean()


def test_every_door_and_the_expiry_hand_the_place_over() -> None:
    (lid,) = order_ok(line(ONE))
    # PNB endLoan (the distributor) ends a PNB loan: the v1 queue gets the place
    assert pnb("loanBook", loan_body(lid, "PNBHOLD1", ean13=ONE))["returnStatus"] == "OK"
    b = hold("bob")[1]
    assert pnb("endLoan", {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
                           "orderLineId": lid, "loanId": "PNBHOLD1"})["returnStatus"] == "OK"
    assert call("GET", f"/v1/holds/{b['id']}")[1]["state"] == "reserved"
    loan = borrow("bob")[1]
    # The loan's end (expiry job, injected clock) hands the place to the next in line
    c = hold("carol")[1]
    ended = datetime.fromisoformat(loan["expires_at"][:-1]).replace(tzinfo=UTC) + timedelta(seconds=1)
    assert lending.expire_due(Ctx(now=ended)) == 1
    c = call("GET", f"/v1/holds/{c['id']}")[1]
    assert c["state"] == "reserved" and c["hold_expires_at"] == iso(ended + timedelta(hours=48))
    assert line_counts(lid) == (0, 1, 8)
    clean()
    with clock.frozen(ended + timedelta(minutes=1)):
        assert borrow("carol")[0] == 201
    clean()


def test_pnb_return_loan_and_the_warehouse_return_hand_the_place_over() -> None:
    from urllib.parse import urlencode, urlsplit

    from lending.services.context import Ctx as Context
    from lending.services.order_status import loan_url

    (lid,) = order_ok(line(ONE))
    # PNB returnLoan (the collectivity's own system, as PMB calls it)
    assert pnb("loanBook", loan_body(lid, "PNBHOLD2", ean13=ONE))["returnStatus"] == "OK"
    b = hold("bob")[1]
    login = {"login": demo.COLL, "password": demo.COLL_PASSWORD}
    assert pnb("returnLoan", {**login, "orderLineId": lid, "loanId": "PNBHOLD2"})["returnStatus"] == "OK"
    assert call("GET", f"/v1/holds/{b['id']}")[1]["state"] == "reserved"
    call("DELETE", f"/v1/holds/{b['id']}")
    # the warehouse lending URL, and the return through its fulfillment link
    item = licences.get_line(lid)
    assert item
    lend_path = urlsplit(loan_url(Context(base_url="http://hub.test"), item) or "").path
    status, url = invoke("POST", lend_path, urlencode({"borrower_id": "B1", "transaction_id": "T1"}),
                         {"content-type": "application/x-www-form-urlencoded"})
    assert status == 201
    c = hold("carol")[1]
    assert invoke("DELETE", f"/warehouse/loans/{url.rsplit('/', 1)[1]}") == (204, "")
    assert call("GET", f"/v1/holds/{c['id']}")[1]["state"] == "reserved"
    assert line_counts(lid) == (0, 1, 8)
    clean()


def test_a_new_licence_serves_the_queue() -> None:
    order_ok(line(ONE))
    borrow("alice")
    b = hold("bob", callback_url=HOOK)[1]
    (lid2,) = order_ok(line(ONE))
    assert call("GET", f"/v1/holds/{b['id']}")[1]["state"] == "reserved"
    assert line_counts(lid2) == (0, 1, 10)
    assert [e["body"]["orderLineId"] for e in hold_events()] == [lid2]
    assert borrow("bob")[0] == 201
    assert line_counts(lid2) == (0, 0, 9)
    clean()


def test_limits_and_refusals() -> None:
    order_ok(line(ONE))
    assert hold("bob")[1]["errors"] == ["copies_available"]  # a place is free: borrow it
    borrow("alice")
    assert hold("bob", "9791000000077")[1]["errors"] == ["medium_not_found"]
    assert hold("bob", "not-an-ean")[1]["errors"] == ["medium_not_found"]
    assert call("POST", f"/v1/media/{ONE}/holds.json", {"notify": 1})[1]["errors"] == ["missing_member_id",
                                                                                       "missing_email"]
    assert call("POST", f"/v1/media/{ONE}/holds.json", {"member_id": "x", "callback_url": "ftp://x"}
                )[1]["errors"] == ["invalid_callback_url"]
    coll = accounts.get(demo.COLL)
    assert coll
    accounts.save(replace(coll, settings={**coll.settings, "maxHolds": 1, "holdWindowHours": 2}))
    api_keys.forget()
    order_ok(line("9791000000015"))  # 2 places, both lent
    borrow("carol", "9791000000015")
    borrow("dave", "9791000000015")
    assert hold("bob")[0] == 201
    assert hold("bob", "9791000000015") == (403, {"errors": ["hold_limit_reached"], "messages": [
        "You have reached the hold limit authorized by your library."]})
    # holds are per library: the other library's key sees none of them
    assert call("GET", "/v1/holds.json", key=KEY2)[1]["holds"] == []
    own = call("GET", "/v1/holds.json")[1]["holds"][0]["id"]
    assert call("GET", f"/v1/holds/{own}", key=KEY2)[1]["errors"] == ["hold_not_found"]
    assert call("DELETE", "/v1/holds/123")[1]["errors"] == ["hold_not_found"]


def test_xml_list_and_pages() -> None:
    order_ok(line(ONE))
    borrow("alice")
    for member in ("m1", "m2", "m3"):
        hold(member)
    status, text = invoke("GET", "/v1/holds.xml?per_page=2", None, KEY)
    assert status == 200 and text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<holds page="1" per_page="2" '
                                             'next_page="2"><hold><id>')
    assert "<member_id>m3</member_id>" in text and "<position>3</position>" in text
    page2 = call("GET", "/v1/holds.json?per_page=2&page=2")[1]
    assert [h["member_id"] for h in page2["holds"]] == ["m1"] and page2["next_page"] is None


def test_the_hold_event_is_a_valid_callback_with_its_own_delivery_state() -> None:
    order_ok(line(ONE))
    first = borrow("alice")[1]
    b = hold("bob", callback_url=HOOK)[1]
    call("DELETE", f"/v1/loans/{first['id']}")
    (item,) = hold_events()
    event = events.from_outbox(item)
    assert (event.kind, event.loan_id, event.url) == ("hold.reserved", b["id"], HOOK)
    assert events.from_message(event.message()) == event
    now = iso(datetime.now(UTC))
    claim = callback_store.claim(demo.COLL, b["id"], event.event_id, now, now, event.kind)
    assert claim.outcome is callback_store.ClaimOutcome.CLAIMED
    assert callback_store.delivered(demo.COLL, b["id"], event.event_id, now, 204, event.kind)
    state = callback_store.state(demo.COLL, b["id"], event.kind)
    assert state and state.status == "DELIVERED"
    assert loan_store.get(demo.COLL, first["id"]) is not None


def test_a_licence_holding_a_reservation_cannot_be_cancelled() -> None:
    from tests.helpers import order_body

    order_ok(line(ONE))
    borrow("alice")
    b = hold("bob")[1]
    answer_ = pnb("sendOrder", order_body(line(ONE), order_id="HOLDCANC1"))
    (lid2,) = (x["orderLineId"] for x in answer_["orderResponseLine"])
    assert call("GET", f"/v1/holds/{b['id']}")[1]["state"] == "reserved"
    reseller = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "orderId": "HOLDCANC1"}
    refused = pnb("cancelOrder", reseller)["cancelResponseLine"]
    assert refused == [{"orderLineId": lid2, "returnStatus": "ACCES_DENIED", "returnMessage":
                        f"The orderLineId {lid2} has already been used and cannot be cancelled"}]
    # once the reservation is given up, the unused licence can be cancelled
    call("DELETE", f"/v1/holds/{b['id']}")
    assert line_counts(lid2) == (1, 0, 10)
    assert pnb("cancelOrder", reseller)["returnStatus"] == "OK"
    clean()


def test_the_queue_read_skips_its_served_history() -> None:
    order_ok(line(ONE))
    borrow("alice")
    ids = [hold(f"h{i}")[1]["id"] for i in range(20)]
    for x in ids[:18]:
        assert call("DELETE", f"/v1/holds/{x}")[1]["state"] == "cancelled"
    last, open_ = hold_store.queue(demo.COLL, ONE)
    assert (last, [h.hold_id for h in open_]) == (20, ids[18:])
    counter = table.get(hold_store.queue_pk(demo.COLL, ONE), hold_store.QUEUE_SK)
    assert counter and counter["low"] == 19  # the next read starts at ticket 19
    late = hold("late")[1]
    assert late["position"] == 3
    counter = table.get(hold_store.queue_pk(demo.COLL, ONE), hold_store.QUEUE_SK)
    assert counter and (counter["next"], counter["low"]) == (21, 19)
    assert [h.member_id for h in hold_store.queue(demo.COLL, ONE)[1]] == ["h18", "h19", "late"]


def test_v1_places_a_streaming_hold_in_its_pool_and_names_the_pool_in_every_answer() -> None:
    """`medium` and `localisation` (the warehouse lending URL's words) choose the pool a v1 hold waits for;
    every hold answer names it. A stream's place serves only a stream's hold."""
    ean = "9791000000015"  # per licence: 2 downloads, 1 on-site and 1 off-site stream
    (lid,) = order_ok(line(ean))
    streamed = loan_body(lid, "OFFSTREAM1", medium="STREAMING")  # PNB: the one off-site stream
    assert pnb("loanBook", streamed)["returnStatus"] == "OK"
    # The downloads and the on-site stream are free: holding them is refused; the off-site stream waits.
    assert hold("dl-reader", ean)[1]["errors"] == ["copies_available"]
    assert hold("on-reader", ean, medium="streaming", localisation="on-site")[1]["errors"] == ["copies_available"]
    status, held = hold("off-reader", ean, medium="Streaming", localisation="off-site", notify=1,
                        email="off@example.org")
    assert status == 201
    assert (held["medium"], held["localisation"], held["state"], held["position"]) == (
        "streaming", "off-site", "waiting", 1)
    for fmt in ("json", "xml"):  # the same fields in both formats; a listing names the pool too
        status, one = call("GET", f"/v1/holds/{held['id']}.{fmt}")
        assert (status, one["medium"], one["localisation"]) == (200, "streaming", "off-site")
        listed = call("GET", f"/v1/holds.{fmt}?member_id=off-reader")[1]
        if fmt == "json":
            assert [(h["id"], h["medium"], h["localisation"]) for h in listed["holds"]] == [
                (held["id"], "streaming", "off-site")]
    # The off-site stream ends: its place is reserved for the off-site hold, in its own pool's counters.
    ended = pnb("endLoan", {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
                            "orderLineId": lid, "loanId": "OFFSTREAM1"})
    assert ended["returnStatus"] == "OK"
    reserved = call("GET", f"/v1/holds/{held['id']}")[1]
    assert (reserved["state"], reserved["medium"], reserved["localisation"]) == ("reserved", "streaming", "off-site")
    item = licences.get_line(lid)
    assert item and (int(item.get("held", 0)), int(item.get("heldOff", 0)), int(item["dlFree"])) == (1, 1, 2)
    clean()


def test_a_download_hold_says_so_and_the_pool_parameters_are_checked() -> None:
    (lid,) = order_ok(line(ONE))
    assert borrow("alice")[0] == 201
    status, b = hold("bob", localisation="on-site")  # a download: localisation is not read (as the warehouse URL)
    assert (status, b["medium"], b["localisation"]) == (201, "download", None)
    xml = call("GET", f"/v1/holds/{b['id']}.xml")[1]
    assert (xml["medium"], xml["localisation"]) == ("download", None)  # <localisation/>
    assert hold("carol", medium="streaming") == (400, {
        "errors": ["missing_localisation"],
        "messages": ["localisation is required with medium=streaming: on-site or off-site."]})
    assert hold("carol", medium="paper")[1]["errors"] == ["invalid_medium"]
    assert hold("carol", medium="streaming", localisation="home")[1]["errors"] == ["invalid_localisation"]
    assert hold("carol", medium="tape", member_id="")[1]["errors"] == ["missing_member_id", "invalid_medium"]
    # A title without a place of the pool at all: the hold waits for a new licence (no expected wait).
    status, none = hold("carol", medium="streaming", localisation="on-site")
    assert (status, none["medium"], none["expected_wait_days"]) == (201, "streaming", None)
    assert line_counts(lid) == (0, 0, 9)
    clean()
