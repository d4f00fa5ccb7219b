"""Lines that hold their loans (docs/cost.md), on moto: the backfill of a table written before them, and
the reconcile job's repair of a loanBook cut short between its line write and its detail write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.dates import iso
from lending.domain.licences import Pool
from lending.domain.loans import Loan
from lending.domain.values import replace
from lending.local import demo
from lending.services import lending
from lending.store import ftp_files as ftp_store
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import table
from tests.helpers import line, order_ok, whole_line

pytestmark = pytest.mark.usefixtures("aws")
EAN = "9791000000015"  # 2 downloads, NTA 30


def _loan(line_id: str, loan_id: str, created: datetime, days: float) -> Loan:
    return Loan(gln_coll=demo.COLL, loan_id=loan_id, order_line_id=line_id, ean13=EAN,
                gln_distributor=demo.DISTRIBUTOR, pool=Pool.DOWNLOAD, created_at=created,
                end_date=created + timedelta(days=days), fingerprint=f"fp-{loan_id}")


def _drifts(line_id: str, now: datetime) -> list[object]:
    _, found = lending.reconcile(pause=lambda s: None, now=now)
    return [d for d in found if d.order_line_id == line_id]


def test_the_backfill_seats_the_active_loans_of_a_table_written_before_seats() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    (line_id,) = order_ok(line(EAN))
    lpk, lsk = line_store.line_key(line_id)
    whole_line(line_id)  # written whole, before lines were split (split_lines, below)
    # As the hub wrote them before: no `loans` on the line, its counters counting two active loans (one
    # past its end, the expiry job not run yet), each loan in the due index; a hold queue not indexed.
    old = [_loan(line_id, "OLD1", now - timedelta(days=1), 7), _loan(line_id, "OLD2", now - timedelta(days=3), 1)]
    for x in old:
        table.put({**loan_store._item(x), "gsi2pk": "DUE#3", "gsi2sk": f"x#{x.loan_id}"})
    table.client().update_item(TableName=table.table_name(), Key=table.key(lpk, lsk),
                               UpdateExpression="SET dlFree = :z, nta = :n REMOVE loans, gsi1pk, gsi1sk",
                               ExpressionAttributeValues={":z": table.val(0), ":n": table.val(28)})
    table.put({"pk": f"HOLDQ#{demo.COLL}#{EAN}", "sk": "QUEUE", "type": "holdQueue", "glnColl": demo.COLL,
               "ean13": EAN, "next": 0})
    done = loan_store.backfill_seats()
    assert done["seats"] >= 2 and done["due_entries"] >= 2 and done["queues"] >= 1 and done["lines"] >= 1
    item = line_store.get_line(line_id)
    assert item is not None and sorted(item["loans"]) == ["OLD1", "OLD2"]
    # OLD2's end has passed: its place is free for every reader, and the counters match the records.
    assert line_store.licence(item, now).free[Pool.DOWNLOAD] == 1
    assert _drifts(line_id, now) == []
    assert all("gsi2pk" not in (table.get(*loan_store.loan_key(demo.COLL, x.loan_id)) or {}) for x in old)
    assert (demo.COLL, EAN) in loan_store_held_titles()
    # The line is back in its collectivity's index: the FTP files list OLD1, running, not OLD2, lapsed.
    running = ftp_store.running_loans(demo.COLL, iso(now))
    assert (line_id, "OLD1") in running and (line_id, "OLD2") not in running
    again = loan_store.backfill_seats()  # safe to run again: nothing left to add
    assert again == {"seats": 0, "queues": 0, "due_entries": 0, "lines": 0}
    # The next loan of the line drops OLD2's seat and takes its place: once (a whole line lends as it is).
    loan_store.lend(_loan(line_id, "NEW1", now, 7), now)
    item = line_store.get_line(line_id)
    assert item is not None and sorted(item["loans"]) == ["NEW1", "OLD1"] and item["dlFree"] == 0
    assert _drifts(line_id, now) == []
    # Then the line is split (docs/line-split.md): the same line for every reader, its hot item small.
    assert line_store.split_lines() >= 1 and line_store.split_lines() == 0
    assert line_store.get_line(line_id) == item
    hot, terms = table.get(lpk, lsk), table.get(*line_store.terms_key(line_id))
    assert hot is not None and terms is not None and set(hot) <= line_store.HOT and "gsi1pk" in terms
    running = ftp_store.running_loans(demo.COLL, iso(now))
    assert (line_id, "OLD1") in running and (line_id, "NEW1") in running
    later = now + timedelta(days=8)  # OLD1 and NEW1 lapsed: the next loan drops both
    loan_store.lend(_loan(line_id, "NEW2", later, 7), later)
    item = line_store.get_line(line_id)
    assert item is not None and sorted(item["loans"]) == ["NEW2"] and item["dlFree"] == 1
    assert _drifts(line_id, later) == []


def loan_store_held_titles() -> list[tuple[str, str]]:
    from lending.store import holds as hold_store

    return hold_store.held_titles()


def test_a_seat_whose_detail_was_never_written_is_released_once_by_reconcile(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    (line_id,) = order_ok(line(EAN))
    cut = _loan(line_id, "CUT1", now - timedelta(hours=1), 7)

    def crash(item: object) -> None:
        raise RuntimeError("the request died here")

    monkeypatch.setattr(table, "put_new", crash)
    with pytest.raises(RuntimeError):
        loan_store.lend(cut, cut.created_at)
    monkeypatch.undo()
    item = line_store.get_line(line_id)
    assert item is not None and list(item["loans"]) == ["CUT1"] and (item["dlFree"], item["nta"]) == (1, 29)
    # Within its grace the seat is left to a replay of the request; past it, reconcile gives it back once.
    assert lending.release_orphans(cut.created_at + timedelta(minutes=1)) == 0
    assert lending.release_orphans(now) == 1
    assert lending.release_orphans(now) == 0
    item = line_store.get_line(line_id)
    assert item is not None and item["loans"] == {} and (item["dlFree"], item["nta"]) == (2, 30)
    assert loan_store.get(demo.COLL, "CUT1") is None and _drifts(line_id, now) == []


def test_a_lapsed_seat_renewed_before_a_loans_write_is_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """On moto: NEW read the line with A's seat lapsed; A's renewal (judged a second before A's end)
    lands before NEW's write. NEW's drop is conditioned on the seat as read: it fails, and A keeps its
    place (the line's counters still match the records)."""
    now = datetime.now(UTC).replace(microsecond=0)
    (line_id,) = order_ok(line(EAN))
    a = _loan(line_id, "RA", now - timedelta(hours=2), 2 / 24)  # ends at `now`
    b = _loan(line_id, "RB", now - timedelta(hours=1), 7)
    for x in (a, b):
        loan_store.lend(x, x.created_at)
    real = table.update

    def renewal_first(op: dict[str, object]) -> dict[str, object]:
        monkeypatch.setattr(table, "update", real)
        current = loan_store.get(demo.COLL, "RA")
        assert current is not None
        loan_store.renew(current, now + timedelta(days=3), now - timedelta(seconds=1))
        return real(op)

    monkeypatch.setattr(table, "update", renewal_first)
    with pytest.raises(loan_store.LicenceRefused):
        loan_store.lend(_loan(line_id, "RC", now, 7), now)
    item = line_store.get_line(line_id)
    assert item is not None and sorted(item["loans"]) == ["RA", "RB"] and item["dlFree"] == 0
    assert loan_store.get(demo.COLL, "RC") is None and _drifts(line_id, now) == []


def _cut_short(line_id: str, loan_id: str, created: datetime) -> Loan:
    """loanBook cut short between its seat and its detail (the request died in between)."""
    cut = _loan(line_id, loan_id, created, 7)

    def crash(item: object) -> None:
        raise RuntimeError("the request died here")

    real, table.put_new = table.put_new, crash  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError):
            loan_store.lend(cut, cut.created_at)
    finally:
        table.put_new = real  # type: ignore[assignment]
    return cut


def test_reconcile_does_not_release_a_seat_whose_replay_lands_after_its_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the grace, reconcile reads a seat and finds no detail; the client's retry of the same request
    (a replay, within the hour) lands before reconcile's release and writes the detail from the seat: the
    loan is answered and active, so its seat must stay (released, its place would be lent twice)."""
    now = datetime.now(UTC).replace(microsecond=0)
    (line_id,) = order_ok(line(EAN))
    cut = _cut_short(line_id, "CUT2", now - timedelta(minutes=20))
    real = loan_store.get_many
    answered: list[Loan] = []

    def replay_lands(gln_coll: str, loan_ids: list[str]) -> list[Loan]:
        found = real(gln_coll, loan_ids)
        monkeypatch.setattr(loan_store, "get_many", real)
        with pytest.raises(loan_store.LoanExists) as e:
            loan_store.lend(replace(cut, created_at=now), now)
        answered.append(e.value.existing)
        return found

    monkeypatch.setattr(loan_store, "get_many", replay_lands)
    assert lending.release_orphans(now) == 0
    assert [x.loan_id for x in answered] == ["CUT2"] and loan_store.get(demo.COLL, "CUT2") == answered[0]
    item = line_store.get_line(line_id)
    assert item is not None and list(item["loans"]) == ["CUT2"] and (item["dlFree"], item["nta"]) == (1, 29)
    assert _drifts(line_id, now) == []


def test_a_replay_whose_seat_reconcile_released_meanwhile_writes_no_seatless_loan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The other order: the replay read its seat and found no detail, reconcile released the seat, then
    the replay writes the detail. Written on condition that its seat is still there, it is not: the
    replay is told the line changed (the use case lends again), never leaves a loan with no seat."""
    now = datetime.now(UTC).replace(microsecond=0)
    (line_id,) = order_ok(line(EAN))
    cut = _cut_short(line_id, "CUT3", now - timedelta(minutes=20))
    real = loan_store.get
    released: list[int] = []

    def reconcile_lands(gln_coll: str, loan_id: str) -> Loan | None:
        found = real(gln_coll, loan_id)
        monkeypatch.setattr(loan_store, "get", real)
        released.append(lending.release_orphans(now))
        return found

    monkeypatch.setattr(loan_store, "get", reconcile_lands)
    with pytest.raises(loan_store.LicenceRefused):
        loan_store.lend(replace(cut, created_at=now), now)
    assert released == [1] and loan_store.get(demo.COLL, "CUT3") is None
    item = line_store.get_line(line_id)
    assert item is not None and item["loans"] == {} and (item["dlFree"], item["nta"]) == (2, 30)
    assert _drifts(line_id, now) == []


def test_a_lapsed_loans_end_with_its_seat_gone_tries_no_doomed_handovers_on_moto(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As tests/unit/test_use_cases_loans.py's twin, on moto (its cancellation reasons carry the line as
    it was): A's seat went with B's loan, M1's hold waits; touching A ends A (its detail), then tries one hand-over."""
    from lending.domain.holds import HoldState
    from lending.domain.loans import LoanState
    from lending.domain.refusals import Reason
    from lending.services import collectivity_loans, holds
    from lending.store import holds as hold_store
    from tests.usecase_helpers import ONE, T0, account, at, licence_of, loan_request, refused

    ctx = at(T0)
    (line_id,) = licence_of(ctx, ONE)
    loan, _ = lending.lend(ctx, loan_request(ctx, line_id, "A", ean13=ONE, days=1))
    end = at(loan.end_date)
    lending.lend(end, loan_request(end, line_id, "B", ean13=ONE, days=1))
    later = at(loan.end_date + timedelta(minutes=1))
    _, placed = holds.place_hold(later, account(demo.COLL), holds.NewHold("M1", ONE))
    tries: list[int] = []
    real = table.transact
    monkeypatch.setattr(table, "transact", lambda items: (tries.append(len(items)), real(items))[1])
    assert refused(collectivity_loans.return_loan, later, account(demo.COLL), line_id, "A").reason is \
        Reason.ALREADY_ENDED
    stored = loan_store.get(demo.COLL, "A")
    assert placed and stored is not None and stored.state is LoanState.EXPIRED and len(tries) == 1
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    item = line_store.get_line(line_id)
    assert hold.state is HoldState.WAITING and item is not None and list(item["loans"]) == ["B"]


def test_a_return_cut_short_after_its_detail_has_its_seat_released_once_by_reconcile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On moto: endLoan's detail is written (RETURNED, with its event), the request dies before the
    seat's write. The place stays taken (never given twice); reconcile finds the seat of an ended loan
    and takes it off once (no grace: an ended loan needs no seat); the counters then match the records,
    and a replay of the return afterwards is ALREADY_ENDED, freeing nothing."""
    from lending.domain.loans import LoanState
    from lending.domain.refusals import Reason
    from lending.services import collectivity_loans
    from tests.usecase_helpers import account, at, loan_request, refused

    now = datetime.now(UTC).replace(microsecond=0)
    (line_id,) = order_ok(line(EAN))
    ctx = at(now - timedelta(minutes=2))
    lending.lend(ctx, loan_request(ctx, line_id, "RET1", ean13=EAN, days=7))

    def crash(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("the request died here")

    monkeypatch.setattr(loan_store, "free_seat", crash)
    with pytest.raises(RuntimeError):
        collectivity_loans.return_loan(at(now - timedelta(minutes=1)), account(demo.COLL), line_id, "RET1")
    monkeypatch.undo()
    stored = loan_store.get(demo.COLL, "RET1")
    item = line_store.get_line(line_id)
    assert stored is not None and stored.state is LoanState.RETURNED
    assert item is not None and list(item["loans"]) == ["RET1"] and (item["dlFree"], item["nta"]) == (1, 29)
    assert lending.release_orphans(now) == 1
    assert lending.release_orphans(now) == 0
    item = line_store.get_line(line_id)
    assert item is not None and item["loans"] == {} and (item["dlFree"], item["nta"]) == (2, 29)
    assert refused(collectivity_loans.return_loan, at(now), account(demo.COLL), line_id, "RET1").reason is \
        Reason.ALREADY_ENDED
    item = line_store.get_line(line_id)
    assert item is not None and (item["dlFree"], item["nta"]) == (2, 29) and _drifts(line_id, now) == []
