from __future__ import annotations

import pytest

from cauce.security import (
    SecretBox,
    hash_api_key,
    hash_password,
    new_api_key,
    verify_password,
)


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox("a" * 32)
    token = box.encrypt("EAAG-token")
    assert "EAAG" not in token
    assert box.decrypt(token) == "EAAG-token"
    with pytest.raises(ValueError, match="CAUCE_SECRET_KEY changed"):
        SecretBox("b" * 32).decrypt(token)


def test_api_keys_are_random_and_hashed() -> None:
    a, b = new_api_key(), new_api_key()
    assert a != b and a.startswith("cau_")
    assert hash_api_key(a) != a and len(hash_api_key(a)) == 64


def test_passwords_use_argon2() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong")
    assert not verify_password("not-a-hash", "x")
