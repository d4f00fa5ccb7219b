"""A test licence authority: a root CA and a provider certificate it signs, generated on demand for
`make run` and the tests. Never a real system's key: deployed, the provider certificate issued by
EDRLab and its key come from Secrets Manager (docs/lcp.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TestAuthority:
    root_pem: bytes
    provider_pem: bytes
    provider_key_pem: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lending hub (TEST ONLY)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def generate(now: datetime, provider: str = "Lending hub test provider", bits: int = 2048) -> TestAuthority:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    root = (x509.CertificateBuilder().subject_name(_name("Lending hub TEST LCP root CA"))
            .issuer_name(_name("Lending hub TEST LCP root CA")).public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(root_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    cert = (x509.CertificateBuilder().subject_name(_name(provider)).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return TestAuthority(
        root.public_bytes(pem), cert.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
