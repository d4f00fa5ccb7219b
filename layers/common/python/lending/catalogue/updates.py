"""getOffers and getOffersForDistributor: links to the ONIX update files published since a date.

The spec keeps download links alive 10 days. An S3 presigned URL cannot: SigV4 caps X-Amz-Expires at
7 days, and a URL signed with a Lambda role's temporary credentials dies with them (hours). So the
answer carries a hub link signed with the hub's key (HMAC, valid 10 days); opening it answers a 302 to
a freshly presigned S3 URL of the file (valid 5 minutes), so the bytes still come straight from S3
(locally: from the emulator at AWS_ENDPOINT_URL).

Rules (spec, getOffers / getOffersForDistributor):
- exactly one of sinceDate and lastConnection (INVALID_ARGUMENTS otherwise); sinceDate at most 8 days
  back (DATE_TOO_OLD "The date can't be older than 8 days");
- lastConnection only after one call of the same service (and distributor) that set a date, else
  ACCES_DENIED "Not available for the moment, please contact DILICOM. Catalog can be provided by FTP";
  at most 5 lastConnection calls per caller and service in any 24 hours (sliding window, a versioned
  log item in DynamoDB), else ACCES_DENIED "Only 5 last connection requests are allowed within the
  previous 24 hours". lastConnection answers the files published since the caller's previous call
  (less a minute of overlap: a file twice is harmless, a file missed is not);
- getOffersForDistributor: an unknown distributor GLN is UNKNOWN_GLN "Unsupported GlnDistributeur"; a
  caller not allowed that distributor's offers (Account.may_order_from) is ACCES_DENIED "You don't have
  Access to this Platform". getOffers answers the files of every distributor the caller may order from.
- answer: the links, oldest first (the PNB door answers onixFileUrl [{"httpLinks": url}], or noNotice ""
  when there is none).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import aws
from ..domain.accounts import Account, Role
from ..domain.dates import iso
from ..domain.refusals import Reason, Refused
from ..domain.values import Value
from ..services import auth
from ..services.context import Ctx
from ..services.links import signing_key
from ..store import catalogue as store
from ..text import same_secret

MAX_AGE = timedelta(days=8)
LINK_LIFE = timedelta(days=10)
RATE_WINDOW = timedelta(hours=24)
RATE_LIMIT = 5
OVERLAP = timedelta(minutes=1)
# as text: `re` compiles a pattern at its first use (and caches it), not at every cold start
_NAME = r"^[0-9]{13}/[0-9A-Za-z.-]{1,80}$"


def update_key(gln_distributor: str, name: str) -> str:
    """Where a sync publishes its update files in the bucket."""
    return f"onix/updates/{gln_distributor}/{name}"


# --- signed links --------------------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(payload: str) -> str:
    # Domain-separated from the loan links signed with the same key.
    return _b64(hmac.new(signing_key(), b"onix-update-file\0" + payload.encode(), hashlib.sha256).digest()[:20])


def file_link(base_url: str, f: store.UpdateFile, expires: datetime) -> str:
    payload = f"{f.gln_distributor}/{f.name}.{int(expires.timestamp())}"
    return f"{base_url}/catalogue/onix/{_b64(payload.encode())}.{_mac(payload)}"


def verify_link(token: str, now: datetime) -> str | None:
    """The S3 key of a genuine, unexpired link's file; None otherwise."""
    try:
        raw, sig = token.split(".")
        payload = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        name, exp = payload.rsplit(".", 1)
        if not same_secret(_mac(payload), sig) or not re.match(_NAME, name):
            return None
        if datetime.fromtimestamp(int(exp), UTC) <= now:
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    gln, file_name = name.split("/")
    return update_key(gln, file_name)


def open_link(token: str, now: datetime, s3: Any = None) -> str | None:
    """GET /catalogue/onix/{token}: a short-lived presigned S3 URL of the file, None for a bad or old link."""
    key = verify_link(token, now)
    if key is None:
        return None
    if s3 is None:
        s3 = aws.client("s3")
    return str(s3.generate_presigned_url("get_object", Params={"Bucket": os.environ["BUCKET_NAME"], "Key": key},
                                         ExpiresIn=300))


# --- the two services --------------------------------------------------------------------------------

class OfferUpdates(Value):
    """getOffers / getOffersForDistributor, as the door read them."""

    since: datetime | None
    last_connection: bool  # since the caller's previous call of the same service
    gln_distributor: str | None  # getOffersForDistributor's distributor
    gln_contractor: str | None

    def __init__(self, since: datetime | None = None, last_connection: bool = False, gln_distributor: str | None = None,
                 gln_contractor: str | None = None) -> None:
        self._init(since, last_connection, gln_distributor, gln_contractor)


def _since(ctx: Ctx, caller: Account, req: OfferUpdates, service: str, scope: str) -> datetime:
    """The date the answer starts from, after every rule about sinceDate and lastConnection."""
    if req.since is None and not req.last_connection:
        raise Refused(Reason.MISSING_SINCE_OR_LAST)
    if req.since is not None and req.last_connection:
        raise Refused(Reason.SINCE_AND_LAST)
    if req.since is not None:
        since: datetime = req.since
        if since < ctx.now - MAX_AGE:
            raise Refused(Reason.DATE_TOO_OLD, days=MAX_AGE.days)
        return since
    last = store.last_call(caller.gln, scope)
    if last is None:
        raise Refused(Reason.FIRST_CONNECTION)
    if not store.count_call(service, caller.gln, iso(ctx.now), iso(ctx.now - RATE_WINDOW), RATE_LIMIT):
        raise Refused(Reason.TOO_MANY_CONNECTIONS)
    return datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - OVERLAP


def _links(ctx: Ctx, files: list[store.UpdateFile]) -> list[str]:
    # At least 10 days, rounded up to the hour: the same file gets the same link all hour long.
    expires = ctx.now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1) + LINK_LIFE
    return [file_link(ctx.base_url, f, expires) for f in files]


def get_offers(ctx: Ctx, caller: Account, req: OfferUpdates) -> list[str]:
    """Links to the update files of every distributor the caller may order from, oldest first."""
    auth.check_contractor(req.gln_contractor)
    since = _since(ctx, caller, req, "getOffers", "ALL")
    files = [f for f in store.update_files_since(iso(since)) if caller.may_order_from(f.gln_distributor)]
    store.set_last_call(caller.gln, "ALL", iso(ctx.now))
    return _links(ctx, files)


def get_offers_for_distributor(ctx: Ctx, caller: Account, req: OfferUpdates) -> list[str]:
    """Links to one distributor's update files, oldest first."""
    auth.check_contractor(req.gln_contractor)
    distributor = auth.account(req.gln_distributor or "")
    if distributor is None or distributor.role is not Role.DISTRIBUTOR:
        raise Refused(Reason.UNKNOWN_DISTRIBUTOR)
    if not caller.may_order_from(distributor.gln):
        raise Refused(Reason.NO_PLATFORM_ACCESS)
    since = _since(ctx, caller, req, "getOffersForDistributor", distributor.gln)
    files = store.update_files_since(iso(since), distributor.gln)
    store.set_last_call(caller.gln, distributor.gln, iso(ctx.now))
    return _links(ctx, files)
