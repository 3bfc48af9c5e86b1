"""Processes as /proc shows them: who uses PC/SC, who holds a USB device node.

Without root, /proc/PID/maps and /proc/PID/fd are readable only for the user's own
processes: others are simply not seen (doctor says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from cardcheck.doctor.host import Host


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One process."""

    pid: int
    """Process id."""
    comm: str
    """Its command name (``scdaemon``)."""
    cmdline: str
    """Its command line, arguments joined by spaces (may be empty)."""
    uses_pcsclite: bool
    """libpcsclite is mapped: it is a PC/SC client."""
    usb_nodes: tuple[str, ...]
    """USB device nodes it has open (``/dev/bus/usb/001/005``)."""

    @property
    def label(self) -> str:
        """``scdaemon (pid 1234)``."""
        return f"{self.comm} (pid {self.pid})"


def processes(host: Host, *, skip_pid: int | None = None) -> tuple[ProcessInfo, ...]:
    """PC/SC clients and USB node holders among the processes we may look at."""
    found: list[ProcessInfo] = []
    for entry in host.listdir("/proc"):
        if not entry.isdigit() or int(entry) == skip_pid:
            continue
        base = f"/proc/{entry}"
        maps = host.text(f"{base}/maps") or ""
        nodes: list[str] = []
        for fd in host.listdir(f"{base}/fd"):
            target = host.readlink(f"{base}/fd/{fd}")
            if target is not None and target.startswith("/dev/bus/usb/"):
                nodes.append(target)
        uses = "libpcsclite" in maps
        if not uses and not nodes:
            continue
        raw = host.raw(f"{base}/cmdline") or b""
        words = " ".join(p.decode("utf-8", "replace") for p in raw.split(b"\0") if p).split()
        cmdline = " ".join(words)
        if len(cmdline) > 120:
            cmdline = cmdline[:117] + "..."
        found.append(
            ProcessInfo(
                pid=int(entry),
                comm=host.text(f"{base}/comm") or "?",
                cmdline=cmdline,
                uses_pcsclite=uses,
                usb_nodes=tuple(sorted(set(nodes))),
            )
        )
    return tuple(found)


def client_library(host: Host) -> str | None:
    """The libpcsclite this process has mapped (from /proc/self/maps); None when none."""
    for line in (host.text("/proc/self/maps") or "").splitlines():
        parts = line.split()
        if len(parts) >= 6 and "libpcsclite" in parts[-1]:
            return parts[-1]
    return None
