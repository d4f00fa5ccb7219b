"""Sign-ins: an unknown account costs what a wrong password costs, and failed sign-ins are throttled per
account and per source address, per window of the injected clock (counter items expiring by TTL)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.accounts import Role
from lending.domain.codes import Status
from lending.domain.identifiers import gs1_check_digit
from lending.domain.refusals import Reason, Refused
from lending.local import demo
from lending.pnb.refusals import answer
from lending.services import auth
from lending.store import signins, table
from tests.helpers import coll_auth, pnb

pytestmark = pytest.mark.usefixtures("aws")
COLL = (Role.COLLECTIVITY,)
UNKNOWN = "301234599999" + gs1_check_digit("301234599999")  # a well-formed GLN of no account
T0 = datetime(2026, 11, 29, 10, 0, 30, tzinfo=UTC)  # 30 s into a window


def attempt(gln: str, password: str, now: datetime = T0, source: str = "198.51.100.7") -> Refused | None:
    try:
        auth.authenticate(gln, password, COLL, now=now, source=source)
    except Refused as r:
        return r
    return None


def test_an_unknown_account_costs_what_a_wrong_password_costs() -> None:
    def timed(gln: str, i: int) -> float:
        started = time.perf_counter()
        refused = attempt(gln, "wrong", source=f"198.51.100.{i}")
        assert refused is not None and refused.reason is Reason.BAD_CREDENTIALS
        return time.perf_counter() - started

    attempt(demo.COLL, "wrong", source="198.51.100.200")  # warm the client and the code paths
    known = statistics.median(timed(demo.COLL, i) for i in range(5))
    unknown = statistics.median(timed(UNKNOWN, i) for i in range(5))
    assert 0.6 < unknown / known < 1.6, (known, unknown)


def test_failed_sign_ins_lock_the_account_for_the_rest_of_the_window() -> None:
    for i in range(auth.FAILURES_PER_ACCOUNT):
        refused = attempt(demo.COLL, "wrong", source=f"203.0.113.{i}")
        assert refused is not None and refused.reason is Reason.BAD_CREDENTIALS
    refused = attempt(demo.COLL, demo.COLL_PASSWORD, source="203.0.113.99")  # the right one, too late
    assert refused is not None and refused.reason is Reason.TOO_MANY_SIGNINS
    assert refused.params == {"retry_after": "2026-11-29T10:15:00Z"}
    assert answer(refused) == (Status.AUTHENTICATION_ERROR, "Too many failed sign-ins for this account or from "
                                                            "this address: try again after 2026-11-29T10:15:00Z")
    assert attempt(demo.COLL2, demo.COLL2_PASSWORD) is None  # another account is not concerned
    assert attempt(demo.COLL, demo.COLL_PASSWORD, now=T0 + timedelta(minutes=15)) is None  # next window


def test_failed_sign_ins_from_one_address_lock_that_address() -> None:
    for i in range(auth.FAILURES_PER_SOURCE):
        gln = f"30123450{i:04d}"
        assert attempt(gln + gs1_check_digit(gln), "wrong", source="192.0.2.1") is not None
    refused = attempt(demo.COLL, demo.COLL_PASSWORD, source="192.0.2.1")
    assert refused is not None and refused.reason is Reason.TOO_MANY_SIGNINS
    assert attempt(demo.COLL, demo.COLL_PASSWORD, source="192.0.2.2") is None


def test_counters_expire_by_ttl() -> None:
    attempt(demo.COLL, "wrong")
    ttl = table.client().describe_time_to_live(TableName=table.table_name())["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "purgeAt"}
    window = int(T0.timestamp()) - int(T0.timestamp()) % auth.WINDOW_SECONDS
    item = table.get(f"SIGNIN#account#{demo.COLL}", f"WINDOW#{window}")
    assert item is not None and item["failures"] == 1
    assert item["purgeAt"] == window + 2 * auth.WINDOW_SECONDS
    assert signins.failures([("source", "198.51.100.7")], window) == {("source", "198.51.100.7"): 1}


def test_the_pnb_door_answers_a_locked_account_clearly() -> None:
    now = datetime.now(UTC)
    for moment in (now, now + timedelta(seconds=60)):  # this window and the next: no boundary race
        epoch = int(moment.timestamp())
        for _ in range(auth.FAILURES_PER_ACCOUNT):
            signins.record_failure([("account", demo.COLL)], epoch - epoch % auth.WINDOW_SECONDS, auth.WINDOW_SECONDS)
    answer = pnb("getOrders", {**coll_auth(), "orderIdColl": "COLL1"})
    assert answer["returnStatus"] == "AUTHENTICATION_ERROR"
    assert answer["returnMessage"].startswith("Too many failed sign-ins")
    assert pnb("getOrders", {**coll_auth(demo.COLL2, demo.COLL2_PASSWORD), "orderIdColl": "C"})["returnStatus"] in (
        "OK", "NOT_FOUND")
