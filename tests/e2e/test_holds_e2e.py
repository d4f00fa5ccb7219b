"""Holds over HTTP on the local stack: a patron holds a title whose copies are out, another patron's early
return reserves the place for them (signed hold.reserved callback to a real listener, email), they borrow
within the window; a cancelled reservation passes to the next; and the race: many patrons holding,
borrowing and returning one title at once, with patrons outside the queue trying to jump it."""

from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from lending.local import demo, mail
from lending.local.receiver import Receiver
from lending.notify.signing import verify
from lending.services import lending
from lending.store import holds as hold_store
from lending.store import licences
from lending.store import loans as loan_store
from tests.helpers import line, order_body

pytestmark = pytest.mark.e2e
KEY = {"X-Api-Key": demo.COLL_API_KEY}
ONE = "9791000000022"  # 1 download place, 10 accesses
TWO = "9791000000015"  # 2 download places, 30 accesses
_members = itertools.count(1)


def order(stack: Any, ean13: str) -> str:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/sendOrder", json=order_body(line(ean13)), timeout=60)
    got = r.json()
    assert got["returnStatus"] == "OK", got
    return str(got["orderResponseLine"][0]["orderLineId"])


def v1(stack: Any, method: str, path: str, **body: Any) -> tuple[int, dict[str, Any]]:
    r = requests.request(method, f"{stack.url}{path}", headers=KEY, json=body or None, timeout=60)
    return r.status_code, r.json()


def member(name: str) -> str:
    return f"{name}{next(_members)}"


def drain(stack: Any, ean13: str) -> None:
    """The session's stack is shared: earlier tests may have left places of this title free for the demo
    library. Fillers take them, so that the licence the test orders holds the only free places."""
    for _ in range(200):
        status, body = v1(stack, "POST", f"/v1/media/{ean13}/loans.json", member_id=member("filler"))
        if status != 201:
            assert body["errors"] in (["all_copies_on_loan"], ["medium_not_found"], ["no_copies_left"]), body
            return
    raise AssertionError("could not take every place of the title")


def close_queue(stack: Any, ean13: str) -> None:
    """Leave no open hold behind: a later test's new licence of the title would be reserved for it."""
    for h in hold_store.queue(demo.COLL, ean13)[1]:
        assert v1(stack, "DELETE", f"/v1/holds/{h.hold_id}")[0] == 200


def counts(lid: str) -> tuple[int, int]:
    item = licences.get_line(lid)
    assert item
    return int(item["dlFree"]), int(item.get("held", 0))


def clean(lid: str) -> None:
    _, drifts = lending.reconcile()
    assert [d for d in drifts if d.order_line_id == lid] == []


def test_a_return_reserves_the_place_the_patron_is_told_and_borrows(stack: Any) -> None:
    drain(stack, ONE)
    lid = order(stack, ONE)
    alice, bob, carol = member("alice"), member("bob"), member("carol")
    status, first = v1(stack, "POST", f"/v1/media/{ONE}/loans.json", member_id=alice)
    assert status == 201
    assert v1(stack, "POST", f"/v1/media/{ONE}/loans.json", member_id=bob)[1]["errors"] == ["all_copies_on_loan"]
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        address = f"{bob}@example.org"
        status, b = v1(stack, "POST", f"/v1/media/{ONE}/holds.json", member_id=bob, notify=1, email=address,
                       callback_url=f"{rx.url}/holds/{bob}")
        assert (status, b["state"], b["position"]) == (201, "waiting", 1)
        c = v1(stack, "POST", f"/v1/media/{ONE}/holds.json", member_id=carol)[1]
        assert c["position"] == 2
        before = len(mail.sent())
        assert v1(stack, "DELETE", f"/v1/loans/{first['id']}")[0] == 200
        b = v1(stack, "GET", f"/v1/holds/{b['id']}")[1]
        assert b["state"] == "reserved" and b["hold_expires_at"]
        assert counts(lid) == (0, 1)
        (got,) = rx.wait_for(lambda r: len(r) >= 1, timeout=15)
        assert got.path == f"/holds/{bob}" and got.headers["x-event-type"] == "hold.reserved"
        assert verify(demo.COLL_CALLBACK_SECRET, got.body, got.headers["x-signature"])
        assert got.json() == {"event": "hold.reserved", "holdId": b["id"], "orderLineId": lid, "ean13": ONE,
                              "memberId": bob, "reservedAt": got.json()["reservedAt"],
                              "holdExpiresAt": b["hold_expires_at"]}
        assert [m.to for m in mail.sent()[before:]] == [[address]]
    # carol is next, but the place is bob's
    assert v1(stack, "POST", f"/v1/media/{ONE}/loans.json", member_id=carol)[1]["errors"] == ["all_copies_on_loan"]
    status, loan = v1(stack, "POST", f"/v1/media/{ONE}/loans.json", member_id=bob)
    assert status == 201
    listed = v1(stack, "GET", f"/v1/loans.json?member_id={bob}")[1]["loans"][0]
    assert listed["hold_expires_at"] == b["hold_expires_at"]
    assert requests.get(loan["url"], timeout=30).content[:2] == b"PK"
    # bob returns; carol's turn; she cancels; nobody waits: the place is free again
    v1(stack, "DELETE", f"/v1/loans/{loan['id']}")
    assert v1(stack, "GET", f"/v1/holds.json?member_id={carol}")[1]["holds"][0]["state"] == "reserved"
    assert v1(stack, "DELETE", f"/v1/holds/{c['id']}")[1]["state"] == "cancelled"
    assert counts(lid) == (1, 0)
    clean(lid)


