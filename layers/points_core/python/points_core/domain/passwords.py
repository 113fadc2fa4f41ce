"""Till passwords and OAuth client secrets. Clients send the lowercase hex MD5 of a till's real password
(Capillary's convention); we keep only a salted scrypt of that value, or of an OAuth client's secret, and
compare in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_SCHEME = "scrypt"
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_MD5_HEX_LENGTH = 32


def client_password(password: str) -> str:
    """What a Capillary client sends as the Basic-auth password for `password`."""
    return hashlib.md5(password.encode()).hexdigest()  # noqa: S324 - the wire convention, not our storage


def _derive(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=64 * 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_secret(secret: str) -> str:
    """A salted scrypt of `secret`, as stored: an OAuth client's secret, or a till's password MD5."""
    salt = secrets.token_bytes(16)
    digest = _derive(secret, salt, _N, _R, _P, _DKLEN)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def hash_password(md5_hex: str) -> str:
    return hash_secret(md5_hex.lower())


# Checked when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = f"{_SCHEME}${_N}${_R}${_P}${_b64(b'0' * 16)}${_b64(b'0' * _DKLEN)}"


def verify_secret(secret: str, encoded: str | None) -> bool:
    """Whether `secret` is the one `encoded` was made from. With `encoded` None (no such till or client) the
    same slow hash is computed, so a wrong name costs as long as a wrong secret."""
    try:
        scheme, n, r, p, salt, digest = (encoded or _DUMMY_HASH).split("$")
        expected = base64.b64decode(digest)
        actual = _derive(secret, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected) and scheme == _SCHEME and encoded is not None


def verify_password(md5_hex: str, encoded: str | None) -> bool:
    return verify_secret(md5_hex.lower(), encoded) and len(md5_hex) == _MD5_HEX_LENGTH
