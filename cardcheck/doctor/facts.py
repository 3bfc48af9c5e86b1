"""Everything doctor observed, as one value: the input of the pure diagnosis."""

from __future__ import annotations

from dataclasses import dataclass, field

from cardcheck.doctor.drivers import DriverBundle, SupportedEntry
from cardcheck.doctor.pcsc_state import PcscSurvey
from cardcheck.doctor.pcscd import PcscdInfo
from cardcheck.doctor.procs import ProcessInfo
from cardcheck.doctor.socket_probe import SocketProbe
from cardcheck.doctor.usb import UsbDeviceFacts


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A sandbox or container this process runs in."""

    kind: str
    """``flatpak``, ``snap`` or ``container``."""
    markers: tuple[str, ...]
    """What gave it away (``/.flatpak-info``, ``SNAP_NAME=firefox``...)."""
    app: str | None = None
    """The app id (Flatpak) or snap name, when known."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What was read and probed; every field None/empty when it could not be looked at."""

    platform: str
    """``sys.platform``."""
    root: str
    """The root files were read under."""
    pcscd_path: str | None = None
    """The pcscd executable found (path on the host); None when not installed."""
    pcscd: PcscdInfo | None = None
    """Its ``--version`` answer."""
    stray_pcscd: str | None = None
    """A second pcscd in /usr/local (a build of its own), when there is one besides another."""
    socket: SocketProbe | None = None
    """The raw connect() to the client's socket; None when not tried (not Unix)."""
    socket_unit: bool = False
    """A pcscd.socket systemd unit is installed."""
    socket_enabled: bool = False
    """pcscd.socket is enabled (under sockets.target.wants)."""
    pid_file: str | None = None
    """The content of pcscd's pid file, when there is one."""
    pid_alive: bool | None = None
    """Whether /proc has that pid; None without a pid file."""
    pcscd_user: str | None = None
    """``User=`` of the pcscd unit (or a drop-in), when set."""
    polkit_policy: str | None = None
    """The pcsc-lite polkit policy file, when installed."""
    pcsc: PcscSurvey | None = None
    """What PC/SC said; None when it was not asked."""
    sandbox: Sandbox | None = None
    """The sandbox this process runs in; None on the host."""
    ssh: str | None = None
    """SSH_CONNECTION, when set."""
    client_library: str | None = None
    """The libpcsclite this process mapped."""
    usb: tuple[UsbDeviceFacts, ...] | None = None
    """USB devices in sysfs; None when sysfs could not be read."""
    usbdropdir: str | None = None
    """pcscd's driver directory."""
    usbdropdir_exists: bool = False
    """Whether it exists under the root."""
    bundles: tuple[DriverBundle, ...] = ()
    """Driver bundles found there."""
    supported_path: str | None = None
    """The supported_readers.txt read, when one was found."""
    supported: dict[tuple[int, int], tuple[SupportedEntry, ...]] = field(default_factory=dict)
    """Its entries by USB id."""
    processes: tuple[ProcessInfo, ...] = ()
    """PC/SC clients and USB node holders that could be seen."""
    all_processes_visible: bool = False
    """True when running as root (every process's maps and fds are readable)."""
    loaded_modules: frozenset[str] = frozenset()
    """Kernel modules of interest that are loaded (/sys/module)."""
    blacklisted_modules: frozenset[str] = frozenset()
    """Modules named on a ``blacklist`` line in /etc/modprobe.d or /usr/lib/modprobe.d."""
    udev_running: bool = False
    """/run/udev exists (hotplug events reach pcscd through libudev)."""
    scdaemon_conf: str | None = None
    """The path of GnuPG's scdaemon.conf, when there is one."""
    scdaemon_options: frozenset[str] = frozenset()
    """The option words set in it (``pcsc-shared``, ``disable-ccid``...)."""
