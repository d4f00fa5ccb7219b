"""The distributor console's offers through the ONIX path (services/distributor.py's docstring): the
form's offer becomes an ONIX 3.0 message, kept in the bucket, read, applied and filed in an update file
by the catalogue sync, under the distributor's lease. Here, beside the sync, so that the use cases
(services) never import the catalogue that imports them."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from ..domain.offers import Offer
from ..domain.refusals import Reason, Refused
from ..domain.staff import Staff
from ..domain.values import replace
from ..services import files
from ..services.context import Ctx
from ..services.distributor import organisation, own_gln
from ..store import catalogue as feeds
from ..store import offers as offer_store
from . import onix, sync


class _OneMessage:
    """A connector holding one ONIX message: the sync reads it and leaves the feed's cursor alone."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.data = name, data

    def pending(self, position: str | None, now: datetime) -> Any:
        from .connectors import Batch, Source

        @contextlib.contextmanager
        def opened() -> Iterator[IO[bytes]]:
            yield io.BytesIO(self.data)

        return Batch([Source(self.name, opened, None)], position)


def publish(ctx: Ctx, staff: Staff, new: Offer, creating: bool) -> Offer:
    """Write an offer through the ONIX path (module docstring). Refused: the record's rejection reason
    (in the ONIX reader's words), an EAN already offered when creating, a sync running just now."""
    gln = own_gln(staff)
    old = offer_store.get(new.ean13, gln)
    if creating and old is not None:
        raise Refused(Reason.OFFER_EXISTS, ean13=new.ean13)
    if old is not None:  # what the form does not show stays as the feed said
        new = replace(new, contributors=old.contributors, formats=old.formats, publisher=new.publisher or old.publisher)
    out = io.BytesIO()
    onix.write(out, [new], gln, organisation(staff).name or "Distributor console", ctx.now)  # type: ignore[union-attr]
    data = out.getvalue()
    name = f"{ctx.now:%Y%m%dT%H%M%S}Z-{new.ean13}.xml"
    files.client("s3").put_object(Bucket=files.bucket(), Key=f"onix/console/{gln}/{name}", Body=data,
                                  ContentType="application/xml")
    feed = next((f for f in feeds.feeds() if f.gln_distributor == gln),
                feeds.Feed(gln_distributor=gln, kind="console", enabled=False))
    report = sync.sync_feed(feed, ctx.now, connector=_OneMessage(name, data), s3=files.client("s3"))
    if report.busy:
        raise Refused(Reason.SYNC_BUSY)
    if report.rejected:
        raise Refused(Reason.OFFER_REJECTED, detail=report.rejected[0].reason)
    if report.error or report.held:
        raise RuntimeError(f"console offer not applied: {report.error or report.held}")
    stored = offer_store.get(new.ean13, gln)
    assert stored is not None
    return stored
