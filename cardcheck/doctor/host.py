"""Read-only access to the files doctor looks at (sysfs, /proc, /etc, /run, /usr), under a root.

Every path doctor reads is written as on the real system (``/sys/bus/usb/devices``) and
resolved under :attr:`Host.root`, so tests (and a copied tree) can stand in for the machine.
Nothing here raises for a missing or unreadable file: the answer is None or empty.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Host:
    """The system doctor looks at: files under ``root`` plus this process's environment."""

    root: Path = Path("/")
    """Where ``/`` is: the real root, or a test tree."""
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ), compare=False)
    """Environment variables (PCSCLITE_CSOCK_NAME, SSH_CONNECTION, FLATPAK_ID, HOME...)."""

    def path(self, absolute: str) -> Path:
        """``absolute`` (``/sys/...``) under the root."""
        return self.root / absolute.lstrip("/")

    def text(self, absolute: str) -> str | None:
        """The stripped text of a file; None when missing, unreadable or empty."""
        try:
            text = self.path(absolute).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        value = text.strip(" \t\r\n\0")
        return value or None

    def raw(self, absolute: str) -> bytes | None:
        """The bytes of a file; None when missing or unreadable."""
        try:
            return self.path(absolute).read_bytes()
        except OSError:
            return None

    def exists(self, absolute: str) -> bool:
        """Whether the path exists (a dangling symlink counts: it is there)."""
        target = self.path(absolute)
        return target.exists() or target.is_symlink()

    def is_dir(self, absolute: str) -> bool:
        """Whether the path is a directory."""
        return self.path(absolute).is_dir()

    def listdir(self, absolute: str) -> tuple[str, ...]:
        """Sorted entry names of a directory; empty when missing or unreadable."""
        try:
            return tuple(sorted(os.listdir(self.path(absolute))))
        except OSError:
            return ()

    def readlink(self, absolute: str) -> str | None:
        """The target of a symlink as written; None when not a symlink or unreadable."""
        try:
            return os.readlink(self.path(absolute))
        except OSError:
            return None

    def link_name(self, absolute: str) -> str | None:
        """The last component of a symlink's target (``.../drivers/usbfs`` -> ``usbfs``)."""
        target = self.readlink(absolute)
        return None if target is None else target.rstrip("/").rsplit("/", 1)[-1]

    def home(self) -> str | None:
        """The user's home directory from HOME (as an absolute path on the host)."""
        home = self.env.get("HOME")
        return home if home and home.startswith("/") else None
