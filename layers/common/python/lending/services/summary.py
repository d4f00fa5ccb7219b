"""The daily exportation summary (domain/summary.py says what is in it and when it is due).

The hourly job, for every subscribed account whose morning has come:
1. computes the summary of its day before (the day's orders, lines and loans, the distributor's offers
   published and records rejected, the collectivity's callbacks in the dead-letter queue);
2. keeps it as CSV in the bucket (`summaries/<gln>/<day>.csv`; a rerun writes the same bytes);
3. claims the day: a conditional put of the marker `SENT#<day>` (state "sending"); a run that finds the
   marker sends nothing;
4. sends the email, then marks the marker "sent" with SES's message id.

A crash between 3 and 4 loses that day's email (the marker stays "sending", the job logs it on every
later run for a day, the CSV and the console still show the summary): we chose at most once, as a
second identical email is what the issue forbids and a missing one is seen and can be resent by hand
(delete the marker). Sending before the marker would risk the opposite."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from ..domain import summary as rules
from ..domain.dates import iso
from ..domain.values import Record
from ..observability import logger
from ..store import offers as offer_store
from ..store import summary as store
from ..text import same_secret
from . import files

Send = Callable[[str, str, str], str]


Subscription = store.Subscription  # the console's pages name it through this use case module


def subscription(gln: str) -> Subscription | None:
    return store.subscription(gln)


def subscribe(sub: Subscription) -> None:
    store.subscribe(sub)


def choose(gln: str, role: str, email: str, lang: str, tz: str) -> Subscription | None:
    """An account's own choice (console page or the signed link): an empty address unsubscribes; else the
    address, language (fr, else en) and IANA time zone are checked and kept. None when unsubscribed."""
    from ..domain.refusals import Reason, Refused
    from ..domain.staff import normal_email

    email = email.strip()
    if not email:
        store.unsubscribe(gln)
        return None
    try:
        rules.zone(tz.strip())
    except ValueError:
        raise Refused(Reason.INVALID_TIME_ZONE, zone=tz) from None
    address = normal_email(email)
    if address is None:
        raise Refused(Reason.INVALID_EMAIL)
    sub = Subscription(gln, role, address, "fr" if lang == "fr" else "en", tz.strip())
    store.subscribe(sub)
    return sub


# --- the signed link in every email: manage or stop the subscription without signing in --------------

_PURPOSE = b"summary-subscription\0"


def _mac(gln: str, email: str) -> str:
    import base64
    import hashlib
    import hmac

    from .links import signing_key

    raw = hmac.new(signing_key(), _PURPOSE + f"{gln}\0{email}".encode(), hashlib.sha256).digest()[:20]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def manage_token(sub: Subscription) -> str:
    """`<gln>.<mac>`: bound to the account and to the address it was sent to, so a link stops working
    once the address changes or the account unsubscribes (and can never name another account)."""
    return f"{sub.gln}.{_mac(sub.gln, sub.email)}"


def manage_link(base_url: str, sub: Subscription) -> str:
    return f"{base_url.rstrip('/')}/console/subscription/{manage_token(sub)}"


def by_token(token: str) -> Subscription | None:
    """The subscription a genuine link names; None for anything else (forged, stale, malformed)."""
    gln, _, mac = token.partition(".")
    if not (gln.isascii() and gln.isdigit() and len(gln) == 13) or not mac.isascii() or len(mac) > 40:
        return None
    sub = store.subscription(gln)
    if sub is None or not same_secret(_mac(sub.gln, sub.email), mac):
        return None
    return sub


def unsubscribe(gln: str) -> None:
    store.unsubscribe(gln)


def csv_key(gln: str, day: date) -> str:
    return f"summaries/{gln}/{day.isoformat()}.csv"


def _parked(start: datetime, end: datetime) -> dict[str, int]:
    """Callbacks in the dead-letter queue sent within [start, end), per collectivity (a peek: nothing
    is taken from the queue; at most 100 messages looked at)."""
    import os

    if not os.environ.get("CALLBACK_QUEUE_URL"):
        return {}
    from ..notify import queues

    dlq = queues.redrive().dead_letter_url
    if dlq is None:
        return {}
    seen: dict[str, str] = {}
    for _ in range(10):
        got = queues.client().receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                              WaitTimeSeconds=0, AttributeNames=["SentTimestamp"])
        messages = got.get("Messages", [])
        new = [m for m in messages if m["MessageId"] not in seen]
        if not new:
            break
        for m in new:
            sent = datetime.fromtimestamp(int(m.get("Attributes", {}).get("SentTimestamp", "0")) / 1000,
                                          start.tzinfo)
            try:
                coll = str(json.loads(m.get("Body") or "{}").get("glnColl") or "")
            except (ValueError, AttributeError):
                coll = ""
            seen[m["MessageId"]] = coll if start <= sent < end else ""
    counts: dict[str, int] = {}
    for coll in seen.values():
        if coll:
            counts[coll] = counts.get(coll, 0) + 1
    return counts


def with_distributors(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Loans made before the licence was read carry no distributor GLN: their order line tells it."""
    from ..store import licences

    missing = list({i["orderLineId"] for i in items if i.get("type") == "loan" and not i.get("glnDistributor")})
    lines = licences.get_lines(missing) if missing else {}
    for i in items:
        if i.get("type") == "loan" and not i.get("glnDistributor") and i.get("orderLineId") in lines:
            i["glnDistributor"] = lines[i["orderLineId"]].get("glnDistributor")
    return items


