"""LCP licence documents (LCP 1.0, basic profile): building, canonical form, signing, checking.

The licence carries the publication's content key encrypted with the user key (SHA-256 of the
reader's passphrase), the licence id encrypted with that same key (`key_check`, how a reading app
knows the passphrase is right), the loan's rights, links, and an RSA-SHA256 signature over the
canonical form (LCP 5.3) made with the provider certificate's key."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..domain.dates import iso
from . import crypto
from .status import LICENCE_TYPE, STATUS_TYPE

__all__ = ["LICENCE_TYPE", "STATUS_TYPE"]
BASIC_PROFILE = "http://readium.org/lcp/basic-profile"
PRODUCTION_PROFILE = "http://readium.org/lcp/profile-1.0"  # needs EDRLab's secret: a deployment switch
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
HINT_MAX = 200
# Control characters and the line separators Go's encoder escapes: a hint without them has one canonical
# form for every implementation (ours, Readium's Go server, the reading apps).
_CONTROL = re.compile("[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True)
class Signer:
    """The provider certificate (DER) and its private key."""

    certificate: bytes
    key: rsa.RSAPrivateKey

    @classmethod
    def from_pem(cls, certificate_pem: bytes, key_pem: bytes) -> Signer:
        cert = x509.load_pem_x509_certificate(certificate_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the provider key must be an RSA key (basic profile: RSA-SHA256)")
        return cls(cert.public_bytes(serialization.Encoding.DER), key)


@dataclass(frozen=True)
class Rights:
    start: datetime
    end: datetime
    print: int | None = None  # pages over the licence's life
    copy: int | None = None  # characters over the licence's life


@dataclass(frozen=True)
class Publication:
    href: str
    length: int
    sha256_hex: str
    title: str = ""


def hint_text(hint: str | None) -> str:
    """The passphrase hint as readers show it: one line, bounded; never empty (the schema wants one)."""
    text = _CONTROL.sub(" ", hint or "").strip()[:HINT_MAX]
    return text or "Passphrase given by your library"


def canonical(doc: Any) -> bytes:
    """LCP 5.3: keys sorted by code point at every level, no whitespace, arrays in order, strings
    escaping only `"`, `\\` and control characters (upper-case hex), integers without padding."""
    return _canon(doc).encode()


def _canon(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ",".join(f"{_string(k)}:{_canon(v[k])}" for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_canon(x) for x in v) + "]"
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v is None:
        return "null"
    raise TypeError(f"no canonical form for {type(v).__name__} in a licence")  # floats: none in ours


def _string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def build(*, licence_id: str, provider: str, issued: datetime, content_key: bytes, user_key: bytes,
          hint: str, hint_url: str, status_url: str, publication: Publication, rights: Rights,
          user_id: str | None = None, profile: str = BASIC_PROFILE) -> dict[str, Any]:
    """The licence document, unsigned."""
    rights_doc: dict[str, Any] = {"start": iso(rights.start), "end": iso(rights.end)}
    if rights.print is not None:
        rights_doc["print"] = rights.print
    if rights.copy is not None:
        rights_doc["copy"] = rights.copy
    publication_link: dict[str, Any] = {
        "rel": "publication", "href": publication.href, "type": "application/epub+zip",
        "length": publication.length, "hash": base64.b64encode(bytes.fromhex(publication.sha256_hex)).decode()}
    if publication.title:
        publication_link["title"] = publication.title
    doc: dict[str, Any] = {
        "id": licence_id,
        "issued": iso(issued),
        "updated": iso(issued),
        "provider": provider,
        "encryption": {
            "profile": profile,
            "content_key": {"algorithm": AES256_CBC,
                            "encrypted_value": base64.b64encode(crypto.encrypt(user_key, content_key)).decode()},
            "user_key": {"algorithm": SHA256, "text_hint": hint_text(hint),
                         "key_check": base64.b64encode(crypto.encrypt(user_key, licence_id.encode())).decode()},
        },
        "links": [
            {"rel": "hint", "href": hint_url, "type": "text/html"},
            publication_link,
            {"rel": "status", "href": status_url, "type": STATUS_TYPE},
        ],
        "rights": rights_doc,
    }
    if user_id:
        doc["user"] = {"id": user_id}
    return doc


def sign(doc: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """`doc` with its `signature` (over the canonical form of everything else)."""
    body = {k: v for k, v in doc.items() if k != "signature"}
    value = crypto.sign(signer.key, canonical(body))
    return {**body, "signature": {"algorithm": RSA_SHA256,
                                  "certificate": base64.b64encode(signer.certificate).decode(),
                                  "value": base64.b64encode(value).decode()}}


def renewed(doc: dict[str, Any], end: datetime, updated: datetime) -> dict[str, Any]:
    """The same licence with a later end (unsigned): same id, same keys, `updated` moved."""
    return {**{k: v for k, v in doc.items() if k != "signature"},
            "rights": {**doc.get("rights", {}), "end": iso(end)}, "updated": iso(updated)}


def check_signature(doc: dict[str, Any], root: x509.Certificate | None = None) -> bool:
    """The signature matches the canonical form under the embedded certificate, and (given `root`)
    that certificate was issued by it: what a reading system checks (LCP 5.5), CRL apart."""
    sig = doc.get("signature") or {}
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(sig["certificate"]))
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or sig.get("algorithm") != RSA_SHA256:
            return False
        if root is not None:
            cert.verify_directly_issued_by(root)
    except (KeyError, ValueError, TypeError):
        return False
    except Exception:  # InvalidSignature from the issuer check
        return False
    body = {k: v for k, v in doc.items() if k != "signature"}
    return crypto.verify(key, base64.b64decode(sig["value"]), canonical(body))


def content_key_of(doc: dict[str, Any], passphrase: str) -> bytes | None:
    """What a reading app does with the passphrase: check `key_check`, then decrypt the content key."""
    enc = doc["encryption"]
    key = crypto.user_key(passphrase)
    try:
        if crypto.decrypt(key, base64.b64decode(enc["user_key"]["key_check"])) != doc["id"].encode():
            return None
        return crypto.decrypt(key, base64.b64decode(enc["content_key"]["encrypted_value"]))
    except ValueError:
        return None
