"""The encrypted file a backup is: a header, then the database's bytes in sealed chunks.

    magic "SIAPAMBIL-BACKUP" | version (1 byte) | header length (4 bytes) | header (JSON)
    | salt (16 bytes) | key check (32 bytes) | chunk ... | last chunk

A file key and a check key are drawn from ``BACKUP_KEY`` and the file's random salt with
HKDF-SHA256. The key check is an HMAC of everything before it under the check key, so a
wrong key is told as such before anything is decrypted, and the header (what kind of
database, when, at which schema revision) cannot be changed unseen. Each chunk is at most
1 MiB of plaintext sealed with AES-256-GCM: its 4-byte length, then the ciphertext and tag.
Its nonce is its number and a flag for the last chunk, and the data it authenticates is
the whole preamble, so a chunk changed, moved, dropped, or a file cut short or lengthened
is refused. The stream is read and written a chunk at a time: memory stays small whatever
the size of the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator, Sequence
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tracker.errors import BackupError

MAGIC = b"SIAPAMBIL-BACKUP"
VERSION = 1
CHUNK = 1 << 20
SALT_BYTES = 16
CHECK_BYTES = 32
MIN_KEY_CHARACTERS = 32
_LENGTH = struct.Struct(">I")


def check_key(key: str | None) -> bytes:
    """The key's bytes; a missing or short key is refused (it must be a long random value)."""
    if not key:
        raise BackupError(reason="no_key")
    if len(key) < MIN_KEY_CHARACTERS:
        raise BackupError(reason="short_key", count=MIN_KEY_CHARACTERS)
    return key.encode()


def _keys(key: bytes, salt: bytes) -> tuple[AESGCM, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=salt, info=b"siapambil backup v1"
    ).derive(key)
    return AESGCM(material[:32]), material[32:]


def _nonce(number: int, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _check(checking: bytes, preamble: bytes) -> bytes:
    return hmac.new(checking, preamble, hashlib.sha256).digest()


def seal(source: IO[bytes], target: IO[bytes], key: str, header: dict[str, Any]) -> int:
    """Write ``source`` to ``target`` encrypted under ``key``, with ``header`` readable (but
    authenticated) in front; returns the plaintext's size."""
    raw = check_key(key)
    described = json.dumps(header, sort_keys=True).encode()
    salt = os.urandom(SALT_BYTES)
    cipher, checking = _keys(raw, salt)
    preamble = MAGIC + bytes([VERSION]) + _LENGTH.pack(len(described)) + described + salt
    preamble += _check(checking, preamble)
    target.write(preamble)
    number, size = 0, 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if chunk else b""
        last = not following
        sealed = cipher.encrypt(_nonce(number, last), chunk, preamble)
        target.write(_LENGTH.pack(len(sealed)) + sealed)
        size += len(chunk)
        if last:
            return size
        number, chunk = number + 1, following


def read_header(source: IO[bytes]) -> tuple[dict[str, Any], bytes, bytes]:
    """The header, the preamble and the salt, read from the start of ``source``; a file that
    is not a backup of this kind is refused."""
    start = source.read(len(MAGIC) + 1 + _LENGTH.size)
    if len(start) < len(MAGIC) + 1 + _LENGTH.size or not start.startswith(MAGIC):
        raise BackupError(reason="not_a_backup")
    if start[len(MAGIC)] != VERSION:
        raise BackupError(reason="not_a_backup")
    (length,) = _LENGTH.unpack(start[len(MAGIC) + 1 :])
    described = source.read(length) if length <= 65536 else b""
    salt = source.read(SALT_BYTES)
    if len(described) != length or len(salt) != SALT_BYTES:
        raise BackupError(reason="tampered")
    try:
        header = json.loads(described)
    except ValueError:
        raise BackupError(reason="tampered") from None
    if not isinstance(header, dict):
        raise BackupError(reason="tampered")
    return header, start + described + salt, salt


def open_sealed(
    source: IO[bytes], key: str | None, earlier: Sequence[str] = ()
) -> tuple[dict[str, Any], Iterator[bytes]]:
    """The header, once one of the keys (``key``, then the ``earlier`` ones) is found to fit,
    and the plaintext's chunks: each is given only once its tag holds, and the last one only
    if the file ends where it should."""
    keys = [check_key(key), *(check_key(k) for k in earlier)]
    header, preamble, salt = read_header(source)
    check = source.read(CHECK_BYTES)
    for raw in keys:
        cipher, checking = _keys(raw, salt)
        if hmac.compare_digest(check, _check(checking, preamble)):
            return header, _chunks(source, cipher, preamble + check)
    raise BackupError(reason="wrong_key")


def _chunks(source: IO[bytes], cipher: AESGCM, preamble: bytes) -> Iterator[bytes]:
    number = 0
    while True:
        length = source.read(_LENGTH.size)
        if len(length) != _LENGTH.size:
            raise BackupError(reason="tampered")  # cut short: the last chunk never came
        (size,) = _LENGTH.unpack(length)
        sealed = source.read(size) if size <= CHUNK + 16 else b""
        if len(sealed) != size:
            raise BackupError(reason="tampered")
        last = _open(cipher, number, sealed, preamble)
        yield last[0]
        if last[1]:
            if source.read(1):
                raise BackupError(reason="tampered")  # something after the last chunk
            return
        number += 1


def _open(cipher: AESGCM, number: int, sealed: bytes, preamble: bytes) -> tuple[bytes, bool]:
    """The chunk's plaintext and whether it is the last one."""
    for last in (False, True):
        try:
            return cipher.decrypt(_nonce(number, last), sealed, preamble), last
        except InvalidTag:
            continue
    raise BackupError(reason="tampered", chunk=number)
