"""The basic profile's primitives: AES-256-CBC with the IV prepended and PKCS#7 padding, the user key
(SHA-256 of the passphrase), RSA-SHA256 signatures."""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
KEY_BYTES = 32


def user_key(passphrase: str) -> bytes:
    """The basic profile's user key: SHA-256 of the passphrase's UTF-8 bytes."""
    return hashlib.sha256(passphrase.encode()).digest()


def new_content_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encrypt(key: bytes, plain: bytes, iv: bytes | None = None) -> bytes:
    """IV (16 random bytes) then AES-256-CBC of `plain`, PKCS#7 padded: LCP's layout everywhere."""
    iv = iv or os.urandom(BLOCK)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(padded) + enc.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    if len(data) < 2 * BLOCK or len(data) % BLOCK:
        raise ValueError("not an AES-CBC message with its IV")
    dec = Cipher(algorithms.AES(key), modes.CBC(data[:BLOCK])).decryptor()
    padded = dec.update(data[BLOCK:]) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def sign(private_key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return private_key.sign(data, PKCS1v15(), hashes.SHA256())


def verify(public_key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(signature, data, PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
