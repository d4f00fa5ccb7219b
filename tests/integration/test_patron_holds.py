"""Holds in the patron space and the console, on emulated AWS with an injected clock: a title's page
(borrow when a place is free, a hold when every copy is out, the patron's own reservation), my holds
(position, expected wait, window), cancelling one's own hold only, the email given with a hold; the
console's list per title in queue order, its cancel (audited, another collectivity's hold unknown); and
the functions' answers (CSRF, no 500 for bad ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from lending.domain.holds import HoldState
from lending.domain.licences import Pool
from lending.domain.refusals import Reason, Refused
from lending.local import demo, mail
from lending.services import console, holds, lending, patron_loans
from lending.services import patron_space as uses
from lending.services import staff as auth
from lending.services.context import Ctx
from lending.store import accounts
from lending.store import licences as line_store
from lending.store import staff as staff_store
from lending.store.patron_sessions import PatronSession
from tests.helpers import invoke, line, order_ok

pytestmark = pytest.mark.usefixtures("aws")

T0 = datetime.now(UTC).replace(microsecond=0)
ONE, TITLE = "9791000000022", "Petite histoire du pret"  # one download place per licence
ADMIN, _, _, _, SECRET = demo.STAFF[0]
ADMIN2 = demo.STAFF[2][0]
FORM = {"content-type": "application/x-www-form-urlencoded"}


def ctx(at: datetime = T0) -> Ctx:
    return Ctx(now=at, base_url="http://hub.test")


def reason(call: object) -> Reason:
    with pytest.raises(Refused) as e:
        call()  # type: ignore[operator]
    return e.value.reason


def patron(member: str) -> tuple[str, PatronSession]:
    """Known to the library (a courtesy loan granted), then signed in with their API key."""
    coll = accounts.get(demo.COLL)
    assert coll is not None
    patron_loans.grant_courtesy(coll, member)
    key = console.derive_patron_key(demo.COLL, member, staff_store.patron_key_generation(demo.COLL, member))
    return uses.sign_in(ctx(), demo.COLL, member, key, "192.0.2.1")


def test_borrow_hold_reserve_and_borrow_from_the_patron_space() -> None:
    (lid,) = order_ok(line(ONE))
    (_, ann), (_, ben), (_, cat) = patron("ann"), patron("ben"), patron("cat")
    page = uses.title_page(ctx(), ann, ONE)
    assert page.title == TITLE and [(w.pool, w.copies, w.copies_free, w.waiting) for w in page.ways] == [
        (Pool.DOWNLOAD, 1, 1, 0)]  # the title lends downloads only
    assert page.can_borrow(page.ways[0]) and page.holdable == []
    assert reason(lambda: uses.place_hold(ctx(), ann, ONE, "")) == Reason.COPIES_AVAILABLE  # borrow it instead
    loan_id = uses.borrow(ctx(), ann, ONE)
    assert uses.title_page(ctx(), ann, ONE).loan is not None
    assert reason(lambda: uses.place_hold(ctx(), ann, ONE, "")) == Reason.ALREADY_ON_LOAN

    page = uses.title_page(ctx(), ben, ONE)
    assert (page.ways[0].copies_free, page.can_borrow(page.ways[0]), page.holdable) == (0, False, page.ways)
    assert reason(lambda: uses.borrow(ctx(), ben, ONE)) in (Reason.POOL_FULL, Reason.ALL_ON_LOAN)
    assert reason(lambda: uses.place_hold(ctx(), ben, ONE, "not an address")) == Reason.INVALID_EMAIL
    uses.place_hold(ctx(), ben, ONE, " ben@example.org ")
    uses.place_hold(ctx(), cat, ONE, "")
    (b,) = uses.my_holds(ctx(), ben).open
    (c,) = uses.my_holds(ctx(), cat).open
    assert (b.position, c.position) == (1, 2)
    assert b.expected_wait_days == 21 and c.expected_wait_days == 42  # ann's loan, then a whole loan more
    assert uses.my_holds(ctx(), ben).titles == {ONE: TITLE}
    assert uses.title_page(ctx(), ann, ONE).ways[0].waiting == 2
    # Cancelling another patron's hold: as unknown as a missing one.
    assert reason(lambda: uses.cancel_hold(ctx(), cat, b.hold.hold_id)) == Reason.HOLD_NOT_FOUND
    assert reason(lambda: uses.cancel_hold(ctx(), cat, "../x")) == Reason.HOLD_NOT_FOUND

    before = len(mail.sent())
    uses.return_loan(ctx(), ann, loan_id)  # the return reserves the place for ben, who is emailed
    (notice,) = mail.sent()[before:]
    assert notice.to == ["ben@example.org"] and notice.subject == f"Your hold is ready: {TITLE}"
    (b,) = uses.my_holds(ctx(), ben).open
    assert b.hold.state is HoldState.RESERVED and b.hold.expires_at == T0 + timedelta(hours=48)
    page = uses.title_page(ctx(), ben, ONE)
    assert page.can_borrow(page.ways[0])
    page = uses.title_page(ctx(), ann, ONE)
    assert not page.can_borrow(page.ways[0])  # the reserved place is ben's only
    assert reason(lambda: uses.borrow(ctx(), ann, ONE)) in (Reason.POOL_FULL, Reason.ALL_ON_LOAN)
    assert uses.my_holds(ctx(), cat).open[0].position == 1

    # Within the window (an hour before it ends) ben borrows the reserved place.
    within = T0 + timedelta(hours=47)
    uses.borrow(ctx(within), ben, ONE)
    assert uses.my_holds(ctx(within), ben).open == []
    assert holds.own_hold(accounts.get(demo.COLL), b.hold.hold_id).state is HoldState.CLAIMED  # type: ignore[arg-type]
    assert lid


def test_a_window_passed_goes_to_the_next_and_cancelling_one_s_hold() -> None:
    order_ok(line(ONE))
    (_, ann), (_, ben), (_, cat) = patron("ann2"), patron("ben2"), patron("cat2")
    loan_id = uses.borrow(ctx(), ann, ONE)
    uses.place_hold(ctx(), ben, ONE, "")
    uses.place_hold(ctx(), cat, ONE, "")
    uses.return_loan(ctx(), ann, loan_id)
    (b,) = uses.my_holds(ctx(), ben).open
    assert b.hold.expires_at is not None
    later = b.hold.expires_at + timedelta(seconds=1)
    assert holds.expire_reservations(ctx(later)) == 1  # the injected clock: ben's window is over
    assert uses.my_holds(ctx(later), ben).open == []
    (c,) = uses.my_holds(ctx(later), cat).open
    assert c.hold.state is HoldState.RESERVED and c.hold.expires_at == later + timedelta(hours=48)
    assert reason(lambda: uses.borrow(ctx(later), ben, ONE)) in (Reason.POOL_FULL, Reason.ALL_ON_LOAN)
    uses.cancel_hold(ctx(later), cat, c.hold.hold_id)  # the place goes back to the licence
    assert uses.my_holds(ctx(later), cat).open == []
    assert reason(lambda: uses.cancel_hold(ctx(later), cat, c.hold.hold_id)) == Reason.HOLD_ENDED
    page = uses.title_page(ctx(later), ben, ONE)
    assert page.can_borrow(page.ways[0])


STREAMS = "9791000000039"  # per licence: 5 downloads, 1 on-site and 1 off-site stream, 3 accesses


def stream_counts(lid: str) -> tuple[int, int, int, int, int]:
    """offFree, onFree, held, heldOff, nta of the line."""
    item = line_store.get_line(lid)
    assert item
    return (int(item["offFree"]), int(item["onFree"]), int(item.get("held", 0)), int(item.get("heldOff", 0)),
            int(item["nta"]))


def clean() -> None:
    assert lending.reconcile(pause=lambda s: None)[1] == []


def test_holds_for_streams_wait_for_a_place_of_their_own_pool() -> None:
    (lid,) = order_ok(line(STREAMS))
    (_, ann), (_, ben), (_, cat), (_, dan) = patron("ann4"), patron("ben4"), patron("cat4"), patron("dan4")
    loan_id = uses.borrow(ctx(), ann, STREAMS, Pool.OFFSITE)
    page = uses.title_page(ctx(), ben, STREAMS)
    assert [(w.pool, w.copies_free, w.copies) for w in page.ways] == [
        (Pool.DOWNLOAD, 5, 5), (Pool.ONSITE, 1, 1), (Pool.OFFSITE, 0, 1)]
    assert [w.pool for w in page.holdable] == [Pool.OFFSITE]  # the other ways lend now
    assert reason(lambda: uses.borrow(ctx(), ben, STREAMS, Pool.OFFSITE)) in (Reason.POOL_FULL, Reason.ALL_ON_LOAN)
    assert reason(lambda: uses.place_hold(ctx(), ben, STREAMS, "", Pool.ONSITE)) == Reason.COPIES_AVAILABLE
    uses.place_hold(ctx(), ben, STREAMS, "", Pool.OFFSITE)
    uses.place_hold(ctx(), dan, STREAMS, "", Pool.OFFSITE)
    (b,) = uses.my_holds(ctx(), ben).open
    assert (b.hold.pool, b.position, b.expected_wait_days) == (Pool.OFFSITE, 1, 14)  # ann's loan: the offer's 14 days
    # A download returned serves no stream hold; ann's off-site return reserves it for ben.
    cat_loan = uses.borrow(ctx(), cat, STREAMS)
    uses.return_loan(ctx(), cat, cat_loan)
    assert uses.my_holds(ctx(), ben).open[0].hold.state is HoldState.WAITING
    uses.return_loan(ctx(), ann, loan_id)
    (b,) = uses.my_holds(ctx(), ben).open
    assert b.hold.state is HoldState.RESERVED
    assert stream_counts(lid) == (0, 1, 1, 1, 1)  # off-site reserved: held and heldOff; 3 - 2 loans = 1 access
    clean()
    # The reservation is for a stream: not a download (which needs an access the reservation keeps).
    assert uses.title_page(ctx(), ben, STREAMS).holdable == []
    assert reason(lambda: uses.borrow(ctx(), ben, STREAMS, Pool.DOWNLOAD)) == Reason.NOTHING_LEFT
    # Unclaimed, the window passes (injected clock): the place goes to dan, then back to the licence.
    later = (b.hold.expires_at or T0) + timedelta(seconds=1)
    assert holds.expire_reservations(ctx(later)) == 1
    (d,) = uses.my_holds(ctx(later), dan).open
    assert d.hold.state is HoldState.RESERVED and stream_counts(lid) == (0, 1, 1, 1, 1)
    uses.borrow(ctx(later), dan, STREAMS, Pool.OFFSITE)  # within dan's window: the last access
    assert stream_counts(lid) == (0, 1, 0, 0, 0)
    clean()


def test_the_console_lists_holds_per_title_and_cancels_one() -> None:
    order_ok(line(ONE))
    (_, ann), (_, ben), (_, cat) = patron("ann3"), patron("ben3"), patron("cat3")
    uses.borrow(ctx(), ann, ONE)
    uses.place_hold(ctx(), ben, ONE, "")
    uses.place_hold(ctx(), cat, ONE, "")
    mine, theirs = staff_store.get(ADMIN), staff_store.get(ADMIN2)
    assert mine is not None and theirs is not None
    titles, more = console.holds(ctx(), mine)
    (group,) = [g for g in titles if g.ean13 == ONE]
    assert not more and group.title == TITLE
    assert [(v.hold.member_id, v.position) for v in group.holds][-2:] == [("ben3", 1), ("cat3", 2)]
    assert [g for g in console.holds(ctx(), theirs)[0] if g.ean13 == ONE] == []
    (b,) = uses.my_holds(ctx(), ben).open
    assert reason(lambda: console.cancel_hold(ctx(), theirs, b.hold.hold_id)) == Reason.HOLD_NOT_FOUND
    console.cancel_hold(ctx(), mine, b.hold.hold_id)
    assert uses.my_holds(ctx(), cat).open[0].position == 1
    entry = console.audit_log(mine)[0]
    assert (entry.action, entry.target, entry.detail) == ("hold.cancel", "ben3", f"{b.hold.hold_id} {ONE}")
    assert reason(lambda: console.cancel_hold(ctx(), mine, b.hold.hold_id)) == Reason.HOLD_ENDED
    # The patron's record shows their open holds (and the hold ids to cancel them).
    (c,) = console.patron(ctx(), mine, "cat3").holds
    assert (c.hold.member_id, c.position) == ("cat3", 1) and console.patron(ctx(), mine, "ben3").holds == []


def test_the_functions_answers_holds_pages() -> None:
    order_ok(line(ONE))
    token, session = patron("dora")
    cookie = {"cookie": f"lh_patron={token}"}
    for path in ("/patron/holds", "/patron/titles", "/patron/titles?page=x", "/patron/titles?page=9",
                 f"/patron/titles/{ONE}"):
        status, body = invoke("GET", path, headers=cookie)
        assert status == 200 and '<html lang="en">' in body and "<h1>" in body, path
    status, body = invoke("GET", f"/patron/titles/{ONE}", headers={**cookie, "accept-language": "fr"})
    assert status == 200 and "Emprunter" in body
    for path in ("/patron/titles/123", "/patron/titles/%00%ff", "/patron/titles/9791000000999"):
        assert invoke("GET", path, headers=cookie)[0] == 404, path
    # Forms: CSRF first, then the hold id or the title; never a 500.
    assert invoke("POST", f"/patron/titles/{ONE}/hold", "email=", {**FORM, **cookie})[0] == 403
    csrf = f"csrf={session.csrf}"
    assert invoke("POST", "/patron/holds/nothing/cancel", csrf, {**FORM, **cookie})[0] == 404
    assert invoke("POST", "/patron/titles/x/borrow", csrf, {**FORM, **cookie})[0] == 404
    assert invoke("POST", f"/patron/titles/{ONE}/fly", csrf, {**FORM, **cookie})[0] == 404
    status, body = invoke("POST", f"/patron/titles/{ONE}/hold", f"{csrf}&email=x", {**FORM, **cookie})
    assert status == 400 and "This is not an email address." in body  # shown on the title's page
    assert invoke("POST", f"/patron/titles/{ONE}/borrow", csrf, {**FORM, **cookie})[0] == 303
    # The console's page and its cancel form (the session's CSRF token, as every console form).
    at = datetime.now(UTC)
    first, _ = auth.sign_in(Ctx(now=at), ADMIN, demo.CONSOLE_PASSWORD, "192.0.2.1")
    full, staff_session = auth.verify_code(Ctx(now=at), first, pyotp.TOTP(SECRET).at(at), "192.0.2.1")
    staff_cookie = {"cookie": f"lh_session={full}"}
    status, body = invoke("GET", "/console/holds?page=abc", headers=staff_cookie)
    assert status == 200 and "<h1>Holds</h1>" in body
    assert invoke("POST", "/console/holds/nothing/cancel", "", {**FORM, **staff_cookie})[0] == 403
    assert invoke("POST", "/console/holds/nothing/cancel", f"csrf={staff_session.csrf}",
                  {**FORM, **staff_cookie})[0] == 404
    # dora borrowed the only copy above: erin waits, and the librarian cancels it from erin's record.
    _, erin = patron("erin")
    view = uses.place_hold(ctx(), erin, ONE, "")
    status, body = invoke("GET", "/console/patrons/erin", headers=staff_cookie)
    assert status == 200 and "Cancel the hold of erin on Petite histoire du pret" in body
    status, _ = invoke("POST", f"/console/holds/{view.hold.hold_id}/cancel", f"csrf={staff_session.csrf}&back=patron",
                       {**FORM, **staff_cookie})
    assert status == 303 and uses.my_holds(ctx(), erin).open == []
    status, body = invoke("GET", "/console/patrons/erin", headers=staff_cookie)
    assert "No hold." in body
