"""Passwords: argon2id hashes (RFC 9106 low-memory profile) and the rule for a new password, length
over composition (NIST 800-63B)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with the RFC 9106 low-memory profile (argon2-cffi's default).
hasher = PasswordHasher()
# Verified against when the user does not exist, so that both cases take the same time.
_DUMMY_HASH = hasher.hash("flightdeck-timing-equaliser")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is unacceptable, or None. Length over composition rules (NIST 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters long."
    if username and username.lower() in password.lower():
        return "Password must not contain the username."
    if len(set(password)) < 4:
        return "Password is too repetitive."
    return None


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def rehashed(stored_hash: str | None, password: str) -> str | None:
    """A fresh hash of a password just verified, when the stored one was made with weaker
    parameters than today's; None when it is current."""
    return hasher.hash(password) if hasher.check_needs_rehash(stored_hash or "") else None
