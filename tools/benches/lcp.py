"""Readium LCP: what a licence and a protected publication cost.

- lcp_licence_sign_ms: building and signing one licence (content key and key check encrypted with the
  user key, canonical form, RSA-2048 SHA-256 signature), in this process; median of 200.
- lcp_licence_issue_ms: the whole use case per loan (services.lcp.issue: content key unwrapped, built,
  signed, licence and its loan pointer written in one transaction) on moto in-process; median of 50.
  Deployed, the unwrap is one KMS Decrypt call (a few ms) instead of the local AES-GCM key.
- lcp_encrypt_text_mb_per_s: protecting an EPUB of ~8 MB of XHTML (deflated, then AES-256-CBC),
  megabytes of input per second, best of 3.
- lcp_encrypt_images_mb_per_s: the same for ~8 MB of images (encrypted as they are, not deflated).
"""

from __future__ import annotations

import io
import os
import random
import statistics
import time
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

OPF = """<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>{items}
</manifest></package>"""


def _epub(kind: str, total: int) -> bytes:
    rnd = random.Random(1)
    words = ["lecture", "bibliothèque", "prêt", "licence", "chapitre", "roman", "page", "livre"]
    out = io.BytesIO()
    files: dict[str, bytes] = {}
    size, n = 0, 0
    while size < total:
        n += 1
        if kind == "text":
            data = f"<html><body><p>{' '.join(rnd.choice(words) for _ in range(60_000))}</p></body></html>".encode()
            files[f"OEBPS/c{n}.xhtml"] = data
        else:
            data = rnd.randbytes(400_000)
            files[f"OEBPS/i{n}.jpg"] = data
        size += len(data)
    types = {"jpg": "image/jpeg", "xhtml": "application/xhtml+xml"}
    items = "".join(f'<item id="x{i}" href="{p.split("/", 1)[1]}" media-type="{types[p.rsplit(".", 1)[1]]}"/>'
                    for i, p in enumerate(files))
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                   '<rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>')
        z.writestr("OEBPS/content.opf", OPF.format(items=items))
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _sign_ms() -> float:
    from lending.lcp import crypto, licence, testca

    now = datetime.now(UTC)
    ta = testca.generate(now)
    signer = licence.Signer.from_pem(ta.provider_pem, ta.provider_key_pem)
    key = crypto.new_content_key()
    times = []
    for _ in range(200):
        t = time.perf_counter()
        doc = licence.build(licence_id=str(uuid.uuid4()), provider="https://hub.example", issued=now, content_key=key,
                            user_key=crypto.user_key("passphrase"), hint="hint", hint_url="https://hub.example/h",
                            status_url="https://hub.example/s",
                            publication=licence.Publication("https://hub.example/p", 1000, "00" * 32),
                            rights=licence.Rights(now, now + timedelta(days=14), 10, 2000))
        licence.sign(doc, signer)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _issue_ms() -> float:
    from moto import mock_aws

    from lending.domain.licences import Pool
    from lending.domain.loans import Loan
    from lending.local import epubs, resources, template
    from lending.local.emulator import LOCAL_ENV
    from lending.services import lcp
    from lending.services.context import Ctx
    from lending.store import table

    saved = dict(os.environ)
    os.environ.update(LOCAL_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            table.reset_client()
            tpl = template.load()
            os.environ.update(resources.environment(tpl, resources.create_all(tpl), {}))
            now = datetime.now(UTC)
            lcp.protect_publication("9791000000015", epubs.build("9791000000015", "Bench"), now)
            ctx = Ctx(now=now, base_url="https://hub.example")
            lcp.issue(ctx, _loan(Loan, Pool, "warm", now), lcp.Passphrase("passphrase"))  # certificate, clients
            times = []
            for i in range(50):
                loan = _loan(Loan, Pool, f"L{i}", now)
                t = time.perf_counter()
                lcp.issue(ctx, loan, lcp.Passphrase("passphrase", "hint"))
                times.append(time.perf_counter() - t)
            return statistics.median(times) * 1000
    finally:
        table.reset_client()
        os.environ.clear()
        os.environ.update(saved)


def _loan(loan_cls: Any, pool: Any, loan_id: str, now: datetime) -> Any:
    return loan_cls(gln_coll="3012345000031", loan_id=loan_id, order_line_id="0" * 24, ean13="9791000000015",
                    gln_distributor="3010999000018", pool=pool.DOWNLOAD, created_at=now,
                    end_date=now + timedelta(days=14))


def _throughput(kind: str) -> float:
    from lending.lcp import crypto, epub

    book = _epub(kind, 8 * 1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        plain = sum(i.file_size for i in z.infolist())
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        epub.protect(book, crypto.new_content_key())
        best = min(best, time.perf_counter() - t)
    return plain / best / 1e6


def run(report: Callable[..., None]) -> None:
    report("lcp_licence_sign_ms", _sign_ms(), "build + RSA-2048 signature, median of 200")
    report("lcp_licence_issue_ms", _issue_ms(), "the issue use case per loan (moto in-process), median of 50")
    report("lcp_encrypt_text_mb_per_s", _throughput("text"), "XHTML: deflate + AES-256-CBC, MB of input/s")
    report("lcp_encrypt_images_mb_per_s", _throughput("images"), "images: AES-256-CBC only, MB of input/s")
