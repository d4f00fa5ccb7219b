"""The provider certificate that signs licences, and the provider's identity.

Deployed: a Secrets Manager secret (LCP_PROVIDER_SECRET_ARN) holding {"certificate": PEM,
"private_key": PEM}, the certificate issued by EDRLab (docs/lcp.md). Without one (`make run`, tests),
a test authority is generated once per process: its root is `local_authority().root_pem`."""

from __future__ import annotations

import json
import os
import threading

from ..aws import client
from ..clock import now
from ..lcp.licence import Signer
from ..lcp.testca import TestAuthority, generate

_lock = threading.Lock()
_signer: dict[str, Signer] = {}
_authority: list[TestAuthority] = []


class NoProviderCertificate(RuntimeError):
    """The deployment has no provider certificate: licences cannot be signed."""


def local_authority() -> TestAuthority:
    with _lock:
        if not _authority:
            _authority.append(generate(now()))
        return _authority[0]


def signer() -> Signer:
    """Read once per container (the secret), or the process's test authority."""
    arn = os.environ.get("LCP_PROVIDER_SECRET_ARN", "")
    found = _signer.get(arn)
    if found is not None:
        return found
    if arn:
        raw = json.loads(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
        try:
            found = Signer.from_pem(raw["certificate"].encode(), raw["private_key"].encode())
        except (KeyError, ValueError) as e:
            raise NoProviderCertificate("the LCP provider secret needs certificate and private_key (PEM)") from e
    elif os.environ.get("LCP_KMS_KEY_ID"):  # deployed (KMS in use): never sign with a throwaway authority
        raise NoProviderCertificate("LCP_PROVIDER_SECRET_ARN is not set")
    else:
        ta = local_authority()
        found = Signer.from_pem(ta.provider_pem, ta.provider_key_pem)
    _signer[arn] = found
    return found


def provider_uri(base_url: str) -> str:
    """The licence's `provider`: a URI naming the hub (LCP_PROVIDER_URI, else the hub's address)."""
    return os.environ.get("LCP_PROVIDER_URI") or base_url
