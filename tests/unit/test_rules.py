"""Small pure rules: prices, availability, IP declarations, roll-up, dates, loans, signed links, secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

import pytest

from lending.domain.accounts import hash_secret, verify_secret
from lending.domain.codes import Refused, Status
from lending.domain.dates import iso, parse_iso
from lending.domain.ips import already_declared, covers, parse_declaration, within
from lending.domain.licences import Pool
from lending.domain.loans import Loan, fingerprint, return_date, return_date_unread
from lending.domain.offers import LicenceTerms, Offer, check_price
from lending.pnb.refusals import UNAVAILABLE, rollup
from lending.pnb.refusals import answer as pnb_answer
from lending.services.links import sign_loan_link, verify_loan_link

TERMS = LicenceTerms(loans=1, downloads=1, onsite_streams=0, offsite_streams=0, licence_days=1, max_loan_days=1)
OFFER = Offer(
    ean13="9791000000015", gln_distributor="3010999000018", title="t", terms=TERMS, price_ttc=2400, price_ht=2275
)


def test_prices() -> None:
    check_price(OFFER, 2400, 2275, "EUR")
    check_price(OFFER, 2400, 2400, "EUR")  # HT may equal TTC (no tax)
    for args, status in [
        ((2400, 2401, "EUR"), Status.INVALID_ARGUMENTS),
        ((2300, 2275, "EUR"), Status.INVALID_PRICE),
        ((2400, 2275, "USD"), Status.INVALID_PRICE),
    ]:
        with pytest.raises(Refused) as e:
            check_price(OFFER, *args)
        assert pnb_answer(e.value)[0] is status


def test_availability_messages() -> None:
    from lending.domain.values import replace

    assert OFFER.available and OFFER.unavailability() is None
    assert replace(OFFER, availability="21").available
    for code in ("01", "10", "30", "40", "45", "46"):
        o = replace(OFFER, availability=code)
        assert not o.available and UNAVAILABLE[o.unavailability()].startswith(f"ProductAvailability {code}")  # type: ignore[index]
    assert UNAVAILABLE[replace(OFFER, removed=True).unavailability()] == "Notification type 05: This product is removed"  # type: ignore[index]
    with pytest.raises(Refused) as refused:  # a code the spec does not name: cannot be sold at all
        replace(OFFER, availability="31").unavailability()
    assert pnb_answer(refused.value) == (Status.PRODUCT_CANNOT_BE_SOLD,
                                                             "The product can not be sold")


def test_ip_declarations() -> None:
    r = parse_declaration("16.100.100.100,16.100.100.200")
    assert covers([r], ip_address("16.100.100.150")) and not covers([r], ip_address("16.100.100.201"))
    assert parse_declaration("10.0.0.1").text == "10.0.0.1"
    assert parse_declaration("10.0.0.0,10.0.3.231").text == "10.0.0.0,10.0.3.231"  # exactly 1000
    for bad, msg in [
        ("10.0.0.0,10.0.3.232", "Ip range is not valid (size > 1000 ips) [10.0.0.0,10.0.3.232]."),
        ("10.0.0.9,10.0.0.1", "Ip range is not valid [10.0.0.9,10.0.0.1]."),
        ("nope", "Ip range is not valid [nope]."),
        ("1.2.3.4,::1", "Ip range is not valid [1.2.3.4,::1]."),
    ]:
        with pytest.raises(Refused) as e:
            parse_declaration(bad)
        assert pnb_answer(e.value) == (Status.INVALID_ARGUMENTS, msg)
    v6 = parse_declaration("2001:db8::1,2001:db8::ff")
    assert covers([v6], ip_address("2001:db8::10")) and not covers([v6], ip_address("10.0.0.1"))


def test_already_declared_means_no_new_address() -> None:
    known = [parse_declaration(t) for t in ("10.0.0.1,10.0.0.100", "10.0.0.101,10.0.0.150", "2001:db8::1")]
    assert within(known, parse_declaration("10.0.0.5"))
    assert within(known, parse_declaration("10.0.0.90,10.0.0.120"))  # across two adjoining ranges
    assert not within(known, parse_declaration("10.0.0.140,10.0.0.151"))  # one address more
    assert not within(known, parse_declaration("10.0.0.0"))
    assert not within(known, parse_declaration("::ffff:10.0.0.5"))  # another family
    assert within(known, parse_declaration("2001:db8::1"))
    new = [parse_declaration(t) for t in ("10.0.0.5", "10.1.0.5", "10.1.0.5", "10.0.0.150,10.0.0.151", "10.0.0.151")]
    assert already_declared(known, new) == ["10.0.0.5", "10.1.0.5", "10.0.0.151"]  # the repeat in one request too
    assert already_declared([], []) == []


def test_rollup() -> None:
    assert rollup("x", ["OK", "OK"]) == (Status.OK, None)
    assert rollup("x", ["OK", "NOT_FOUND"]) == (Status.WARNING, "Some x lines are returned with error")
    assert rollup("x", ["NOT_FOUND"]) == (Status.WARNING, "All x lines are returned with error")


def test_dates() -> None:
    assert parse_iso("2026-11-22T10:00:00+02:00") == datetime(2026, 11, 22, 8, tzinfo=UTC)
    assert parse_iso("2026-11-22T10:00:00.123Z") is not None
    for bad in ("2026-11-22", "2026-11-22T10:00:00", "22/11/2026", "2026-13-01T00:00:00Z", None, 5,
                # shifted to UTC out of the calendar; out of the years a lending date may fall in
                "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z",
                "3000-01-01T00:00:00Z"):
        assert parse_iso(bad) is None
    assert parse_iso("2999-12-31T23:59:59Z") is not None
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_the_date_of_an_early_return() -> None:
    start, now = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert return_date(None, start, now) == now
    assert return_date(start + timedelta(days=3), start, now) == start + timedelta(days=3)
    assert return_date(now + timedelta(minutes=4), start, now) == now  # a caller's clock a little ahead
    for bad in (now + timedelta(minutes=6), start - timedelta(seconds=1)):
        with pytest.raises(Refused) as refused:
            return_date(bad, start, now)
        assert pnb_answer(refused.value)[0] is Status.INVALID_ARGUMENTS


def test_the_date_of_an_early_return_before_the_loan_is_read() -> None:
    """What endLoan's write is conditioned on: the date `return_date` gives for any loan created by the
    requested date, or None where it refuses whatever the loan (too far ahead: the loan is read first)."""
    start, now = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 22, 12, tzinfo=UTC)
    for asked in (None, start, start + timedelta(days=3), now, now + timedelta(minutes=4)):
        assert return_date_unread(asked, now) == return_date(asked, start, now)
    assert return_date_unread(now + timedelta(minutes=6), now) is None
    # before the loan's start: a date here, refused by the write's condition (createdAt <= asked)
    assert return_date_unread(start - timedelta(seconds=1), now) == start - timedelta(seconds=1)


def test_loan_replay_window() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    loan = Loan(
        gln_coll="c",
        loan_id="l",
        order_line_id="o",
        ean13="e",
        gln_distributor="d",
        pool=Pool.DOWNLOAD,
        created_at=now,
        end_date=now + timedelta(days=1),
        fingerprint=fingerprint("a", 1),
    )
    assert loan.replayable(fingerprint("a", 1), now + timedelta(minutes=59))
    assert not loan.replayable(fingerprint("a", 1), now + timedelta(minutes=61))
    assert not loan.replayable(fingerprint("a", 2), now)


def test_one_replay_rule_two_windows() -> None:
    """PNB replays within the hour; the warehouse (and v1) while the loan is active; never another request."""
    from lending.domain.loans import WHILE_ACTIVE, WITHIN_THE_HOUR, LoanState

    now = datetime(2026, 1, 1, tzinfo=UTC)
    loan = Loan(gln_coll="c", loan_id="l", order_line_id="o", ean13="e", gln_distributor="d", pool=Pool.DOWNLOAD,
                created_at=now, end_date=now + timedelta(days=1), fingerprint=fingerprint("a", 1))
    later = now + timedelta(hours=2)
    assert not WITHIN_THE_HOUR.allows(loan, fingerprint("a", 1), later)
    assert WHILE_ACTIVE.allows(loan, fingerprint("a", 1), later)
    assert not WHILE_ACTIVE.allows(loan, fingerprint("a", 1), now + timedelta(days=1))  # its end has come
    assert not WHILE_ACTIVE.allows(loan, fingerprint("a", 2), now)
    loan.state = LoanState.RETURNED
    assert not WHILE_ACTIVE.allows(loan, fingerprint("a", 1), now)


def test_signed_links() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    url = sign_loan_link("http://hub", "3012345000031", "L1", now + timedelta(hours=1))
    token = url.rsplit("/", 1)[1]
    assert verify_loan_link(token, now) == ("3012345000031", "L1")
    assert verify_loan_link(token, now + timedelta(hours=1)) is None  # expired
    raw, sig = token.split(".")
    assert verify_loan_link(raw + "." + sig[:-1] + ("A" if sig[-1] != "A" else "B"), now) is None
    assert verify_loan_link("garbage", now) is None


def test_secrets_are_hashed_and_salted() -> None:
    h1, h2 = hash_secret("collDemo2026"), hash_secret("collDemo2026")
    assert h1 != h2 and "collDemo2026" not in h1
    assert verify_secret("collDemo2026", h1) and not verify_secret("collDemo2027", h1)
    assert not verify_secret("x", None) and not verify_secret("x", "garbage")
