"""The scheduled sync: each distributor's new ONIX files, through its connector, into the catalogue.

Per distributor, under a lease (one sync at a time):
1. Update files left unpublished by a run that crashed are published first, rebuilt from the table
   (every offer written by a run carries that run's stamp, indexed by GSI1), so no change is ever
   missing from the getOffers files.
2. The connector lists what is new since the cursor; each file is streamed through the ONIX reader into
   ingest (only offers that really change are written). The cursor moves past a file only once it is
   fully applied: a fault (network, throttling, the time limit) leaves it where it was, and the retry
   re-reads the file, rewriting nothing that was already applied.
3. Invalid records (any the table refuses too) are reported with their identifier and skipped, and the
   cursor moves on. A file that is not ONIX at all (not well-formed, wrong root or release) holds the
   feed at that file: its complete records before the fault are applied, later files wait (order
   matters for deltas) until the distributor replaces it; the report and the log name the file and
   the fault.
4. The offers that changed are written, as they change, to an ONIX 3.0 update file (a temporary file,
   bounded memory), published to S3 and indexed at the end of the run (getOffers answers links to them).
Nothing is ever deleted: an offer absent from a feed stays as it is; only NotificationType 05 marks
an offer removed.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from .. import clock as hub_clock
from ..domain.dates import iso
from ..domain.offers import Offer
from ..domain.values import Record
from ..observability import logger
from ..store import catalogue as store
from ..store import offers as offer_store
from . import connectors
from .updates import update_key

if TYPE_CHECKING:  # lxml is imported on the first sync, not at cold start
    from . import onix

LEASE = timedelta(minutes=16)  # longer than a Lambda can run
REJECTS_KEPT = 100
SENDER_NAME = "Lending hub"


def _bucket() -> str:
    return os.environ["BUCKET_NAME"]


class FeedReport(Record):
    gln_distributor: str
    files: list[str]
    changed: int
    rejected: list[onix.Rejected]
    rejected_count: int
    held: str | None  # "<file>: <fault>" when a file is not ONIX
    stopped: bool  # the time limit came before every file was applied
    gap: str | None
    error: str | None
    busy: bool
    update_files: list[str]

    def __init__(self, gln_distributor: str, files: list[str] | None = None, changed: int = 0,
                 rejected: list[onix.Rejected] | None = None, rejected_count: int = 0, held: str | None = None,
                 stopped: bool = False, gap: str | None = None, error: str | None = None, busy: bool = False,
                 update_files: list[str] | None = None) -> None:
        self._init(gln_distributor, [] if files is None else files, changed, [] if rejected is None else rejected,
                   rejected_count, held, stopped, gap, error, busy, [] if update_files is None else update_files)

    def reject(self, r: onix.Rejected) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REJECTS_KEPT:
            self.rejected.append(r)
            logger.warning("onix record rejected", extra={"glnDistributor": self.gln_distributor,
                                                          "identifier": r.identifier, "reason": r.reason})

    def summary(self) -> dict[str, Any]:
        return {"glnDistributor": self.gln_distributor, "files": self.files, "changed": self.changed,
                "rejected": [{"identifier": r.identifier, "reason": r.reason} for r in self.rejected],
                "rejectedCount": self.rejected_count, "held": self.held, "stopped": self.stopped,
                "gap": self.gap, "error": self.error, "busy": self.busy, "updateFiles": self.update_files}


class _Filing:
    """The run's update file, written to a temporary file as offers change (memory: one product, plus
    the EANs changed so far, ~100 bytes each), then uploaded and indexed.

    ONIX wants each product once in a message (RecordReference is unique): an offer that changes twice
    in one run is noted, and at the end the file is copied without its earlier notices, the offer being
    read back once (consistent read; the lease keeps any other sync of this distributor away) and
    written in its final state. Runs without such repeats (the usual case) upload the file as written."""

    def __init__(self, gln_distributor: str, stamp: datetime, s3: Any) -> None:
        self.gln, self.stamp, self.s3 = gln_distributor, stamp, s3
        self.changed: set[str] = set()
        self.again: dict[str, None] = {}
        self._tmp: Any = None
        self._writer: Any = None

    def add(self, offer: Offer) -> None:
        from . import onix

        if offer.ean13 in self.changed:
            self.again[offer.ean13] = None
            return
        self.changed.add(offer.ean13)
        if self._writer is None:
            self._tmp = tempfile.TemporaryFile()  # noqa: SIM115 - closed in publish()
            self._writer = onix.Writer(self._tmp, None, SENDER_NAME, self.stamp)
        self._writer.add(offer)

    def publish(self, clock: Callable[[], datetime]) -> store.UpdateFile | None:
        if self._writer is None:
            return None
        try:
            self._writer.close()
            self._tmp.seek(0)
            if not self.again:
                return _upload(self.gln, self.stamp, self._tmp, len(self.changed), self.s3, clock)
            with tempfile.TemporaryFile() as final:
                count = _without_repeats(self._tmp, final, self.again, self.gln, self.stamp)
                final.seek(0)
                return _upload(self.gln, self.stamp, final, count, self.s3, clock)
        finally:
            self._tmp.close()


def _without_repeats(written: IO[bytes], out: IO[bytes], again: dict[str, None], gln: str,
                     stamp: datetime) -> int:
    """Copy the products of `written` but those of `again`, then add those in their final state."""
    from lxml import etree

    from . import onix

    writer = onix.Writer(out, None, SENDER_NAME, stamp)
    try:
        for _, el in etree.iterparse(written, tag=f"{{{onix.NS}}}Product", resolve_entities=False,
                                     no_network=True, load_dtd=False):
            ref = el.findtext(f"{{{onix.NS}}}RecordReference") or ""
            if ref.rsplit(".", 1)[-1] not in again:
                writer.add_element(el)
            onix.forget(el)
        for offer in _read_back(gln, list(again)):
            writer.add(offer)
    finally:
        writer.close()
    return writer.count


def _read_back(gln: str, eans: list[str]) -> Iterator[Offer]:
    for i in range(0, len(eans), 100):
        found = offer_store.get_many([(e, gln) for e in eans[i : i + 100]])
        yield from (found[(e, gln)] for e in eans[i : i + 100] if (e, gln) in found)


def _upload(gln: str, stamp: datetime, data: IO[bytes], count: int, s3: Any, clock: Callable[[], datetime]
            ) -> store.UpdateFile:
    from boto3.s3.transfer import TransferConfig

    name = f"{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}.xml"
    key = update_key(gln, name)
    # Few parts in flight: the upload's buffers stay small next to the sync's own memory.
    s3.upload_fileobj(data, _bucket(), key, ExtraArgs={"ContentType": "application/xml"},
                      Config=TransferConfig(max_concurrency=2))
    # Dated once uploaded, as it is indexed: a lastConnection call dated between a time taken before the
    # upload and the index landing would have passed it for ever (only a minute of overlap covers it).
    f = store.UpdateFile(gln, iso(clock()), name, key, count)
    store.add_update_file(f)
    return f


def _publish(gln: str, stamp: datetime, offers: Iterable[Offer], s3: Any, clock: Callable[[], datetime]
             ) -> store.UpdateFile | None:
    """`offers` (each once) as an update file, uploaded and indexed; None when there is none."""
    filing = _Filing(gln, stamp, s3)
    for offer in offers:
        filing.add(offer)
    return filing.publish(clock)


def _save(gln: str, st: store.State) -> None:
    store.save_state(gln, st, st.version)


def sync_feed(feed: store.Feed, now: datetime, *, connector: connectors.Connector | None = None,
              deadline: Callable[[], bool] | None = None, clock: Callable[[], datetime] | None = None,
              s3: Any = None) -> FeedReport:
    """One distributor's sync (see the module docstring). Never raises: faults go to the report."""
    from . import ingest, onix

    gln = feed.gln_distributor
    report = FeedReport(gln)
    clock = clock or hub_clock.now
    owner = uuid.uuid4().hex
    if not store.take_lease(gln, owner, iso(now), iso(now + LEASE)):
        report.busy = True
        return report
    try:
        s3 = s3 or connectors._s3()
        connector = connector or connectors.build(feed)
        st = store.state(gln)
        for stale in list(st.unfiled):
            when = datetime.strptime(stale, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            f = _publish(gln, when, offer_store.stamped(gln, stale), s3, clock)
            if f:
                report.update_files.append(f.name)
            st.unfiled.remove(stale)
            _save(gln, st)
        if st.source != feed.source():  # a new feed, or one moved elsewhere: start from its beginning
            st.position, st.source = None, feed.source()
        stamp = iso(now)
        st.unfiled.append(stamp)
        _save(gln, st)
        filing = _Filing(gln, now, s3)
        try:
            batch = connector.pending(st.position, now)
            report.gap = batch.gap
            for source in batch.sources:
                if deadline is not None and deadline():
                    report.stopped = True
                    break
                try:
                    with source.open() as stream:
                        notices = onix.read(stream, gln, report.reject)
                        for offer in ingest.apply_notices(notices, now, report.reject):
                            filing.add(offer)
                            report.changed += 1
                except onix.OnixError as e:
                    report.held = f"{source.name}: {e}"
                    logger.error("onix file held", extra={"glnDistributor": gln, "file": source.name,
                                                          "fault": str(e)})
                    break
                report.files.append(source.name)
                if source.position is not None and source.position != st.position:
                    st.position = source.position
                    _save(gln, st)
            else:
                if batch.position != st.position:
                    st.position = batch.position
                    _save(gln, st)
        finally:
            f = filing.publish(clock)
            if f:
                report.update_files.append(f.name)
            st.unfiled.remove(stamp)
            _save(gln, st)
        if report.rejected:  # for the distributor's daily summary (the first REJECTS_KEPT of the run)
            from ..store import summary

            summary.record_rejections(gln, iso(now), [(r.identifier, r.reason) for r in report.rejected])
    except Exception as e:
        report.error = f"{type(e).__name__}: {e}"
        logger.exception("catalogue sync failed", extra={"glnDistributor": gln})
    finally:
        store.release_lease(gln, owner)
    return report


def sync_all(now: datetime, *, only: str | None = None, deadline: Callable[[], bool] | None = None,
             clock: Callable[[], datetime] | None = None) -> list[FeedReport]:
    """Every enabled feed (or the one of distributor `only`), one after the other."""
    reports = []
    for feed in store.feeds():
        if not feed.enabled or (only and feed.gln_distributor != only):
            continue
        if deadline is not None and deadline():
            break
        reports.append(sync_feed(feed, now, deadline=deadline, clock=clock))
    return reports
