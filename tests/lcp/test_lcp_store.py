"""LCP on emulated AWS: a publication is protected once (a second ingest keeps the first key and file),
a loan gets one licence (asked again: the same), and the content key at rest is wrapped, not clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from lending.aws import client
from lending.domain.licences import Pool
from lending.domain.loans import Loan
from lending.lcp import licence as lcpl
from lending.local import epubs
from lending.services import files, lcp
from lending.services.context import Ctx
from lending.services.lcp_keys import LocalVault, vault
from lending.store import lcp as store

pytestmark = pytest.mark.usefixtures("aws")
EAN = "9791000000015"
NOW = datetime.now(UTC)


def loan(loan_id: str) -> Loan:
    return Loan(gln_coll="3012345000031", loan_id=loan_id, order_line_id="0" * 24, ean13=EAN,
                gln_distributor="3010999000018", pool=Pool.DOWNLOAD, created_at=NOW, end_date=NOW + timedelta(days=7))


def test_a_publication_is_protected_once() -> None:
    first = store.publication(EAN)  # the demo ingest protected it
    assert first is not None and first.object_key.startswith(f"lcp/{EAN}/")
    files.ingest_epub(EAN, epubs.build(EAN, "Another edition"), NOW)  # ingested again
    assert store.publication(EAN) == first
    keys = [o["Key"] for o in client("s3").list_objects_v2(Bucket=files.bucket(), Prefix=f"lcp/{EAN}/")["Contents"]]
    assert keys == [first.object_key]
    key = vault().unwrap(first.wrapped_key, EAN)
    assert len(key) == 32 and key.hex() not in first.wrapped_key and first.wrapped_key.startswith("local:")
    with pytest.raises(InvalidTag):  # a wrapped key opens for its own book only
        LocalVault(b"test-signing-key").unwrap(first.wrapped_key, "9791000000022")


def test_one_licence_per_loan_and_it_opens_with_the_passphrase() -> None:
    ctx = Ctx(now=NOW, base_url="http://hub.test")
    made = lcp.issue(ctx, loan("STORE1"), lcp.Passphrase("pass one", "hint"))
    again = lcp.issue(ctx, loan("STORE1"), lcp.Passphrase("another", "other"))
    assert made is not None and again is not None and again.licence_id == made.licence_id
    assert lcpl.content_key_of(again.doc, "pass one") is not None
    assert lcpl.content_key_of(again.doc, "another") is None
    unknown = loan("STORE2")
    unknown.ean13 = "9791000000077"
    assert lcp.issue(ctx, unknown, lcp.Passphrase("x")) is None  # no protected file: no licence


def test_an_epub_file_enters_the_hub_protected_under_kms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from lending.catalogue import epub_files
    from tests.lcp import books

    key_id = client("kms").create_key(Description="LcpKey")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("LCP_KMS_KEY_ID", key_id)
    book = tmp_path / "book.epub"
    book.write_bytes(books.build())
    assert epub_files.main(["9791000000077", str(book), ""]) == 0
    rec = store.publication("9791000000077")
    assert rec is not None and rec.wrapped_key.startswith("kms:")
    assert len(vault().unwrap(rec.wrapped_key, "9791000000077")) == 32
    with pytest.raises(Exception, match="InvalidCiphertext"):  # the encryption context is the EAN
        vault().unwrap(rec.wrapped_key, EAN)
    assert epub_files.main(["9791000000077", str(book), ""]) == 0
    assert "already protected: kept" in capsys.readouterr().out and store.publication("9791000000077") == rec
    (tmp_path / "bad.epub").write_bytes(b"not an epub")
    assert epub_files.main(["9791000000084", str(tmp_path / "bad.epub"), ""]) == 2
    assert store.publication("9791000000084") is None
    assert epub_files.main(["123", str(book), ""]) == 2
