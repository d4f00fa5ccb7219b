"""The daily exportation summary on emulated AWS with an injected clock: orders and loans on both sides of
a Paris midnight, a return, an expiration, an ONIX record rejected; the hourly job run before the
morning sends nothing, run twice in the morning sends one email per subscribed account, whose figures
the test recomputes from the day's orders and loans; the CSV is in the bucket."""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from lending.domain import summary as rules
from lending.domain.refusals import Reason, Refused
from lending.local import demo
from lending.pnb.operations import run as pnb_run
from lending.services import lending as lending_uses
from lending.services import summary
from lending.services.context import Ctx
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import summary as summary_store
from tests.helpers import line, loan_body, order_body

pytestmark = pytest.mark.usefixtures("aws")

DAY = date(2026, 3, 10)  # a Tuesday; Paris is UTC+1 that day
START = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # Paris midnight
END = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)


def pnb(service: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
    status, answer = pnb_run(service, body, Ctx(now=at, base_url="http://hub.test"))
    assert status == 200 and answer["returnStatus"] == "OK", answer
    return answer


def order(at: datetime, *eans: str) -> list[str]:
    lines = [line(e, demo.DISTRIBUTOR2 if e == "9791000000053" else demo.DISTRIBUTOR, dmd=at) for e in eans]
    got = pnb("sendOrder", order_body(*lines, order_id=f"S{uuid.uuid4().hex[:10]}"), at)
    return [x["orderLineId"] for x in got["orderResponseLine"]]


def lend(line_id: str, ean: str, at: datetime, days: int = 14) -> str:
    loan_id = f"L{uuid.uuid4().hex[:10]}"
    pnb("loanBook", loan_body(line_id, loan_id, ean13=ean, days=days, now=at), at)
    return loan_id


def figures(text: str, labels: dict[str, str]) -> dict[str, int]:
    return {k: int(re.search(rf"^{re.escape(label)}: (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]
            for k, label in labels.items()}


def test_one_email_per_account_with_the_days_figures() -> None:
    # before the day (Paris): 23:30 UTC on the 9th is already the 10th in Paris; 22:30 UTC is still the 9th
    early = order(START - timedelta(minutes=30), "9791000000015")
    in_day_1 = order(START + timedelta(minutes=30), "9791000000015", "9791000000022")
    in_day_2 = order(START + timedelta(hours=10), "9791000000039", "9791000000053")
    after = order(END + timedelta(minutes=5), "9791000000015")
    # a loan of the day before, for one day: it expires within the day
    lend(early[0], "9791000000015", START - timedelta(minutes=20), days=1)
    loans = [lend(in_day_1[0], "9791000000015", START + timedelta(hours=1)),
             lend(in_day_1[1], "9791000000022", START + timedelta(hours=2)),
             lend(in_day_2[0], "9791000000039", START + timedelta(hours=11)),
             lend(in_day_2[1], "9791000000053", START + timedelta(hours=12))]
    lend(after[0], "9791000000015", END + timedelta(minutes=10))  # loan of the day after
    # one return in the day; the loan of the day before expired within it
    returned = loan_store.get(demo.COLL, loans[0])
    assert returned is not None
    lending_uses.return_early(Ctx(now=START + timedelta(hours=5)), returned, START + timedelta(hours=5))
    assert lending_uses.expire_due(Ctx(now=END - timedelta(minutes=10))) == 0  # no hold: nothing to write
    # an ONIX record the sync rejected that day
    summary_store.record_rejections(demo.DISTRIBUTOR, "2026-03-10T09:00:00Z",
                                    [("9791000000099", "ProductIdentifier: invalid check digit")])

    sent: list[tuple[str, str, str]] = []

    def send(to: str, subject: str, text: str) -> str:
        sent.append((to, subject, text))
        return f"m-{len(sent)}"

    # 05:30 in Paris on the 11th: not yet morning, nothing due
    assert summary.run(datetime(2026, 3, 11, 4, 30, tzinfo=UTC), send).sent == []
    morning = datetime(2026, 3, 11, 6, 5, tzinfo=UTC)  # 07:05 in Paris
    first = summary.run(morning, send)
    second = summary.run(morning + timedelta(hours=1), send)  # the next hourly run: nothing again
    again = summary.run(morning, send)  # even the same run twice
    subscribers = {gln: email for gln, _, email, _, _ in demo.SUMMARY_SUBSCRIBERS}
    assert sorted(g for g, _ in first.sent) == sorted(subscribers)
    assert second.sent == again.sent == []
    assert sorted(to for to, _, _ in sent) == sorted(subscribers.values())  # one email per account
    by_to = {to: (subject, text) for to, subject, text in sent}

    # recomputed from the day's orders and loans as the test made them
    day_lines = in_day_1 + in_day_2
    day_loans = [loan_store.get(demo.COLL, x) for x in loans]
    mine_dist = [x for x in day_loans if x and (line_store.get_line(x.order_line_id) or {}).get("glnDistributor")
                 == demo.DISTRIBUTOR]
    assert len(mine_dist) == 3
    expect_coll = {"orders": 2, "licences": len(day_lines), "loans": len(loans), "returns": 1, "expirations": 1}
    expect_reseller = {"orders": 2, "licences": len(day_lines), "loans": 0, "returns": 0, "expirations": 0}
    # the distributor: its own books only (9791000000053 is the second distributor's)
    expect_dist = {"orders": 2, "licences": 3, "loans": len(mine_dist), "returns": 1, "expirations": 1,
                   "records_rejected": 1}

    fr = {k: rules.word(k, "fr") for k in ("orders", "licences", "loans", "returns", "expirations",
                                           "records_rejected")}
    en = {k: rules.word(k, "en") for k in fr}
    subject, text = by_to[subscribers[demo.COLL]]
    assert subject == f"Récapitulatif du 2026-03-10 - {demo.COLL}"  # French, as the collectivity chose
    assert figures(text, {k: fr[k] for k in expect_coll}) == expect_coll
    subject, text = by_to[subscribers[demo.RESELLER]]
    assert subject.startswith("Daily summary of 2026-03-10")
    assert figures(text, {k: en[k] for k in expect_reseller}) == expect_reseller
    _, text = by_to[subscribers[demo.DISTRIBUTOR]]
    assert figures(text, {k: fr[k] for k in expect_dist}) == expect_dist
    assert "9791000000099 : ProductIdentifier: invalid check digit" in text

    # kept as CSV in the bucket, the same figures
    s3 = boto3.client("s3")
    body = s3.get_object(Bucket=os.environ["BUCKET_NAME"], Key=summary.csv_key(demo.COLL, DAY))["Body"].read()
    rows = {r["figure"]: int(r["value"]) for r in csv.DictReader(io.StringIO(body.decode()))}
    assert {k: rows[k] for k in expect_coll} == expect_coll
    assert summary_store.marker(demo.COLL, "2026-03-10")["state"] == "sent"  # type: ignore[index]


def test_a_claimed_day_is_never_sent_again_even_after_a_crash() -> None:
    """A crash between the marker and the email: the day stays claimed, nothing is sent twice."""
    morning = datetime(2026, 3, 11, 6, 5, tzinfo=UTC)
    assert summary_store.claim(demo.RESELLER, "2026-03-10", "2026-03-11T06:05:00Z")  # the run that crashed
    sent: list[str] = []
    got = summary.run(morning, lambda to, subject, text: sent.append(to) or "m")  # type: ignore[func-returns-value]
    assert (demo.RESELLER, "2026-03-10") in got.already
    assert "compta@librairie-demo.example" not in sent and len(sent) == 2


def test_due_day_follows_each_time_zone() -> None:
    now = datetime(2026, 3, 11, 6, 5, tzinfo=UTC)
    assert rules.due_day(now, "Europe/Paris") == date(2026, 3, 10)
    assert rules.due_day(now, "America/Montreal") is None  # 02:05 there
    assert rules.due_day(now, "Asia/Tokyo") == date(2026, 3, 10)  # 15:05 on the 11th
    start, end = rules.bounds(date(2026, 3, 29), "Europe/Paris")  # the spring change: 23 hours
    assert end - start == timedelta(hours=23)
    with pytest.raises(ValueError):
        rules.due_day(now, "Mars/Olympus")


def test_the_job_honours_each_accounts_time_zone() -> None:
    """Three kinds of account in three zones, the hourly job run over a whole UTC day (injected clock):
    each day of each account is sent once, at the first run once it is 06:00 or later where it is."""
    from lending.store import summary as subs

    for gln, _, _, _, _ in demo.SUMMARY_SUBSCRIBERS:
        subs.unsubscribe(gln)
    chosen = {demo.RESELLER: ("reseller", "compta@librairie-demo.example", "en", "Asia/Tokyo"),
              demo.COLL: ("collectivity", "admin@mediatheques-demo.example", "fr", "Europe/Paris"),
              demo.DISTRIBUTOR: ("distributor", "exports@diffuseur-demo.example", "en", "America/Montreal")}
    for gln, (role, email, lang, tz) in chosen.items():
        assert summary.choose(gln, role, email, lang, tz) is not None
    when: dict[str, list[tuple[datetime, str]]] = {}
    first = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo, 01:05 in Paris, 20:05 (the 9th) in Montreal
    for hour in range(24):
        now = first + timedelta(hours=hour)
        got = summary.run(now, lambda to, subject, text: f"m-{to}", base_url="https://hub.example")
        for gln, day in got.sent:
            when.setdefault(gln, []).append((now, day))
    at = {h: first + timedelta(hours=h) for h in (0, 5, 10, 21)}
    assert when == {
        # Tokyo: 09:05 at the first run (the 9th is due), then 06:05 on the 11th there (the 10th)
        demo.RESELLER: [(at[0], "2026-03-09"), (at[21], "2026-03-10")],
        # Paris (UTC+1): 01:05 at the first run, not yet morning; 06:05 at 05:05 UTC
        demo.COLL: [(at[5], "2026-03-09")],
        # Montreal (EDT since the 8th): 20:05 on the 9th at the first run (its day before, the 8th, is due),
        # then 06:05 on the 10th at 10:05 UTC
        demo.DISTRIBUTOR: [(at[0], "2026-03-08"), (at[10], "2026-03-09")],
    }


def test_the_signed_link_in_each_email_manages_the_subscription() -> None:
    sent: list[tuple[str, str, str]] = []
    summary.run(datetime(2026, 3, 11, 6, 5, tzinfo=UTC), lambda to, subject, text: sent.append((to, subject, text))
                or "m", base_url="https://hub.example")
    texts = {to: text for to, _, text in sent}
    reseller_text = texts["compta@librairie-demo.example"]
    link = re.search(r"https://hub\.example/console/subscription/(\S+)$", reseller_text, re.M)
    assert link and "to stop them" in reseller_text  # English, as the reseller chose
    assert "ou pour les arrêter" in texts["admin@mediatheques-demo.example"]
    token = link.group(1)
    sub = summary.by_token(token)
    assert sub is not None and (sub.gln, sub.role) == (demo.RESELLER, "reseller")
    # a link names one account only: another GLN, a changed MAC, garbage
    forged = demo.COLL + token[len(demo.RESELLER):]
    assert summary.by_token(forged) is None and summary.by_token(token[:-1] + "A") is None
    assert summary.by_token("") is None and summary.by_token("\ud800.x") is None
    # the reseller moves to another zone and language through it; the link still works (same address)
    summary.choose(sub.gln, sub.role, sub.email, "fr", "America/Montreal")
    assert summary.by_token(token) == summary.Subscription(demo.RESELLER, "reseller", "compta@librairie-demo.example",
                                                           "fr", "America/Montreal")
    with pytest.raises(Refused) as e:
        summary.choose(sub.gln, sub.role, sub.email, "fr", "Mars/Olympus")
    assert e.value.reason is Reason.INVALID_TIME_ZONE
    # stopping: unsubscribed, the link is dead, the next morning sends it nothing
    assert summary.choose(sub.gln, sub.role, "", "fr", "") is None
    assert summary.by_token(token) is None
    later: list[str] = []
    summary.run(datetime(2026, 3, 12, 12, 5, tzinfo=UTC), lambda to, subject, text: later.append(to) or "m")
    assert "compta@librairie-demo.example" not in later and len(later) == 2
