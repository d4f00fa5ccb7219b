"""The files served by FTP: what each account's folder holds, when they are written, who may read them.

Every collectivity and reseller has a folder of offer/order files in the shape PMB reads (files/pmb.py):

- a **full file** a day: every live licence of the account (OK, window not over), named after the day it
  closes (`full_pnb_<gln>_<D>.xml`, written by the first run after midnight UTC ending day D; an
  account's first ever full file is written at its first run and holds everything up to then);
- an **update file** after every change batch: each run (every 5 minutes deployed, every minute locally)
  writes one for an account whose content changed since its last file. An update file holds every
  licence ordered since the start of the newest full file's day (so from 24 to 48 hours back: PMB's
  differential sync reads only the newest file, and a PMB that syncs once a day misses nothing), and,
  for a collectivity, every loan running now. It is named `diffusion_pnb_<gln>_<today>_<HHMMSS>.xml`:
  always a day after the newest full, so PMB's full sync (newest full, then the updates dated after it)
  and its differential sync (the newest of the two by date) both see everything.

Each distributor's whole catalogue (every offer not removed) is written once a day as ONIX 3.0
(`full_onix_<gln>_<D>.xml`): the spec's "Catalog can be provided by FTP" for a first getOffers. Between
two, a run that finds offers changed since the start of the newest full file's day (a feed's file, a
console edit) writes `diffusion_onix_<gln>_<today>_<HHMMSS>.xml`: every one of them (removed ones as
NotificationType 05), so the newest update and the newest full together are the catalogue of now, and an
edit reaches the FTP folder within a run, as it reaches the getOffers update files. Every distributor
account has a folder, with a feed or without (a small publisher that only uses the console).

A file is uploaded before the state that records it, so a crash at worst writes a file twice; two runs
that overlap both read an account's state, and the one that saves second (version check) leaves it be.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any

from .. import aws, clock
from ..catalogue import onix
from ..domain.accounts import Role
from ..domain.dates import iso
from ..domain.offers import Offer
from ..domain.values import Record
from ..observability import logger
from ..store import catalogue as feeds
from ..store import ftp_files as store
from ..store import licences as line_store
from ..store import offers as offer_store
from . import layout, pmb
from .access import ROLES, distributors

SPOOL_BYTES = 8 * 1024 * 1024  # files beyond this are spooled to /tmp before their upload


class Report(Record):
    fulls: list[str]
    updates: list[str]
    catalogues: list[str]
    errors: list[str]
    unfinished: bool

    def __init__(self, fulls: list[str] | None = None, updates: list[str] | None = None,
                 catalogues: list[str] | None = None, errors: list[str] | None = None,
                 unfinished: bool = False) -> None:
        self._init([] if fulls is None else fulls, [] if updates is None else updates,
                   [] if catalogues is None else catalogues, [] if errors is None else errors, unfinished)

    def summary(self) -> dict[str, Any]:
        return {"fulls": len(self.fulls), "updates": len(self.updates), "catalogues": len(self.catalogues),
                "errors": self.errors, "unfinished": self.unfinished,
                "files": [*self.fulls, *self.updates, *self.catalogues]}


def _bucket() -> str:
    return os.environ["BUCKET_NAME"]


def _s3(s3: Any) -> Any:
    if s3 is not None:
        return s3
    return aws.client("s3")  # its upload_fileobj imports boto3's transfer code at the first call (lending.aws)


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _start_of(day: str) -> datetime:
    return datetime.combine(datetime.strptime(day, "%Y%m%d").date(), time(0), tzinfo=UTC)


def _upload(s3: Any, key: str, fill: Callable[[IO[bytes]], object]) -> None:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buf:
        fill(buf)
        buf.seek(0)
        s3.upload_fileobj(buf, _bucket(), key, ExtraArgs={"ContentType": "application/xml"})


# --- what an account's files hold -------------------------------------------------------------------

def holdings(account_gln: str, role: Role, since: datetime | None) -> list[pmb.Holding]:
    """The account's OK lines (a collectivity's purchases, a reseller's sales) of the orders made since
    `since` (all of them when None)."""
    after = iso(since) if since else None
    orders = (line_store.orders_of_coll(account_gln, after) if role is Role.COLLECTIVITY
              else store.orders_of_reseller(account_gln, after))
    lines = line_store.get_lines([i for o in orders for i in o["lineIds"]])
    out = []
    for order in orders:
        for line_id in order["lineIds"]:
            item = lines.get(line_id)
            if item and item.get("status") == "OK" and line_store.is_licence(item):
                out.append(pmb.Holding(line_store.licence(item, clock.now()), order.get("orderIdColl")))
    return out


def _offers(held: list[pmb.Holding]) -> dict[tuple[str, str], Offer]:
    pairs = sorted({(h.licence.ean13, h.licence.gln_distributor) for h in held})
    return offer_store.get_many(pairs) if pairs else {}


def _digest(held: list[pmb.Holding], loans: list[tuple[str, str]] | None) -> str:
    doc = {"lines": sorted(h.licence.order_line_id for h in held),
           "loans": None if loans is None else sorted(set(loans))}
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()


def publish_account(gln: str, role: Role, now: datetime, report: Report, s3: Any) -> None:
    st = store.state(gln)
    loans = store.running_loans(gln, iso(now)) if role is Role.COLLECTIVITY else None
    prefix = layout.account_prefix(gln)
    closing = _day((now - timedelta(days=1)).date())
    wrote_full = False
    if st.full_day is None or st.full_day < closing:
        live = [h for h in holdings(gln, role, None) if h.licence.end_date > now]
        name = pmb.full_name(gln, (now - timedelta(days=1)).date())
        _upload(s3, prefix + name, lambda out: pmb.write(out, kind="full", gln=gln, generated_at=now,
                                                          holdings=live, offers=_offers(live), loans=loans))
        st.full_day, wrote_full = closing, True
        report.fulls.append(prefix + name)
    since = _start_of(st.full_day)
    recent = holdings(gln, role, since)
    digest = _digest(recent, loans)
    if digest == st.digest and not wrote_full:
        return
    if not wrote_full:
        name = pmb.update_name(gln, now)
        _upload(s3, prefix + name, lambda out: pmb.write(out, kind="update", gln=gln, generated_at=now,
                                                          holdings=recent, offers=_offers(recent), loans=loans,
                                                          since=since))
        report.updates.append(prefix + name)
    st.digest = digest
    store.save_state(gln, st)


def publish_catalogue(gln_distributor: str, now: datetime, report: Report, s3: Any) -> None:
    """The distributor's full catalogue once a day; an update file when offers changed since (module doc)."""
    owner = f"ONIX#{gln_distributor}"
    st = store.state(owner)
    closing = _day((now - timedelta(days=1)).date())
    wrote_full = False
    if st.full_day is None or st.full_day < closing:
        key = layout.onix_prefix(gln_distributor) + layout.onix_full_name(gln_distributor,
                                                                          (now - timedelta(days=1)).date())

        def fill(out: IO[bytes]) -> None:
            live = (o for o in store.offers_of(gln_distributor) if not o.removed)
            onix.write(out, live, gln_distributor, "Lending hub", now)

        _upload(s3, key, fill)
        st.full_day, wrote_full = closing, True
        report.catalogues.append(key)
    # Whether anything changed since the last file: every change (a feed's file, a console edit) is filed
    # by the catalogue sync in a getOffers update file, so their index since the newest full's day began
    # (a few items) tells it, without reading the offers on every run.
    start = iso(_start_of(st.full_day))
    filed = [f.name for f in feeds.update_files_since(start, gln_distributor)]
    digest = hashlib.sha256(json.dumps(filed).encode()).hexdigest()
    if digest == st.digest and not wrote_full:
        return
    if not wrote_full:
        changed = offer_store.changed_since(gln_distributor, start)  # every offer changed since then
        if changed:
            key = layout.onix_prefix(gln_distributor) + layout.onix_update_name(gln_distributor, now)
            _upload(s3, key, lambda out: onix.write(out, changed, gln_distributor, "Lending hub", now))
            report.catalogues.append(key)
    st.digest = digest
    store.save_state(owner, st)


def publish(now: datetime, *, s3: Any = None, deadline: Callable[[], bool] | None = None) -> Report:
    """One run of the files job: the distributors' catalogues, then each account's files."""
    s3 = _s3(s3)
    report = Report()
    for gln_distributor in distributors():
        try:
            publish_catalogue(gln_distributor, now, report, s3)
        except store.StateConflict:
            pass  # another run wrote this catalogue's files meanwhile
        except Exception as e:  # one distributor's failure leaves the others' files be written
            logger.exception("FTP catalogue file failed", extra={"glnDistributor": gln_distributor})
            report.errors.append(f"ONIX#{gln_distributor}: {type(e).__name__}")
    for role in ROLES:
        for gln in store.accounts_of(role):
            if deadline is not None and deadline():
                report.unfinished = True  # the next run goes on from here: nothing is lost
                return report
            try:
                publish_account(gln, role, now, report, s3)
            except store.StateConflict:
                pass  # another run wrote this account's files meanwhile
            except Exception as e:
                logger.exception("FTP files failed", extra={"gln": gln})
                report.errors.append(f"{gln}: {type(e).__name__}")
    return report
