"""Till password hashing and PII masking."""

from __future__ import annotations

from points_core.aws.observability import mask_email, mask_identifier, mask_mobile
from points_core.domain.passwords import client_password, hash_password, verify_password


def test_the_md5_a_client_sends_verifies_against_the_stored_hash() -> None:
    stored = hash_password(client_password("s3cret"))
    assert verify_password(client_password("s3cret"), stored)
    assert verify_password(client_password("s3cret").upper(), stored)
    assert not verify_password(client_password("wrong"), stored)
    assert not verify_password("s3cret", stored)


def test_the_hash_is_salted_and_holds_neither_password_nor_md5() -> None:
    md5 = client_password("s3cret")
    first, second = hash_password(md5), hash_password(md5)
    assert first != second
    assert md5 not in first
    assert "s3cret" not in first
    assert first.startswith("scrypt$16384$8$1$")


def test_unknown_users_and_garbage_hashes_never_verify() -> None:
    assert not verify_password(client_password("x"), None)
    assert not verify_password(client_password("x"), "scrypt$1$2")
    assert not verify_password(client_password("x"), "not-a-hash")


def test_masking() -> None:
    assert mask_mobile("919777785205") == "91******5205"
    assert mask_mobile("12345") == "*****"
    assert mask_email("jane.doe@example.com") == "j***@e***.com"
    assert mask_identifier("mobile", "919777785205") == "91******5205"
    assert mask_identifier("external_id", "EXT-1") == "EXT-1"
