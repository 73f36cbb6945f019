"""Salted, consistent UID remapping (PS3.15 Annex E action ``U``).

A new UID is ``2.25.<n>`` where ``n`` is the first 128 bits of
HMAC-SHA256(secret, original UID): the same input UID always gives the same output
under one secret (so references between files of a set stay consistent), and nobody
holding an original UID can recompute its replacement without the secret (a plain
hash could be recomputed, a per-run random map could not be extended later).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from flannot.errors import FlannotError
from flannot.safe_files import read_regular

SECRET_BYTES = 32

#: flannot's Implementation Class UID (written in the file meta of every de-identified
#: file): a fixed ``2.25`` UID derived from the UUID5 of the project URL.
IMPLEMENTATION_CLASS_UID = "2.25.74736869703506532808472455236209053457"
IMPLEMENTATION_VERSION_NAME = "FLANNOT_0_1"


def new_secret() -> bytes:
    """A fresh random secret for a set (or one CLI run)."""
    return secrets.token_bytes(SECRET_BYTES)


def load_secret(path: str | os.PathLike[str], create: bool = True) -> bytes:
    """Read a hex secret from ``path``; create it (mode 0600) when missing and ``create``.

    Raises
    ------
    FlannotError
        When the file is not a hex secret of at least 16 bytes, or not a regular
        file (a symlink, FIFO or device is refused).
    """
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        if not create:
            raise FlannotError("salt file not found", p)
        return _create_secret(p)
    # a secret is a small regular file: never a FIFO (blocks), a device (endless) or a symlink
    data = read_regular(p, 4096, "salt file", follow_symlinks=False)
    text = data.decode("ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise FlannotError("salt file is not a hexadecimal secret", p) from None
    if len(secret) < 16:
        raise FlannotError("salt file holds fewer than 16 bytes of secret", p)
    return secret


def _create_secret(path: Path) -> bytes:
    """Write a new secret to ``path``, readable by its owner only from the first byte.

    The file is created with ``O_EXCL`` and mode 0600 under a temporary name, fsynced and
    linked into place (``os.link`` fails if another process made the secret meanwhile:
    then that secret is used, so two concurrent first additions agree).
    """
    secret = new_secret()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret.hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return load_secret(path, create=False)
        except OSError:  # no hard links on this filesystem (FAT, some network shares)
            if path.exists():
                return load_secret(path, create=False)
            os.replace(tmp, path)
    except OSError as exc:
        raise FlannotError(f"cannot write salt file: {exc.strerror or exc}", path) from None
    finally:
        tmp.unlink(missing_ok=True)
    return secret


class UidMap:
    """Maps original UIDs to new ``2.25`` UIDs with a secret; remembers what it mapped.

    Parameters
    ----------
    secret
        Per-set secret (see :func:`new_secret`). ``None`` draws a random one.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = new_secret() if secret is None else bytes(secret)
        self.mapped: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        """The new UID for ``uid`` (stripped of padding); empty stays empty."""
        uid = str(uid).strip("\x00 ")
        if not uid:
            return uid
        new = self.mapped.get(uid)
        if new is None:
            digest = hmac.new(self.secret, uid.encode("ascii", "replace"), hashlib.sha256)
            new = f"2.25.{int.from_bytes(digest.digest()[:16], 'big')}"
            self.mapped[uid] = new
        return new

    def keyed_hash(self, text: str) -> str:
        """A short keyed hash of ``text`` (provenance without identifiers)."""
        return hmac.new(self.secret, b"name:" + text.encode("utf-8"), hashlib.sha256).hexdigest()[
            :16
        ]

    def date_offset_days(self) -> int:
        """The set's date shift in days: fixed per secret, between -3650 and -366 days."""
        d = hmac.new(self.secret, b"date-shift", hashlib.sha256).digest()
        return -(366 + int.from_bytes(d[:4], "big") % (3650 - 366 + 1))
