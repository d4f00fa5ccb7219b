"""Hold rules (pure, injected clock): settings, ids, queue head and position, the reservation window,
the expected wait, the refusals, and the counting rule that makes a reserved place a taken one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.holds import (
    Hold,
    HoldSettings,
    HoldState,
    check_new_hold,
    expected_at,
    expected_wait_days,
    head,
    hold_id,
    parse_hold_id,
    position,
    reserve,
)
from lending.domain.licences import Licence, Pool
from lending.domain.loans import Loan, LoanState, drifts
from lending.domain.offers import LicenceTerms
from lending.domain.refusals import Reason, Refused
from lending.notify import events
from lending.store import callbacks, holds

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EAN = "9791000000022"


def a_hold(ticket: int, state: HoldState = HoldState.WAITING) -> Hold:
    return Hold("3012345000031", EAN, ticket, f"m{ticket}", NOW - timedelta(hours=ticket), state)


def test_settings_default_and_library_values() -> None:
    assert HoldSettings.of({}) == HoldSettings(5, timedelta(hours=48))
    assert HoldSettings.of({"maxHolds": 0, "holdWindowHours": "72"}) == HoldSettings(0, timedelta(hours=72))
    # nonsense falls back to the defaults; a window of 0 hours would give nobody a chance
    assert HoldSettings.of({"maxHolds": -1, "holdWindowHours": 0}) == HoldSettings()
    assert HoldSettings.of({"maxHolds": True, "holdWindowHours": "2d"}) == HoldSettings()


def test_hold_ids_carry_the_title_and_the_ticket() -> None:
    assert hold_id(EAN, 7) == "979100000002200000000007"
    assert parse_hold_id("979100000002200000000007") == (EAN, 7)
    for bad in ("", "97910000000220000000000", "97910000000220000000000x", "９" * 24, "../" * 8):
        assert parse_hold_id(bad) is None


def test_head_and_positions_follow_tickets_not_placing_times() -> None:
    queue = [a_hold(5), a_hold(2, HoldState.RESERVED), a_hold(3), a_hold(9)]
    first = head(queue)
    assert first is not None and first.ticket == 3
    assert [position(queue, h) for h in queue] == [2, 0, 1, 3]
    assert head([a_hold(1, HoldState.RESERVED)]) is None


def test_reserving_sets_the_window_from_the_injected_clock() -> None:
    got = reserve(a_hold(1), "LINE1", NOW, HoldSettings(window=timedelta(hours=48)))
    assert (got.state, got.order_line_id, got.reserved_at, got.expires_at) == (
        HoldState.RESERVED, "LINE1", NOW, NOW + timedelta(hours=48))
    assert got.claimable(NOW + timedelta(hours=47)) and not got.claimable(NOW + timedelta(hours=48))
    with pytest.raises(ValueError):
        reserve(got, "LINE1", NOW, HoldSettings())


def test_expected_wait_turns_over_the_places() -> None:
    ends = [NOW + timedelta(days=3), NOW + timedelta(days=1)]
    assert expected_at(1, ends, [], 21, NOW) == NOW + timedelta(days=1)
    assert expected_at(2, ends, [], 21, NOW) == NOW + timedelta(days=3)
    assert expected_at(3, ends, [], 21, NOW) == NOW + timedelta(days=22)
    assert expected_wait_days(3, ends, [], 21, NOW) == 22
    # an overdue loan is expected now; a reservation frees its place at its window's end at the latest
    assert expected_at(1, [NOW - timedelta(days=1)], [], 21, NOW) == NOW
    assert expected_at(1, [], [NOW + timedelta(hours=5)], 21, NOW) == NOW + timedelta(hours=5)
    assert expected_at(1, [], [], 21, NOW) is None and expected_wait_days(0, ends, [], 21, NOW) is None


def test_refusals_in_order() -> None:
    def reason(**kw: object) -> Reason | None:
        args = {"settings": HoldSettings(max_holds=2), "open_holds": 0, "on_loan": False, "available": False}
        try:
            check_new_hold(**{**args, **kw})  # type: ignore[arg-type]
        except Refused as r:
            return r.reason
        return None

    assert reason() is None and reason(open_holds=1) is None
    assert reason(open_holds=2) is Reason.HOLD_LIMIT
    assert reason(available=True, open_holds=2) is Reason.COPIES_AVAILABLE
    assert reason(on_loan=True, available=True) is Reason.ALREADY_ON_LOAN
    assert reason(settings=HoldSettings(max_holds=0)) is Reason.HOLD_LIMIT  # holds off for the library


def _licence(free: int, held: int) -> Licence:
    lic = Licence.new(order_line_id="L1", gln_coll="C", gln_reseller="R", order_id="O", ean13=EAN,
                      gln_distributor="D", terms=LicenceTerms(loans=10, downloads=2, onsite_streams=0,
                                                              offsite_streams=0, licence_days=365,
                                                              max_loan_days=21), dmd_date=NOW)
    lic.free[Pool.DOWNLOAD], lic.held = free, held
    return lic


def _loan(i: int) -> Loan:
    return Loan("C", f"LN{i}", "L1", EAN, "D", Pool.DOWNLOAD, NOW, NOW + timedelta(days=1), LoanState.ACTIVE)


def test_a_reserved_place_counts_as_taken() -> None:
    # 2 places: one loan, one reservation -> nothing free, held 1; one loan made (NTA 9)
    lic = _licence(free=0, held=1)
    lic.nta = 9
    assert drifts(lic, [_loan(1)], reserved=1) == []
    drifted = drifts(lic, [_loan(1)], reserved=0)
    assert {d.what for d in drifted} == {"held", "free[dl]"}
    # the accesses left are kept for reservations: with 1 access and 1 reservation, nobody else may borrow
    spent = _licence(free=1, held=1)
    spent.nta = 1
    from lending.domain.licences import loan_refusals

    assert [r.reason for r in loan_refusals(spent, Pool.DOWNLOAD, NOW + timedelta(hours=1))] == [Reason.NTA_EXHAUSTED]


def test_callback_state_lives_on_the_hold_item() -> None:
    assert callbacks.subject_key("C", "979100000002200000000007", "hold.reserved") == holds.hold_key("C", EAN, 7)
    assert callbacks.subject_key("C", "L1", "loan.returned") == callbacks.loan_key("C", "L1")


def test_the_hold_event_shape() -> None:
    body = {"event": "hold.reserved", "holdId": "979100000002200000000007", "orderLineId": "L1", "ean13": EAN,
            "memberId": "m7", "reservedAt": "2026-03-01T12:00:00Z", "holdExpiresAt": "2026-03-03T12:00:00Z",
            "email": "never@sent.example"}
    item = {"eventId": "E1", "glnColl": "C", "url": "https://ils.example/h", "body": body}
    event = events.from_outbox(item)
    assert event.kind == "hold.reserved" and event.loan_id == body["holdId"]
    assert "email" not in event.payload  # only the contract's fields leave
    with pytest.raises(events.Poison):
        events.from_outbox({**item, "body": {k: v for k, v in body.items() if k != "holdExpiresAt"}})
    with pytest.raises(events.Poison):
        events.from_outbox({**item, "body": {**body, "event": "hold.other"}})


def test_each_pool_has_its_own_head_and_positions() -> None:
    """A freed place serves the first waiting hold of its own pool; a patron's position counts only the
    holds waiting for the same kind of place (tickets stay one sequence per title)."""
    queue = [a_hold(1), a_hold(2), a_hold(3), a_hold(4)]
    queue[1].pool = queue[3].pool = Pool.OFFSITE
    assert [h.ticket for h in (head(queue), head(queue, Pool.OFFSITE))] == [1, 2]  # type: ignore[union-attr]
    assert head(queue, Pool.ONSITE) is None
    assert [position(queue, h) for h in queue] == [1, 1, 2, 2]
    reserved = reserve(queue[1], "L1", NOW, HoldSettings())
    assert reserved.pool is Pool.OFFSITE  # the reservation keeps the hold's pool


def test_a_reserved_stream_counts_as_taken_in_its_own_pool() -> None:
    lic = Licence.new(order_line_id="L1", gln_coll="C", gln_reseller="R", order_id="O", ean13=EAN,
                      gln_distributor="D", terms=LicenceTerms(loans=10, downloads=2, onsite_streams=1,
                                                              offsite_streams=1, licence_days=365,
                                                              max_loan_days=21), dmd_date=NOW)
    lic.free[Pool.OFFSITE], lic.held, lic.held_streams = 0, 1, {Pool.OFFSITE: 1}
    assert lic.held_in(Pool.OFFSITE) == 1 and lic.held_in(Pool.DOWNLOAD) == 0
    assert drifts(lic, [], reserved={Pool.OFFSITE: 1}) == []
    # counted as a download reservation, it is three drifts: its own count, and both pools' free places
    assert {d.what for d in drifts(lic, [], reserved=1)} == {"held[off]", "free[off]", "free[dl]"}
    lic.held_streams = {}
    assert {d.what for d in drifts(lic, [], reserved={Pool.OFFSITE: 1})} == {"held[off]"}
