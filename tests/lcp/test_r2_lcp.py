"""THE PROOF: Readium's own r2-lcp-js (npm) opens licences the hub issues, with the passphrase: it
checks the key (key_check), decrypts the content key, and decrypts every resource of the protected
EPUB back to the original bytes. Licences validate against Readium's published schema.

r2-lcp-js's JavaScript path does not check signatures (only EDRLab's closed native plugin does): the
signature is checked here with the `cryptography` package against the test root CA, and tampering is
shown to break it."""

from __future__ import annotations

import base64
import copy
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from lending.lcp import crypto, epub, licence, testca
from tests.lcp import books
from tests.lcp.conftest import open_with_r2, validate

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PASSPHRASE = "la phrase secrète de Zoé"


def issue(content_key: bytes, protected: epub.Protected, authority: testca.TestAuthority,
          passphrase: str = PASSPHRASE) -> dict[str, Any]:
    doc = licence.build(
        licence_id=str(uuid.uuid4()), provider="https://hub.test", issued=NOW, content_key=content_key,
        user_key=crypto.user_key(passphrase), hint="Votre date de naissance", hint_url="https://hub.test/lcp/hint",
        status_url="https://hub.test/lcp/status/x",
        publication=licence.Publication("https://hub.test/lcp/publications/9791000000015.epub",
                                        len(protected.content), protected.sha256),
        rights=licence.Rights(NOW, NOW + timedelta(days=14), 10, 2000))
    return licence.sign(doc, licence.Signer.from_pem(authority.provider_pem, authority.provider_key_pem))


def test_r2_lcp_js_opens_a_hub_licence_and_decrypts_every_resource(r2_lcp: Path, tmp_path: Path) -> None:
    original = books.build()
    key = crypto.new_content_key()
    protected = epub.protect(original, key)
    authority = testca.generate(NOW)
    doc = issue(key, protected, authority)
    validate(doc, "license")
    assert licence.check_signature(doc, x509.load_pem_x509_certificate(authority.root_pem))

    opened = open_with_r2(r2_lcp, doc, protected.content, PASSPHRASE, tmp_path)

    assert opened["opened"] is True and opened["id"] == doc["id"] and opened["provider"] == "https://hub.test"
    assert opened["profile"] == licence.BASIC_PROFILE and opened["contentKey"] == key.hex()
    assert opened["end"].startswith("2026-12-13T12:00:00")
    plain = books.entries(original)
    assert set(opened["resources"]) == set(protected.encrypted) == {
        "OEBPS/text/chapitre uné.xhtml", "OEBPS/text/long.xhtml", "OEBPS/style.css", "OEBPS/images/plan.png"}
    for path, data in opened["resources"].items():
        assert base64.b64decode(data) == plain[path], path
    shipped = books.entries(protected.content)
    for clear in ("mimetype", "META-INF/container.xml", "OEBPS/content.opf", "OEBPS/nav.xhtml", "OEBPS/toc.ncx",
                  "OEBPS/images/cover.jpg"):
        assert shipped[clear] == plain[clear], clear  # what the spec leaves clear stays clear
    for path in protected.encrypted:
        assert shipped[path] != plain[path]


def test_r2_lcp_js_refuses_a_wrong_passphrase(r2_lcp: Path, tmp_path: Path) -> None:
    key = crypto.new_content_key()
    protected = epub.protect(books.build(), key)
    doc = issue(key, protected, testca.generate(NOW))
    opened = open_with_r2(r2_lcp, doc, protected.content, "not the passphrase", tmp_path)
    assert opened["opened"] is False and opened["resources"] == {}


def test_a_tampered_licence_fails_its_signature() -> None:
    key = crypto.new_content_key()
    protected = epub.protect(books.build(), key)
    authority = testca.generate(NOW)
    root = x509.load_pem_x509_certificate(authority.root_pem)
    doc = issue(key, protected, authority)
    longer = copy.deepcopy(doc)
    longer["rights"]["end"] = "2027-12-31T00:00:00Z"
    assert licence.check_signature(doc, root) and not licence.check_signature(longer, root)
    other = x509.load_pem_x509_certificate(testca.generate(NOW).root_pem)
    assert not licence.check_signature(doc, other)  # a certificate another authority issued is refused
