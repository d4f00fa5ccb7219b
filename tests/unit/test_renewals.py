"""Renewal rules with an injected clock (domain.renewals), and the reading applications of getUserAgent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.domain import user_agents
from lending.domain.codes import Status
from lending.domain.licences import Licence, Pool
from lending.domain.loans import Loan, LoanState
from lending.domain.offers import LicenceTerms
from lending.domain.refusals import Refused
from lending.domain.renewals import check_renewal, latest_end, loan_days
from lending.pnb.refusals import answer

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = LicenceTerms(loans=30, downloads=2, onsite_streams=1, offsite_streams=1, licence_days=100, max_loan_days=60)


def licence(**over: object) -> Licence:
    lic = Licence.new(order_line_id="1" * 24, gln_coll="c", gln_reseller="r", order_id="o", ean13="e",
                      gln_distributor="d", terms=TERMS, dmd_date=T0)
    for k, v in over.items():
        setattr(lic, k, v)
    return lic


def loan(start: datetime = T0 + timedelta(days=10), days: int = 14, **over: object) -> Loan:
    out = Loan(gln_coll="c", loan_id="L1", order_line_id="1" * 24, ean13="e", gln_distributor="d",
               pool=Pool.DOWNLOAD, created_at=start, end_date=start + timedelta(days=days))
    for k, v in over.items():
        setattr(out, k, v)
    return out


def refusal(lo: Loan, lic: Licence, new_end: datetime, now: datetime) -> tuple[Status, str, str]:
    with pytest.raises(Refused) as e:
        check_renewal(lo, lic, new_end, now)
    status, message = answer(e.value)  # as the PNB door words it
    return status, e.value.reason.value, message


def test_a_running_loan_gets_a_later_end_up_to_the_offer_maximum_from_its_start() -> None:
    lo, now = loan(), T0 + timedelta(days=12)
    assert check_renewal(lo, licence(), lo.end_date + timedelta(seconds=1), now) == lo.end_date + timedelta(seconds=1)
    longest = lo.created_at + timedelta(days=60)  # the whole loan, from its start: exactly the maximum
    assert check_renewal(lo, licence(), longest, now) == longest
    assert refusal(lo, licence(), longest + timedelta(microseconds=1), now)[1] == "renewal_too_long"
    status, reason, message = refusal(lo, licence(), longest + timedelta(seconds=1), now)
    assert (status, reason) == (Status.INVALID_ARGUMENTS, "renewal_too_long")
    assert message.startswith("The parameter date is invalid. The loan duration is over maximum autorized limit")
    assert "60 days" in message


def test_the_new_end_must_be_after_the_current_one() -> None:
    lo, now = loan(), T0 + timedelta(days=12)
    for new_end in (lo.end_date, lo.end_date - timedelta(days=1), now + timedelta(minutes=1)):
        status, reason, message = refusal(lo, licence(), new_end, now)
        assert (status, reason) == (Status.INVALID_ARGUMENTS, "end_not_later")
        assert "2026-01-25T00:00:00Z" in message  # the current end, so a caller sees what holds


def test_the_licence_must_not_end_first() -> None:
    lo, now = loan(start=T0 + timedelta(days=80)), T0 + timedelta(days=81)  # licence ends at day 100
    assert check_renewal(lo, licence(), T0 + timedelta(days=100), now) == T0 + timedelta(days=100)
    status, reason, message = refusal(lo, licence(), T0 + timedelta(days=100, seconds=1), now)
    assert (status, reason) == (Status.INVALID_ARGUMENTS, "licence_ends_first")
    assert "2026-04-11T00:00:00Z" in message


def test_only_an_active_loan_not_past_its_end_is_renewed() -> None:
    lo = loan()
    later = lo.end_date + timedelta(days=1)
    for state in (LoanState.RETURNED, LoanState.EXPIRED):
        status, reason, message = refusal(loan(state=state), licence(), later, T0 + timedelta(days=12))
        assert (status, reason) == (Status.ACCES_DENIED, "already_ended")
        assert message == f"The loan with orderlineId '{'1' * 24}' and loanId 'L1' is already ended"
    # Still ACTIVE in the record but its end has come (the expiry job has not swept it yet): over.
    assert refusal(lo, licence(), later, lo.end_date)[1] == "already_ended"
    assert check_renewal(lo, licence(), later, lo.end_date - timedelta(microseconds=1)) == later


def test_refusals_come_most_fundamental_first() -> None:
    ended = loan(state=LoanState.RETURNED)
    cancelled = licence(status="CANCELLED")
    now = T0 + timedelta(days=12)
    assert refusal(ended, cancelled, ended.end_date - timedelta(days=1), now)[1] == "already_ended"
    assert refusal(loan(), cancelled, loan().end_date - timedelta(days=1), now)[:2] == (
        Status.PRODUCT_CANNOT_BE_LOAN, "cannot_be_loaned")
    # not later before too long, too long before past the licence
    assert refusal(loan(), licence(), T0, now)[1] == "end_not_later"
    late = loan(start=T0 + timedelta(days=80))
    assert refusal(late, licence(), T0 + timedelta(days=150), now)[1] == "renewal_too_long"


def test_loan_days_are_exact_to_the_microsecond() -> None:
    assert loan_days(T0, T0 + timedelta(days=60)) == 60
    assert loan_days(T0, T0 + timedelta(days=60, microseconds=1)) > 60
    assert loan_days(T0, T0 + timedelta(days=59, hours=23, minutes=59, seconds=59, microseconds=999_999)) < 60


def test_user_agents_name_their_drm_and_include_the_no_drm_case() -> None:
    listed = user_agents.listing()
    assert [x["appName"] for x in listed] == sorted((x["appName"] for x in listed), key=str.lower)
    assert len({x["userAgentId"] for x in listed}) == len(listed)
    by_name = {x["appName"]: x for x in listed}
    assert by_name["Thorium Reader"]["drmId"] == "LCP" and by_name["Thorium Reader"]["drmLabel"] == "Readium LCP"
    assert {x["drmId"] for x in listed} == {"LCP", "NONE"}
    assert all(x["platforms"] for x in listed)
    assert user_agents.known("lcp-thorium-reader") and not user_agents.known("adobe-ade")


def test_the_latest_end_is_the_offer_maximum_or_the_licence_end_and_the_rules_accept_it() -> None:
    """LSD's potential_rights: what a renewal without a date asks for, never refused for its length."""
    lo, now = loan(), T0 + timedelta(days=12)
    assert latest_end(lo, licence()) == lo.created_at + timedelta(days=60)
    short = licence(end_date=T0 + timedelta(days=30))
    assert latest_end(lo, short) == T0 + timedelta(days=30)
    for lic in (licence(), short):
        assert check_renewal(lo, lic, latest_end(lo, lic), now) == latest_end(lo, lic)
        assert refusal(lo, lic, latest_end(lo, lic) + timedelta(seconds=1), now)[1] in (
            "renewal_too_long", "licence_ends_first")
