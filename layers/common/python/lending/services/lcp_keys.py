"""Content keys at rest: wrapped by KMS when the stack has a key (LCP_KMS_KEY_ID), by a local key
otherwise (`make run`, tests). One small interface so the rest never knows which."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..aws import client
from .links import signing_key


class KeyVault(Protocol):
    def wrap(self, key: bytes, ean13: str) -> str: ...

    def unwrap(self, blob: str, ean13: str) -> bytes: ...


class KmsVault:
    """KMS Encrypt/Decrypt with the EAN as encryption context: a wrapped key only opens for its book."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    def wrap(self, key: bytes, ean13: str) -> str:
        out = client("kms").encrypt(KeyId=self.key_id, Plaintext=key, EncryptionContext={"ean13": ean13})
        return "kms:" + base64.b64encode(out["CiphertextBlob"]).decode()

    def unwrap(self, blob: str, ean13: str) -> bytes:
        raw = base64.b64decode(blob.removeprefix("kms:"))
        return bytes(client("kms").decrypt(CiphertextBlob=raw, EncryptionContext={"ean13": ean13})["Plaintext"])


class LocalVault:
    """AES-GCM under a key derived from the hub's local secret (never used deployed: KMS is)."""

    def __init__(self, secret: bytes) -> None:
        self.aead = AESGCM(hashlib.sha256(b"lcp-content-keys:" + secret).digest())

    def wrap(self, key: bytes, ean13: str) -> str:
        nonce = os.urandom(12)
        return "local:" + base64.b64encode(nonce + self.aead.encrypt(nonce, key, ean13.encode())).decode()

    def unwrap(self, blob: str, ean13: str) -> bytes:
        raw = base64.b64decode(blob.removeprefix("local:"))
        return self.aead.decrypt(raw[:12], raw[12:], ean13.encode())


def vault() -> KeyVault:
    key_id = os.environ.get("LCP_KMS_KEY_ID")
    return KmsVault(key_id) if key_id else LocalVault(signing_key())
