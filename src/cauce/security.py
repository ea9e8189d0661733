"""Secrets at rest, API keys and passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

API_KEY_PREFIX = "cau_"
_hasher = PasswordHasher()


class SecretBox:
    """Encrypts provider secrets (tokens, app secrets, SMTP passwords) with a key derived from
    ``CAUCE_SECRET_KEY``. Fernet gives authenticated encryption with a timestamped format."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"cauce-secretbox-v1:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "cannot decrypt a stored secret: CAUCE_SECRET_KEY changed since it was saved"
            ) from None


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(30)


def hash_api_key(key: str) -> str:
    # API keys carry 240 bits of entropy, so a fast hash is safe and keeps lookups cheap.
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    a_b = a.encode() if isinstance(a, str) else a
    b_b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_b, b_b)
