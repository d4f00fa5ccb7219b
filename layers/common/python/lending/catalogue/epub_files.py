"""A book's EPUB enters the hub: stored as given and protected for Readium LCP, once.

    make epub-file EAN=9791000000015 FILE=book.epub        the deployed stack (STACK=lending-hub)
    AWS_ENDPOINT_URL=http://127.0.0.1:3001 make epub-file EAN=... FILE=...     the local one

Deployed, the caller needs s3:PutObject on the bucket, dynamodb:PutItem on the table and kms:Encrypt on
the stack's LcpKey. A book already protected keeps its content key and file (licences keep opening)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import aws, clock
from ..domain.identifiers import is_ean13
from ..lcp.crypto import new_content_key
from ..lcp.epub import NotAnEpub, protect
from ..services import files
from ..store import lcp as store
from ..warehouse.billing import resolve_names


def _resolve_key(stack: str) -> None:
    if os.environ.get("LCP_KMS_KEY_ID") or os.environ.get("AWS_ENDPOINT_URL"):
        return  # given, or the local stack (its local key)
    found = aws.client("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId="LcpKey")
    os.environ["LCP_KMS_KEY_ID"] = found["StackResourceDetail"]["PhysicalResourceId"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    ean13, path, stack = [*args, "", "", ""][:3]
    if not is_ean13(ean13) or not path:
        print("usage: make epub-file EAN=<ean13> FILE=<book.epub> [STACK=lending-hub]", file=sys.stderr)
        return 2
    try:
        content = Path(path).read_bytes()
        protect(content, new_content_key())  # refuse what cannot be protected before storing anything
    except (OSError, NotAnEpub) as err:
        print(f"{path}: {err}", file=sys.stderr)
        return 2
    resolve_names(stack or "lending-hub")
    _resolve_key(stack or "lending-hub")
    before = store.publication(ean13)
    files.ingest_epub(ean13, content, clock.now(), max_size=None)
    rec = store.publication(ean13)
    assert rec is not None
    state = "already protected: kept" if before else "protected"
    print(f"{ean13}\t{state}\ts3://{files.bucket()}/{rec.object_key}\t{rec.length} bytes\tsha256 {rec.sha256}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
