"""Where a distributor's ONIX files come from, and the cursor that says which ones were already taken.

A connector lists what is new since its cursor (`pending`) as Sources to open one after the other;
each Source says the cursor to keep once it has been applied, so a sync that stops half-way (a fault,
the time limit) resumes at the first file it did not finish. Cursors are opaque strings to the sync.

- S3Prefix: every `.xml` / `.onix` object under bucket/prefix is an ONIX file (`.gz` ones are read
  through gzip, still streamed; other objects are passed over), taken in key order (name files so
  that they sort in publication order, as ONIX delta feeds do: `20260105T120000Z-delta.xml`). Cursor:
  the last key applied (ListObjectsV2 StartAfter). A file replaced after it was taken is not read
  again: publish a correction as a new file.
- HttpFeed: one URL serving an ONIX file; re-read when its ETag / Last-Modified change (conditional
  GET; 304 means nothing new). Cursor: those validators.
- PnbUpstream: a PNB-compatible platform over SOAP (zeep): getOffersForDistributor with sinceDate =
  the cursor (the time of the last call that was fully applied, less an overlap; never more than the
  spec's 8 days back) gives onixFileUrl/httpLinks, each downloaded as an ONIX file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import IO, Any, Protocol

from .. import aws
from ..domain.dates import iso, parse_iso
from ..domain.values import Record
from ..store.catalogue import Feed

HTTP_TIMEOUT = 60
UPSTREAM_OVERLAP = timedelta(minutes=10)  # re-asking a little is harmless: unchanged notices write nothing
UPSTREAM_MAX_AGE = timedelta(days=8) - timedelta(minutes=5)  # the spec's sinceDate limit, with a margin


class UpstreamError(Exception):
    """The source answered something other than files (an error status, a refused call): retry later."""


class Source(Record):
    name: str
    open: Callable[[], AbstractContextManager[IO[bytes]]]
    position: str | None  # the cursor once this source is applied; None: keep the batch's for the end

    def __init__(self, name: str, open: Callable[[], AbstractContextManager[IO[bytes]]], position: str | None) -> None:
        self._init(name, open, position)


class Batch(Record):
    sources: list[Source]
    position: str | None  # the cursor once every source is applied
    gap: str | None  # a warning: some history could not be asked for (upstream limit)

    def __init__(self, sources: list[Source] | None = None, position: str | None = None,
                 gap: str | None = None) -> None:
        self._init([] if sources is None else sources, position, gap)


class Connector(Protocol):
    def pending(self, position: str | None, now: datetime) -> Batch: ...


def _s3() -> Any:
    return aws.client("s3")


class S3Prefix:
    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self.bucket, self.prefix = bucket, prefix
        self.client = client or _s3()

    def pending(self, position: str | None, now: datetime) -> Batch:
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        if position:
            args["StartAfter"] = position
        batch = Batch(position=position)
        for page in self.client.get_paginator("list_objects_v2").paginate(**args):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if not key.lower().removesuffix(".gz").endswith((".xml", ".onix")):
                    continue
                batch.sources.append(Source(key, self._opener(key), key))
                batch.position = key
        return batch

    def _opener(self, key: str) -> Callable[[], AbstractContextManager[IO[bytes]]]:
        @contextmanager
        def open_object() -> Iterator[IO[bytes]]:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                if key.lower().endswith(".gz"):
                    import gzip

                    with gzip.GzipFile(fileobj=body, mode="rb") as unzipped:
                        yield unzipped  # type: ignore[misc]
                else:
                    yield body
            finally:
                body.close()

        return open_object


@contextmanager
def http_stream(url: str, headers: dict[str, str] | None = None) -> Iterator[IO[bytes]]:
    """A streamed HTTP GET (urllib: no extra dependency in the layer)."""
    import urllib.request

    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # configured feeds only
        yield response


class HttpFeed:
    def __init__(self, url: str) -> None:
        self.url = url

    def pending(self, position: str | None, now: datetime) -> Batch:
        import urllib.error
        import urllib.request

        seen = json.loads(position) if position else {}
        headers = {}
        if seen.get("etag"):
            headers["If-None-Match"] = seen["etag"]
        if seen.get("lastModified"):
            headers["If-Modified-Since"] = seen["lastModified"]
        request = urllib.request.Request(self.url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=HTTP_TIMEOUT)  # configured feeds only
        except urllib.error.HTTPError as e:
            if e.code == 304:
                return Batch(position=position)
            raise
        validators = {k: v for k, v in (("etag", response.headers.get("ETag")),
                                        ("lastModified", response.headers.get("Last-Modified"))) if v}
        new_position = json.dumps(validators, sort_keys=True) if validators else None

        @contextmanager
        def opened() -> Iterator[IO[bytes]]:
            try:
                yield response
            finally:
                response.close()

        return Batch([Source(self.url, opened, new_position)], new_position)


class PnbUpstream:
    """getOffersForDistributor on an upstream PNB platform: sinceDate from the cursor, never lastConnection
    (that one is stateful upstream and rate-limited: a retried sync would lose or burn calls)."""

    def __init__(self, wsdl: str, gln_reseller: str, password: str, gln_distributor: str,
                 transport: Any = None) -> None:
        self.wsdl, self.gln_reseller, self.password = wsdl, gln_reseller, password
        self.gln_distributor = gln_distributor
        self.transport = transport

    def _client(self) -> Any:
        import zeep

        settings = zeep.Settings(strict=False, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
        kw: dict[str, Any] = {"settings": settings}
        if self.transport is not None:
            kw["transport"] = self.transport
        return zeep.Client(self.wsdl, **kw)

    def pending(self, position: str | None, now: datetime) -> Batch:
        from zeep.helpers import serialize_object

        oldest = now - UPSTREAM_MAX_AGE
        since = parse_iso(position) if position else None
        gap = None
        if since is None or since < oldest:
            if since is not None:
                gap = f"cursor {position} is older than the upstream allows: asked from {iso(oldest)}"
            since = oldest
        answer = self._client().service.getOffersForDistributor(
            glnReseller=self.gln_reseller, passwordReseller=self.password,
            glnDistributor=self.gln_distributor, sinceDate=iso(since))
        data = serialize_object(answer, dict) if not isinstance(answer, dict) else answer
        status = data.get("returnStatus")
        if status != "OK":
            message = data.get("returnMessage") or ""
            raise UpstreamError(f"upstream getOffersForDistributor: {status} {message}")
        links = [x.get("httpLinks") if isinstance(x, dict) else getattr(x, "httpLinks", None)
                 for x in data.get("onixFileUrl") or []]
        next_position = iso(now - UPSTREAM_OVERLAP)
        sources = [Source(url, _url_opener(url), None) for url in links if url]
        return Batch(sources, next_position, gap)


def _url_opener(url: str) -> Callable[[], AbstractContextManager[IO[bytes]]]:
    return lambda: http_stream(url)


def _password(parameter: str) -> str:

    return str(aws.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])


def build(feed: Feed) -> Connector:
    if feed.kind == "s3":
        return S3Prefix(feed.bucket or os.environ["BUCKET_NAME"], feed.prefix)
    if feed.kind == "http" and feed.url:
        return HttpFeed(feed.url)
    if feed.kind == "pnb" and feed.wsdl and feed.gln_reseller and feed.password_parameter:
        password = _password(feed.password_parameter)
        return PnbUpstream(feed.wsdl, feed.gln_reseller, password, feed.gln_distributor)
    raise ValueError(f"feed of {feed.gln_distributor}: kind {feed.kind!r} is not configured completely")
