"""The patron space's use cases on emulated AWS, with an injected clock: sign-in with the API key (or the
password the library set in its place), throttling, session lifetimes and the end of sessions when the
key changes; a patron's loans only; the reader's signed resources (path, loan and expiry bound, closed
by the loan's end, on-site only from declared ranges); and the function's answers through the
template's routes (CSRF, headers, statuses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.licences import Pool
from lending.domain.refusals import Reason, Refused
from lending.domain.staff import SESSION_IDLE, SESSION_MAX
from lending.local import demo
from lending.services import console, ips, patron_loans
from lending.services import patron_space as uses
from lending.services import staff as auth
from lending.services.context import Ctx
from lending.services.links import sign_resource, verify_resource
from lending.store import accounts
from lending.store import staff as staff_store
from tests.helpers import invoke, line, order_ok

pytestmark = pytest.mark.usefixtures("aws")

T0 = datetime.now(UTC).replace(microsecond=0)  # licences bought yesterday (tests.helpers.line) lend now
ADMIN = demo.STAFF[0][0]
OFFSITE_EAN, ONSITE_EAN = "9791000000039", "9791000000053"


def ctx(at: datetime = T0) -> Ctx:
    return Ctx(now=at, base_url="http://hub.test")


def reason(call: object) -> Reason:
    with pytest.raises(Refused) as e:
        call()  # type: ignore[operator]
    return e.value.reason


def key(member: str) -> str:
    return console.derive_patron_key(demo.COLL, member, staff_store.patron_key_generation(demo.COLL, member))


def lend(member: str, ean: str = OFFSITE_EAN, pool: Pool = Pool.OFFSITE, at: datetime = T0) -> str:
    order_ok(line(ean, demo.DISTRIBUTOR2 if ean == ONSITE_EAN else demo.DISTRIBUTOR))
    coll = accounts.get(demo.COLL)
    assert coll is not None
    loan, created = patron_loans.create(ctx(at), coll, patron_loans.NewLoan(member, ean, pool=pool))
    assert created
    return loan.loan_id


def test_sign_in_with_the_api_key_then_with_the_library_s_password() -> None:
    lend("ann")
    token, session = uses.sign_in(ctx(), f" {demo.COLL} ", "ann", key("ann"), "192.0.2.1")
    assert uses.session_of(ctx(), token) == session
    assert reason(lambda: uses.sign_in(ctx(), demo.COLL, "ann", "not the key", "192.0.2.1")) == \
        Reason.BAD_PATRON_CREDENTIALS
    # A patron the library never lent to has no account, whatever key is given for them.
    assert reason(lambda: uses.sign_in(ctx(), demo.COLL, "nobody", key("nobody"), "192.0.2.1")) == \
        Reason.BAD_PATRON_CREDENTIALS
    assert reason(lambda: uses.sign_in(ctx(), demo.COLL2, "ann", key("ann"), "192.0.2.1")) == \
        Reason.BAD_PATRON_CREDENTIALS
    # The library sets a password: it replaces the key, and the open session ends.
    admin = staff_store.get(ADMIN)
    assert admin is not None
    assert reason(lambda: console.set_patron_password(ctx(), admin, "ann", "short")) == Reason.PASSWORD_TOO_SHORT
    console.set_patron_password(ctx(), admin, "ann", "a long library password")
    assert uses.session_of(ctx(), token) is None
    assert reason(lambda: uses.sign_in(ctx(), demo.COLL, "ann", key("ann"), "192.0.2.1")) == \
        Reason.BAD_PATRON_CREDENTIALS
    assert uses.sign_in(ctx(), demo.COLL, "ann", "a long library password", "192.0.2.1")
    assert staff_store.audit_log(demo.COLL)[0]["action"] == "patron.password"


def test_throttled_and_sessions_end() -> None:
    lend("bob")
    for _ in range(5):
        assert reason(lambda: uses.sign_in(ctx(), demo.COLL, "bob", "guess", "192.0.2.9")) == \
            Reason.BAD_PATRON_CREDENTIALS
    assert reason(lambda: uses.sign_in(ctx(), demo.COLL, "bob", key("bob"), "198.51.100.1")) == Reason.THROTTLED
    later = T0 + timedelta(minutes=31)  # the next window: free again
    token, _ = uses.sign_in(ctx(later), demo.COLL, "bob", key("bob"), "192.0.2.9")
    assert uses.session_of(ctx(later + SESSION_IDLE - timedelta(seconds=1)), token) is not None  # touched
    assert uses.session_of(ctx(later + 2 * SESSION_IDLE), token) is None  # then idle too long
    token, _ = uses.sign_in(ctx(later), demo.COLL, "bob", key("bob"), "192.0.2.9")
    for hour in range(1, 13):  # used every hour, still over at 12 hours
        found = uses.session_of(ctx(later + timedelta(hours=hour)), token)
        assert (found is not None) == (timedelta(hours=hour) < SESSION_MAX)
    token, _ = uses.sign_in(ctx(later), demo.COLL, "bob", key("bob"), "192.0.2.9")
    admin = staff_store.get(ADMIN)
    assert admin is not None
    console.regenerate_patron_api_key(ctx(later), admin, "bob")  # a new key ends the sessions of the old
    assert uses.session_of(ctx(later), token) is None
    uses.sign_out(token)


def test_only_the_patron_s_own_loans() -> None:
    mine, theirs = lend("cat"), lend("dan")
    _, cat = uses.sign_in(ctx(), demo.COLL, "cat", key("cat"), "192.0.2.1")
    assert [v.loan.loan_id for v in uses.my_loans(ctx(), cat).active] == [mine]
    assert reason(lambda: uses.open_reader(ctx(), cat, theirs, "192.0.2.1")) == Reason.LOAN_NOT_FOUND
    assert reason(lambda: uses.return_loan(ctx(), cat, theirs)) == Reason.LOAN_NOT_FOUND
    assert reason(lambda: uses.download(ctx(), cat, mine)) == Reason.STREAMING_ONLY
    uses.return_loan(ctx(), cat, mine)
    mine_now = uses.my_loans(ctx(), cat)
    assert not mine_now.active and [v.loan.loan_id for v in mine_now.history] == [mine]


def test_signed_resources_are_bound_to_loan_path_and_time_and_close_with_the_loan() -> None:
    loan_id = lend("eve")
    _, eve = uses.sign_in(ctx(), demo.COLL, "eve", key("eve"), "192.0.2.1")
    reading = uses.open_reader(ctx(), eve, loan_id, "192.0.2.1")
    assert set(reading.signed) >= {"META-INF/container.xml", "OEBPS/content.opf", "OEBPS/chapter2.xhtml"}
    assert reading.expires == T0 + uses.RESOURCE_TTL
    e, s = [p.split("=", 1)[1] for p in reading.signed["OEBPS/text.xhtml"].split("&")]
    content, media = uses.resource(ctx(), demo.COLL, loan_id, "OEBPS/text.xhtml", e, s, "192.0.2.1")
    assert media == "application/xhtml+xml" and b"Nouvelles du quartier" in content
    for gln, lid, path, at in ((demo.COLL, loan_id, "OEBPS/chapter2.xhtml", T0),  # another path
                               (demo.COLL2, loan_id, "OEBPS/text.xhtml", T0),  # another collectivity
                               (demo.COLL, lend("fay"), "OEBPS/text.xhtml", T0),  # another loan
                               (demo.COLL, loan_id, "OEBPS/text.xhtml", reading.expires)):  # expired
        assert reason(lambda gln=gln, lid=lid, path=path, at=at: uses.resource(
            ctx(at), gln, lid, path, e, s, "192.0.2.1")) == Reason.INVALID_LINK
    assert not verify_resource(demo.COLL, loan_id, "OEBPS/text.xhtml", e, s[:-1] + "x", T0)
    # A path the book does not hold, even signed, is not found.
    q = sign_resource(demo.COLL, loan_id, "../etc/passwd", T0 + timedelta(minutes=1))
    e2, s2 = [p.split("=", 1)[1] for p in q.split("&")]
    assert reason(lambda: uses.resource(ctx(), demo.COLL, loan_id, "../etc/passwd", e2, s2, "x")) == Reason.NOT_FOUND
    # The loan's end closes it: returned...
    uses.return_loan(ctx(), eve, loan_id)
    assert reason(lambda: uses.resource(ctx(), demo.COLL, loan_id, "OEBPS/text.xhtml", e, s, "x")) == \
        Reason.LOAN_RETURNED
    assert reason(lambda: uses.open_reader(ctx(), eve, loan_id, "192.0.2.1")) == Reason.LOAN_RETURNED
    # ... or past its end date, whatever the signature says.
    other = lend("eve", "9791000000015")
    end = patron_loans.own_loan(accounts.get(demo.COLL), other).loan.end_date  # type: ignore[arg-type]
    late = sign_resource(demo.COLL, other, "OEBPS/text.xhtml", end + timedelta(hours=1))
    e3, s3 = [p.split("=", 1)[1] for p in late.split("&")]
    assert reason(lambda: uses.resource(ctx(end), demo.COLL, other, "OEBPS/text.xhtml", e3, s3, "x")) == \
        Reason.LOAN_EXPIRED
    assert reason(lambda: uses.open_reader(ctx(end), eve, other, "192.0.2.1")) == Reason.LOAN_EXPIRED


def test_on_site_only_from_declared_ranges() -> None:
    loan_id = lend("gus", ONSITE_EAN, Pool.ONSITE)
    _, gus = uses.sign_in(ctx(), demo.COLL, "gus", key("gus"), "192.0.2.1")
    assert reason(lambda: uses.open_reader(ctx(), gus, loan_id, "203.0.113.5")) == Reason.NOT_ON_SITE
    ips.declare(accounts.get(demo.COLL), ips.DeclareIps(["203.0.113.1,203.0.113.20"]))  # type: ignore[arg-type]
    reading = uses.open_reader(ctx(), gus, loan_id, "203.0.113.5")
    e, s = [p.split("=", 1)[1] for p in reading.signed["OEBPS/text.xhtml"].split("&")]
    assert uses.resource(ctx(), demo.COLL, loan_id, "OEBPS/text.xhtml", e, s, "203.0.113.20")
    assert reason(lambda: uses.resource(ctx(), demo.COLL, loan_id, "OEBPS/text.xhtml", e, s, "203.0.113.21")) == \
        Reason.NOT_ON_SITE


def test_the_function_s_answers() -> None:
    status, body = invoke("GET", "/sign_in", headers={"accept-language": "fr-FR"})
    assert status == 200 and "Bibliothèque" in body and 'name="csrf"' in body
    status, body = invoke("POST", "/sign_in", f"library={demo.COLL}&member=x&password=y",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert status == 403  # no CSRF token
    status, _ = invoke("GET", "/patron/loans")
    assert status == 303  # not signed in: to /sign_in
    status, body = invoke("GET", "/patron/static/epub.min.js")
    assert status == 200 and "ePub" in body
    status, _ = invoke("GET", "/patron/static/app.py")
    assert status == 404  # only the listed static files
    status, _ = invoke("GET", "/patron/static/%2E%2E%2Fapp.py")
    assert status == 404
    status, _ = invoke("GET", "/patron/read/x/y/OEBPS/text.xhtml?e=1&s=abc")
    assert status == 403
    assert auth.hash_password  # the password hasher the library's patron passwords share with staff