ROUNDS = 6
HOLDERS = 12
INTRUDERS = 4


def test_race_many_patrons_holding_borrowing_and_returning_one_title(stack: Any) -> None:
    """Two places, twelve patrons in the queue placing their holds while the first borrowers return,
    then rounds where the reserved patrons borrow and return while intruders try to borrow and late
    patrons join: a place is never given twice (loans + reservations never exceed the places, counters
    match the records), the queue is served in ticket order, nobody outside it gets a place while it
    waits, and reconcile is clean."""
    drain(stack, TWO)
    lid = order(stack, TWO)
    try:
        _race(stack, lid)
    finally:
        close_queue(stack, TWO)


def _race(stack: Any, lid: str) -> None:
    first = [member("first") for _ in range(2)]
    loans = [v1(stack, "POST", f"/v1/media/{TWO}/loans.json", member_id=m)[1]["id"] for m in first]
    holders = [member("holder") for _ in range(HOLDERS)]

    def place(m: str) -> tuple[int, dict[str, Any]]:
        return v1(stack, "POST", f"/v1/media/{TWO}/holds.json", member_id=m)

    def give_back(loan_id: str) -> tuple[int, dict[str, Any]]:
        return v1(stack, "DELETE", f"/v1/loans/{loan_id}")

    with ThreadPoolExecutor(max_workers=HOLDERS) as pool:
        assert Counter(s for s, _ in pool.map(place, holders)) == {201: HOLDERS}
    with ThreadPoolExecutor(max_workers=6) as pool:  # the first borrowers return as more patrons join
        jobs = [pool.submit(give_back, x) for x in loans] + [pool.submit(place, member("late")) for _ in range(4)]
        assert [j.result()[0] for j in jobs] == [200, 200, 201, 201, 201, 201]

    served: list[str] = []
    intruder_answers: Counter[str] = Counter()
    for _ in range(ROUNDS):
        _, queue = hold_store.queue(demo.COLL, TWO)
        active = [x for x in loan_store.of_line(lid) if x.state.value == "ACTIVE"]
        reserved = [h for h in queue if h.state.value == "RESERVED"]
        waiting = [h for h in queue if h.state.value == "WAITING"]
        # never more places given than there are; the served ones are always ahead of the waiting ones
        assert len(active) + len(reserved) <= 2
        assert counts(lid) == (2 - len(active) - len(reserved), len(reserved))
        if waiting and reserved:
            assert max(h.ticket for h in reserved) < min(h.ticket for h in waiting)
        if not reserved:
            break
        # the reserved patrons borrow while intruders try to, and a late patron joins the queue
        def borrow(m: str) -> tuple[str, int, dict[str, Any]]:
            status, body = v1(stack, "POST", f"/v1/media/{TWO}/loans.json", member_id=m)
            return m, status, body

        late = member("late")
        with ThreadPoolExecutor(max_workers=len(reserved) + INTRUDERS + 1) as pool:
            jobs = [pool.submit(borrow, h.member_id) for h in reserved]
            jobs += [pool.submit(borrow, member("intruder")) for _ in range(INTRUDERS)]
            joined = pool.submit(place, late)
            got = [j.result() for j in jobs]
        assert joined.result()[0] == 201
        for m, status, body in got[: len(reserved)]:
            assert status == 201, body
            served.append(m)
        for _, status, body in got[len(reserved):]:
            intruder_answers[str(body.get("errors"))] += 1
            assert status == 403 and body["errors"] == ["all_copies_on_loan"]
        # they return at once while more late patrons join
        new_loans = [body["id"] for _, _, body in got[: len(reserved)]]
        with ThreadPoolExecutor(max_workers=len(new_loans) + 2) as pool:
            jobs = [pool.submit(give_back, x) for x in new_loans] + [pool.submit(place, member("late"))
                                                                      for _ in range(2)]
            assert all(j.result()[0] in (200, 201) for j in jobs)
    # every patron served once, in ticket order round by round
    assert len(served) == len(set(served)) >= 2 * (ROUNDS - 1)
    served_tickets = {next(h.ticket for h in hold_store.member_holds(demo.COLL, m, 0, 10)[0] if h.ean13 == TWO)
                      for m in served}
    _, still_open = hold_store.queue(demo.COLL, TWO)
    assert len(served_tickets) == len(served) and max(served_tickets) < min(h.ticket for h in still_open)
    assert set(intruder_answers) == {"['all_copies_on_loan']"}
    clean(lid)
