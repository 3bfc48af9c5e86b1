"""What ``pcscd --version`` says: version, features, usbdropdir/ipcdir/configdir, reader limits.

Any user may run ``pcscd --version``. Its "Enabled features" line names the build's options
(``polkit``, ``libudev``, ``libsystemd``) and where pcscd looks for drivers (``usbdropdir=``),
puts its socket (``ipcdir=``) and reads reader.conf files (``configdir=``).
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_USBDROPDIR = "/usr/lib/pcsc/drivers"
"""Debian's driver directory, used when pcscd cannot be asked."""
DEFAULT_IPCDIR = "/run/pcscd"
"""Where pcscd puts its socket unless built otherwise."""
PCSCD_PATHS = ("/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd", "/usr/bin/pcscd")
"""Where a pcscd executable is looked for, in order."""


@dataclass(frozen=True, slots=True)
class PcscdInfo:
    """The parsed output of ``pcscd --version``."""

    executable: str
    """The pcscd that answered."""
    version: str | None
    """``1.9.9``; None when the output has no version line."""
    features: tuple[str, ...]
    """The plain words of "Enabled features" (``libudev``, ``polkit``, ``usb``...)."""
    settings: dict[str, str] = field(default_factory=dict, compare=False)
    """The ``key=value`` words of "Enabled features" (usbdropdir, ipcdir, configdir)."""
    max_readers: int | None = None
    """PCSCLITE_MAX_READERS_CONTEXTS: how many readers (slots) pcscd handles at most."""
    max_readername: int | None = None
    """MAX_READERNAME."""

    @property
    def usbdropdir(self) -> str:
        """Where pcscd loads USB drivers from (default: Debian's)."""
        return self.settings.get("usbdropdir", DEFAULT_USBDROPDIR)

    @property
    def ipcdir(self) -> str:
        """The directory of pcscd's socket."""
        return self.settings.get("ipcdir", DEFAULT_IPCDIR)

    @property
    def polkit(self) -> bool:
        """Built with polkit: clients outside an active local session may be refused."""
        return "polkit" in self.features

    @property
    def libudev(self) -> bool:
        """Finds USB readers through libudev (needs /run/udev)."""
        return "libudev" in self.features


_VERSION = re.compile(r"pcsc-lite version (\S+?)\.?\s*$", re.MULTILINE)
_FEATURES = re.compile(r"^Enabled features:\s*(.*)$", re.MULTILINE)
_LIMIT = re.compile(r"\b(MAX_READERNAME|PCSCLITE_MAX_READERS_CONTEXTS):\s*(\d+)")


def parse_version_output(text: str, executable: str = "pcscd") -> PcscdInfo:
    """Parse what ``pcscd --version`` printed (never raises; unknown parts stay None)."""
    version_match = _VERSION.search(text)
    features: list[str] = []
    settings: dict[str, str] = {}
    features_match = _FEATURES.search(text)
    if features_match:
        for word in features_match.group(1).split():
            key, sep, value = word.partition("=")
            if sep:
                settings[key] = value
            else:
                features.append(word)
    limits = {name: int(value) for name, value in _LIMIT.findall(text)}
    return PcscdInfo(
        executable=executable,
        version=version_match.group(1) if version_match else None,
        features=tuple(features),
        settings=settings,
        max_readers=limits.get("PCSCLITE_MAX_READERS_CONTEXTS"),
        max_readername=limits.get("MAX_READERNAME"),
    )


def find_pcscd(root: Path = Path("/")) -> str | None:
    """The first pcscd executable under ``root`` (as a path under it); None when none."""
    for candidate in PCSCD_PATHS:
        path = root / candidate.lstrip("/")
        if path.is_file():
            return str(path)
    return None


def run_version(executable: str, timeout: float = 5.0) -> PcscdInfo | None:
    """Run ``EXECUTABLE --version`` and parse it; None when it cannot run or says nothing."""
    try:
        done = subprocess.run(
            [executable, "--version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    info = parse_version_output(done.stdout + done.stderr, executable)
    if info.version is None and not info.features:
        return None
    return info


@functools.lru_cache(maxsize=1)
def system_pcscd() -> PcscdInfo | None:
    """The installed pcscd's answer to ``--version`` (asked once per process)."""
    executable = find_pcscd()
    return None if executable is None else run_version(executable)
