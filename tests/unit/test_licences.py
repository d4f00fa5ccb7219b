"""Licence rules with an injected clock: windows, pools, NTA, loan durations, the order of refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.codes import Refused, Status
from lending.domain.licences import AccessMedium, Licence, Localization, Pool, check_loan, loan_end, pool_for
from lending.domain.offers import LicenceTerms
from lending.pnb.refusals import answer as pnb_answer

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = LicenceTerms(loans=3, downloads=2, onsite_streams=1, offsite_streams=0, licence_days=365, max_loan_days=21)


def licence(**over: object) -> Licence:
    lic = Licence.new(
        order_line_id="1" * 24,
        gln_coll="c",
        gln_reseller="r",
        order_id="o",
        ean13="e",
        gln_distributor="d",
        terms=TERMS,
        dmd_date=T0,
    )
    for k, v in over.items():
        setattr(lic, k, v)
    return lic


def refusal(lic: Licence, pool: Pool, now: datetime) -> tuple[Status, str]:
    with pytest.raises(Refused) as e:
        check_loan(lic, pool, now)
    return pnb_answer(e.value)[0], e.value.reason


def test_pools_by_medium_and_localization() -> None:
    assert pool_for(AccessMedium.DOWNLOAD, Localization.IN_SITU) is Pool.DOWNLOAD
    assert pool_for(AccessMedium.DOWNLOAD, Localization.EX_SITU) is Pool.DOWNLOAD
    assert pool_for(AccessMedium.STREAMING, Localization.IN_SITU) is Pool.ONSITE
    assert pool_for(AccessMedium.STREAMING, Localization.EX_SITU) is Pool.OFFSITE


def test_new_licence_takes_the_offer_terms() -> None:
    lic = licence()
    assert lic.sizes == {Pool.DOWNLOAD: 2, Pool.ONSITE: 1, Pool.OFFSITE: 0} == lic.free
    assert (lic.nta, lic.nta_total) == (3, 3)
    assert lic.end_date == T0 + timedelta(days=365)
    assert lic.nus1(T0) == 2 and lic.nus2(T0) == 1 and lic.unused()


def test_window_from_dmd_date() -> None:
    check_loan(licence(), Pool.DOWNLOAD, T0)  # the first instant lends
    assert refusal(licence(), Pool.DOWNLOAD, T0 - timedelta(seconds=1)) == (
        Status.PRODUCT_CANNOT_BE_LOAN,
        "cannot_be_loaned",
    )
    end = T0 + timedelta(days=365)
    check_loan(licence(), Pool.DOWNLOAD, end - timedelta(seconds=1))
    assert refusal(licence(), Pool.DOWNLOAD, end) == (Status.LOAN_DURATION_EXPIRED, "licence_expired")
    lic = licence()
    assert lic.end_offer_date(end - timedelta(seconds=1)) is None and lic.end_offer_date(end) == end
    assert lic.nus1(end) == 0 and lic.nus2(end) == 0


def test_nothing_left_comes_before_busy() -> None:
    spent = licence(nta=0, free={Pool.DOWNLOAD: 0, Pool.ONSITE: 1, Pool.OFFSITE: 0})
    assert refusal(spent, Pool.DOWNLOAD, T0) == (Status.MAX_LOAN_QUANTITY_REACHED, "nta_exhausted")
    busy = licence(free={Pool.DOWNLOAD: 0, Pool.ONSITE: 1, Pool.OFFSITE: 0})
    status, reason = refusal(busy, Pool.DOWNLOAD, T0)
    assert (status, reason) == (Status.MAX_SIMULTANEOUS_LOAN_REACHED, "pool_full")
    with pytest.raises(Refused) as e:
        check_loan(licence(free={Pool.DOWNLOAD: 2, Pool.ONSITE: 0, Pool.OFFSITE: 0}), Pool.ONSITE, T0)
    assert pnb_answer(e.value)[1] == "The maximum number of on-site consultation is reached."


def test_a_pool_the_offer_does_not_grant_cannot_be_loaned() -> None:
    assert refusal(licence(), Pool.OFFSITE, T0)[0] is Status.PRODUCT_CANNOT_BE_LOAN


def test_cancelled_licence_lends_nothing() -> None:
    lic = licence(status="CANCELLED")
    assert refusal(lic, Pool.DOWNLOAD, T0)[0] is Status.PRODUCT_CANNOT_BE_LOAN
    assert lic.nus1(T0) == 0


def test_loan_end_rules() -> None:
    lic = licence()
    now = T0 + timedelta(days=10)
    assert loan_end(lic, now, now + timedelta(days=21)) == now + timedelta(days=21)
    with pytest.raises(Refused) as e:
        loan_end(lic, now, now + timedelta(days=21, seconds=1))
    status, message = pnb_answer(e.value)
    assert status is Status.INVALID_ARGUMENTS and "over maximum autorized limit" in message
    with pytest.raises(Refused) as e:
        loan_end(lic, now, now)
    assert pnb_answer(e.value)[1] == "invalid expiration date"
    # Near the licence's end, a loan ends with the licence.
    late = lic.end_date - timedelta(days=5)
    assert loan_end(lic, late, late + timedelta(days=20)) == lic.end_date


def test_terms_are_checked() -> None:
    with pytest.raises(ValueError):
        LicenceTerms(loans=-1, downloads=1, onsite_streams=0, offsite_streams=0, licence_days=1, max_loan_days=1)
    with pytest.raises(ValueError):
        LicenceTerms(loans=1, downloads=1, onsite_streams=0, offsite_streams=0, licence_days=0, max_loan_days=1)


def test_counters_are_proven_against_the_loans() -> None:
    from lending.domain.loans import Drift, Loan, LoanState, drifts
    from lending.domain.values import replace

    def loan(n: int, pool: Pool, state: LoanState = LoanState.ACTIVE) -> Loan:
        return Loan("c", f"L{n}", "1" * 24, "e", "d", pool, T0, T0 + timedelta(days=7), state=state)

    loans = [loan(1, Pool.DOWNLOAD), loan(2, Pool.ONSITE), loan(3, Pool.DOWNLOAD, LoanState.RETURNED)]
    lic = licence()
    lic.free = {Pool.DOWNLOAD: 1, Pool.ONSITE: 0, Pool.OFFSITE: 0}
    lic.nta = 0
    assert drifts(lic, loans) == []  # 3 accesses spent, one place taken in each of two pools
    assert drifts(lic, loans[:2]) == [Drift("1" * 24, "nta", 1, 0)]  # an ended loan still spent its access
    assert drifts(lic, [*loans[:2], replace(loans[2], state=LoanState.ACTIVE)]) == [
        Drift("1" * 24, "free[dl]", 0, 1)]