def build(sub: store.Subscription, day: date, items: list[dict[str, Any]] | None = None,
          parked: dict[str, int] | None = None) -> rules.Summary:
    start, end = rules.bounds(day, sub.tz)
    a, b = iso(start), iso(end)
    if items is None:
        items = with_distributors(store.activity(a, b))
    s = rules.compute(sub.gln, sub.role, day, a, b, items)
    if sub.role == "distributor":
        s.offers_published = sorted({o.ean13 for o in offer_store.changed_since(sub.gln, a) if o.updated_at < b})
        s.rejected = store.rejections(sub.gln, a, b)
    if sub.role == "collectivity":
        s.parked_callbacks = (parked if parked is not None else _parked(start, end)).get(sub.gln, 0)
    return s


class Run(Record):
    sent: list[tuple[str, str]]  # (gln, day)
    already: list[tuple[str, str]]
    failed: list[tuple[str, str]]

    def __init__(self, sent: list[tuple[str, str]] | None = None, already: list[tuple[str, str]] | None = None,
                 failed: list[tuple[str, str]] | None = None) -> None:
        self._init([] if sent is None else sent, [] if already is None else already, [] if failed is None else failed)


def run(now: datetime, send: Send | None = None, base_url: str | None = None) -> Run:
    """The hourly job (module docstring). `base_url`: the hub's public address, for the signed link to
    manage the subscription in every email (PUBLIC_BASE_URL by default)."""
    if base_url is None:
        from .context import Ctx

        base_url = Ctx().base_url
    if send is None:
        from . import mailer

        send = mailer.send
    report = Run()
    due = [(sub, d) for sub in store.subscriptions() if (d := rules.due_day(now, sub.tz)) is not None]
    fresh = [(sub, d) for sub, d in due if (m := store.marker(sub.gln, d.isoformat())) is None or
             _unconfirmed(m, sub, d, now, report)]
    if not fresh:
        return report
    # One read of the table for the widest window of the accounts due (their days differ by zone).
    windows = [rules.bounds(d, sub.tz) for sub, d in fresh]
    lo, hi = min(w[0] for w in windows), max(w[1] for w in windows)
    items = with_distributors(store.activity(iso(lo), iso(hi)))
    parked = _parked(lo, hi) if any(sub.role == "collectivity" for sub, _ in fresh) else {}
    for sub, d in fresh:
        day = d.isoformat()
        s = build(sub, d, items, parked if sub.role == "collectivity" else None)
        key = csv_key(sub.gln, d)
        files.client("s3").put_object(Bucket=files.bucket(), Key=key, Body=rules.to_csv(s).encode(),
                                      ContentType="text/csv; charset=utf-8")
        if not store.claim(sub.gln, day, iso(now)):
            report.already.append((sub.gln, day))
            continue
        subject, text = rules.email(s, sub.lang, sub.tz, key, manage_link(base_url, sub))
        try:
            message_id = send(sub.email, subject, text)
        except Exception:
            logger.exception("daily summary not sent", extra={"gln": sub.gln, "day": day})
            report.failed.append((sub.gln, day))
            continue
        store.confirm(sub.gln, day, iso(now), message_id)
        report.sent.append((sub.gln, day))
    return report


def _unconfirmed(m: dict[str, Any], sub: store.Subscription, d: date, now: datetime, report: Run) -> bool:
    """A marker found: never send again; say so when it was never confirmed (a crash, a refused send)."""
    if m.get("state") != "sent" and now - timedelta(days=1) < datetime.fromisoformat(
            str(m.get("claimedAt", "")).replace("Z", "+00:00")):
        logger.warning("daily summary claimed but not confirmed sent", extra={"gln": sub.gln, "day": d.isoformat()})
    report.already.append((sub.gln, d.isoformat()))
    return False
