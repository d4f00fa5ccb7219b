"""Readium LCP, pure parts: the canonical form against the spec's own example, the basic profile's
cryptography, which resources are protected, LSD statuses (renewal rules: tests/unit/test_renewals.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from lending.lcp import crypto, epub, licence
from lending.lcp.status import Event, EventType, LsdStatus, document, status_of
from lending.local import epubs

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

# LCP 1.0, section 5.4.1: a licence in its canonical form and the SHA-256 of that form.
SPEC_CANONICAL = (
    '{"encryption":{"content_key":{"algorithm":"http://www.w3.org/2001/04/xmlenc#aes256-cbc","encrypted_value":'
    '"/k8RpXqf4E2WEunCp76E8PjhS051NXwAXeTD1ioazYxCRGvHLAck/KQ3cCh5JxDmCK0nRLyAxs1X0aA3z55boQ=="},"profile":'
    '"http://readium.org/lcp/basic-profile","user_key":{"algorithm":"http://www.w3.org/2001/04/xmlenc#sha256",'
    '"key_check":"jJEjUDipHK3OjGt6kFq7dcOLZuicQFUYwQ+TYkAIWKm6Xv6kpHFhF7LOkUK/Owww","text_hint":"Enter your email '
    'address"}},"id":"ef15e740-697f-11e3-949a-0800200c9a66","issued":"2013-11-04T01:08:15+01:00","links":[{"rel":'
    '"hint","href":"https://www.imaginaryebookretailer.com/lcp/hint","type":"text/html"}],"provider":'
    '"https://www.imaginaryebookretailer.com","updated":"2014-02-21T09:44:17+01:00","user":{"id":'
    '"d9f298a7-7f34-49e7-8aae-4378ecb1d597"}}')
SPEC_SHA256 = "23c68442c7214ba294ddd1a2902756e9fe575116a88f36e55baf94590a90c2ad"


def test_canonical_form_matches_the_spec_example() -> None:
    """The spec's example leaves its link's keys unsorted (rel before href), against its own rule 2;
    Readium's server (sign/canon.go) sorts at every level, as we do: that one difference aside, the
    same bytes."""
    assert hashlib.sha256(SPEC_CANONICAL.encode()).hexdigest() == SPEC_SHA256
    parsed = json.loads(SPEC_CANONICAL)
    pretty = json.dumps({k: parsed[k] for k in reversed(list(parsed))}, indent=3)  # other order, spaces
    sorted_link = SPEC_CANONICAL.replace(
        '{"rel":"hint","href":"https://www.imaginaryebookretailer.com/lcp/hint","type":"text/html"}',
        '{"href":"https://www.imaginaryebookretailer.com/lcp/hint","rel":"hint","type":"text/html"}')
    assert sorted_link != SPEC_CANONICAL
    assert licence.canonical(json.loads(pretty)) == sorted_link.encode()


def test_canonical_strings_escape_only_what_json_requires() -> None:
    assert licence.canonical({"b": 'é"\\\n\x1f/<', "a": [2, 1], "c": True}) == (
        '{"a":[2,1],"b":"é\\"\\\\\\u000A\\u001F/<","c":true}').encode()
    with pytest.raises(TypeError):
        licence.canonical({"x": 1.5})


def test_aes_cbc_with_prepended_iv_round_trips_and_pads() -> None:
    key = crypto.new_content_key()
    for size in (0, 1, 15, 16, 17, 1000):
        data = bytes(range(256)) * 4
        sealed = crypto.encrypt(key, data[:size])
        assert len(sealed) == 16 + (size // 16 + 1) * 16
        assert crypto.decrypt(key, sealed) == data[:size]
    with pytest.raises(ValueError):
        crypto.decrypt(key, b"short")


def test_key_check_and_content_key_open_with_the_passphrase_only() -> None:
    key = crypto.new_content_key()
    doc = licence.build(licence_id="id-1", provider="https://hub.test", issued=NOW, content_key=key,
                        user_key=crypto.user_key("secret"), hint="\u0007 hint\nline\u2028", hint_url="https://hub.test/h",
                        status_url="https://hub.test/s",
                        publication=licence.Publication("https://hub.test/p", 10, "ab" * 32),
                        rights=licence.Rights(NOW, NOW + timedelta(days=3)))
    assert licence.content_key_of(doc, "secret") == key
    assert licence.content_key_of(doc, "Secret") is None
    assert doc["encryption"]["user_key"]["text_hint"] == "hint line"  # one clean line
    assert "print" not in doc["rights"] and doc["rights"]["end"] == "2026-12-02T12:00:00Z"
    assert base64.b64decode(next(x for x in doc["links"] if x["rel"] == "publication")["hash"]) == b"\xab" * 32
    assert crypto.user_key("secret") == hashlib.sha256(b"secret").digest()


def test_renewed_licence_keeps_its_keys_and_moves_its_end() -> None:
    doc = {"id": "x", "rights": {"start": "a", "end": "b"}, "updated": "u", "signature": {"value": "v"}}
    out = licence.renewed(doc, NOW, NOW)
    assert out == {"id": "x", "rights": {"start": "a", "end": "2026-11-29T12:00:00Z"},
                   "updated": "2026-11-29T12:00:00Z"}


def test_demo_epub_protection_leaves_the_required_files_clear() -> None:
    plain = epubs.build("9791000000015", "Titre")
    key = crypto.new_content_key()
    protected = epub.protect(plain, key)
    # the content documents are encrypted; the package and the navigation document stay clear
    assert protected.encrypted == ("OEBPS/text.xhtml", "OEBPS/chapter2.xhtml", "OEBPS/chapter3.xhtml")
    with zipfile.ZipFile(io.BytesIO(protected.content)) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type, z.read("mimetype")) == ("mimetype", zipfile.ZIP_STORED,
                                                                            b"application/epub+zip")
        assert z.getinfo("OEBPS/text.xhtml").compress_type == zipfile.ZIP_STORED  # encrypted: stored
        xml = z.read("META-INF/encryption.xml").decode()
    assert 'URI="OEBPS/text.xhtml"' in xml and 'Method="8"' in xml and epub.CONTENT_KEY_URI in xml
    with zipfile.ZipFile(io.BytesIO(plain)) as z:
        assert epub.unprotect(protected.content, key) == {n: z.read(n) for n in z.namelist()} | {
            "META-INF/encryption.xml": epub.unprotect(protected.content, key)["META-INF/encryption.xml"]}


def test_files_that_cannot_be_protected_are_refused() -> None:
    with pytest.raises(epub.NotAnEpub):
        epub.protect(b"not a zip", crypto.new_content_key())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
    with pytest.raises(epub.NotAnEpub):
        epub.protect(out.getvalue(), crypto.new_content_key())  # no container
    plain = epubs.build("9791000000015", "Titre")
    once = epub.protect(plain, crypto.new_content_key()).content
    with pytest.raises(epub.NotAnEpub):
        epub.protect(once, crypto.new_content_key())  # already protected


def test_lsd_status_from_the_loan_and_its_events() -> None:
    reg = Event(EventType.REGISTER, "d", "App", NOW)
    ret = Event(EventType.RETURN, "d", "App", NOW)
    assert status_of("ACTIVE", []) is LsdStatus.READY
    assert status_of("ACTIVE", [reg]) is LsdStatus.ACTIVE
    assert status_of("RETURNED", [reg, ret]) is LsdStatus.RETURNED
    assert status_of("RETURNED", [reg]) is LsdStatus.REVOKED  # ended by the library or distributor
    assert status_of("RETURNED", []) is LsdStatus.CANCELLED  # ended before any device registered
    assert status_of("EXPIRED", [reg, ret]) is LsdStatus.EXPIRED
    doc = document(licence_id="x", status=LsdStatus.EXPIRED, licence_updated=NOW, status_updated=NOW,
                   licence_url="https://h/l", lsd_url="https://h/s", events=[], potential_end=NOW, can_renew=True)
    assert [x["rel"] for x in doc["links"]] == ["license"] and "potential_rights" not in doc


def test_the_doors_light_lcp_marks_are_lcps_own() -> None:
    """domain.loans keeps LCP's mark and media type so the doors need not load LCP's code to read them."""
    from lending.domain import loans
    from lending.lcp import licence
    from lending.services import lcp

    assert (loans.LCP_PROTECTION, loans.LCP_LICENCE_TYPE) == (lcp.PROTECTION, licence.LICENCE_TYPE)
    assert loans.LCP_HINT_MAX == licence.HINT_MAX  # the doors refuse a hint the licence would cut
