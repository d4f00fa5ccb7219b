"""The books' files in S3: one EPUB per EAN-13 at `epub/<ean13>.epub` in the hub's bucket."""

from __future__ import annotations

import os
from datetime import datetime

from .. import clock
from ..domain.values import Record
from .aws_clients import client

EPUB_TYPE = "application/epub+zip"
# A Lambda answer carries at most 6 MB, base64 included: larger files are handed over by a redirect
# to a short-lived S3 link instead.
INLINE_MAX = 4 * 1024 * 1024
PRESIGN_SECONDS = 300


def epub_key(ean13: str) -> str:
    return f"epub/{ean13}.epub"


def bucket() -> str:
    return os.environ["BUCKET_NAME"]


def inline_max() -> int:
    return int(os.environ.get("FULFILLMENT_INLINE_MAX", INLINE_MAX))


class File(Record):
    name: str
    content: bytes | None  # None: too large to answer inline, see `url`
    url: str | None

    def __init__(self, name: str, content: bytes | None, url: str | None = None) -> None:
        self._init(name, content, url)


def open_epub(ean13: str) -> File | None:
    """The EPUB of `ean13` (its bytes, or a short-lived link when it is large); None if there is none."""
    s3 = client("s3")
    try:
        got = s3.get_object(Bucket=bucket(), Key=epub_key(ean13))
    except s3.exceptions.NoSuchKey:
        return None
    name = f"{ean13}.epub"
    if int(got.get("ContentLength", 0)) > inline_max():
        got["Body"].close()
        url = s3.generate_presigned_url("get_object", ExpiresIn=PRESIGN_SECONDS, Params={
            "Bucket": bucket(), "Key": epub_key(ean13), "ResponseContentType": EPUB_TYPE,
            "ResponseContentDisposition": f'attachment; filename="{name}"'})
        return File(name, None, url)
    return File(name, got["Body"].read())


MAX_EPUB = 4 * 1024 * 1024  # what a console upload can carry through API Gateway and Lambda, base64 included


def is_epub(content: bytes) -> bool:
    """An EPUB's OCF container: a zip whose first entry is `mimetype`, stored, holding its media type."""
    import io
    import zipfile

    if not content.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            first = z.infolist()[0]
            return (first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
                    and z.read(first).strip() == EPUB_TYPE.encode() and "META-INF/container.xml" in z.namelist())
    except (zipfile.BadZipFile, IndexError, KeyError, OSError, ValueError):
        return False


def ingest_epub(ean13: str, content: bytes, now: datetime | None = None, max_size: int | None = MAX_EPUB) -> None:
    """The one way a book's EPUB enters the hub (demo load, distributor console upload, `make epub-file`):
    checked, kept as it is, and protected for LCP once (services.lcp). ValueError if it is not an EPUB
    (or larger than `max_size`; None: no limit, for the operator's command line)."""
    if (max_size is not None and len(content) > max_size) or not is_epub(content):
        raise ValueError("not an EPUB")
    client("s3").put_object(Bucket=bucket(), Key=epub_key(ean13), Body=content, ContentType=EPUB_TYPE)
    from . import lcp  # the crypto is loaded only where files are ingested

    lcp.protect_publication(ean13, content, now or clock.now())


_recent: dict[str, bytes] = {}  # the last books read in this container: a page's resources come in bursts
_RECENT_MAX = 4


def read_epub(ean13: str) -> bytes | None:
    """The whole EPUB of `ean13`, for the reader to serve one resource of it (never handed over whole)."""
    if ean13 in _recent:
        return _recent[ean13]
    s3 = client("s3")
    try:
        content = bytes(s3.get_object(Bucket=bucket(), Key=epub_key(ean13))["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None
    if len(_recent) >= _RECENT_MAX:
        _recent.pop(next(iter(_recent)))
    _recent[ean13] = content
    return content
