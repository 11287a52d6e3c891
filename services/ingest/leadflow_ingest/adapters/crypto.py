"""Encryption of webhook secrets at rest (Fernet; several keys for key rotation)."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet


class SecretBox:
    """The first key encrypts; every key decrypts (rotate by prepending a new key)."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def seal(self, raw: bytes) -> bytes:
        return self._fernet.encrypt(raw)

    def open(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)

    def rotate(self, token: bytes) -> bytes:
        """The same secret, encrypted again with the first key (any key may decrypt)."""
        return self._fernet.rotate(token)
