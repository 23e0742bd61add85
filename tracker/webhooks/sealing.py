"""Webhook signing secrets sealed at rest, so that a copy of the database alone (a replica, a
dump, a read-only leak) cannot sign a delivery that a SIAK bridge would believe.

A secret must be read back to sign each delivery, so it cannot be a one-way hash as an API
key is; it is kept encrypted under ``WEBHOOK_SECRET_KEY`` instead, which lives in the
settings, not in the database. The stored form is ``sealed.`` and the unpadded URL-safe
base64 of the secret's 32 random bytes sealed with AES-SIV (``cryptography``'s ``AESSIV``:
48 bytes, authenticated, so a wrong key or a changed value is refused): 71 characters,
which fit the column that held the clear ``whsec_`` form, so no table is rebuilt. Fernet
was the other candidate from the same library; its token of such a secret is 164
characters.

The key of each setting is drawn with HKDF-SHA256 from the setting's text. Opening tries
``WEBHOOK_SECRET_KEY`` and then each of ``WEBHOOK_SECRET_KEY_FALLBACKS``; sealing always
uses the first. Without ``WEBHOOK_SECRET_KEY`` the keys are drawn from ``SECRET_KEY`` and
``SECRET_KEY_FALLBACKS`` (with a warning at start), so that a rotation of ``SECRET_KEY``
done as the README says still opens them. A value still in the clear form (stored before
sealing existed) is read as it is until the scheduler, as it starts, or ``flask webhook
reseal`` seals it.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CLEAR_PREFIX = "whsec_"
SEALED_PREFIX = "sealed."
_PURPOSE = b"siapambil webhook signing secret"


class SecretUnreadable(Exception):
    """A stored secret that no key in the settings opens (or that is not a secret at all)."""


@functools.lru_cache(maxsize=16)
def _cipher(text: str) -> AESSIV:
    """The cipher of a setting's key; kept, since the dispatcher builds a keyring for each
    delivery and HKDF would otherwise run each time."""
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_PURPOSE).derive(
        str(text).encode()
    )
    return AESSIV(key)


@dataclass(frozen=True)
class Keyring:
    """The keys that open stored secrets, newest first; the first one seals."""

    ciphers: tuple[AESSIV, ...]

    @classmethod
    def of(cls, texts: Sequence[str]) -> Keyring:
        if not texts:
            raise ValueError("a keyring needs at least one key")
        return cls(tuple(_cipher(text) for text in texts))

    def seal(self, secret: str) -> str:
        """The stored form of a ``whsec_`` secret."""
        raw = base64.b64decode(secret.removeprefix(CLEAR_PREFIX), validate=True)
        sealed = self.ciphers[0].encrypt(raw, [_PURPOSE])
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, stored: str) -> str:
        """The ``whsec_`` secret a stored value holds; one still in the clear is returned as
        it is."""
        if stored.startswith(CLEAR_PREFIX):
            return stored
        sealed = _sealed_bytes(stored)
        for cipher in self.ciphers:
            try:
                raw = cipher.decrypt(sealed, [_PURPOSE])
            except InvalidTag:
                continue
            return CLEAR_PREFIX + base64.b64encode(raw).decode()
        raise SecretUnreadable(
            "no key opens the signing secret: WEBHOOK_SECRET_KEY or its fallbacks changed"
        )

    def is_current(self, stored: str) -> bool:
        """Sealed, and by the first key (what ``reseal`` leaves)."""
        try:
            self.ciphers[0].decrypt(_sealed_bytes(stored), [_PURPOSE])
        except (SecretUnreadable, InvalidTag):
            return False
        return True


def _sealed_bytes(stored: str) -> bytes:
    if not stored.startswith(SEALED_PREFIX):
        raise SecretUnreadable("not a signing secret")
    body = stored.removeprefix(SEALED_PREFIX)
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise SecretUnreadable("not a sealed secret") from None


def keyring(config: Mapping[str, Any]) -> Keyring:
    """The keyring of the settings: ``WEBHOOK_SECRET_KEY`` and its fallbacks, or else the
    keys drawn from ``SECRET_KEY`` and its fallbacks."""
    if config.get("WEBHOOK_SECRET_KEY"):
        texts = [config["WEBHOOK_SECRET_KEY"], *config.get("WEBHOOK_SECRET_KEY_FALLBACKS", [])]
    else:
        texts = [
            "drawn from SECRET_KEY:" + str(key)
            for key in (config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", []))
        ]
    return Keyring.of([text for text in texts if text])
