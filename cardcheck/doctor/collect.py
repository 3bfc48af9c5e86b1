"""Gather the facts: read files under the host root and run the live probes.

The probes are a raw connect() to pcscd's socket, ``pcscd --version`` and PC/SC itself
(through the adapter). What cannot be looked at on this platform is left empty, and the
diagnosis says so.
"""

from __future__ import annotations

import os
import sys

from cardcheck.doctor.drivers import driver_bundles, load_supported_readers
from cardcheck.doctor.facts import Facts, Sandbox
from cardcheck.doctor.host import Host
from cardcheck.doctor.pcsc_state import PcscSurvey, survey
from cardcheck.doctor.pcscd import DEFAULT_IPCDIR, DEFAULT_USBDROPDIR, PCSCD_PATHS, run_version
from cardcheck.doctor.procs import client_library, processes
from cardcheck.doctor.socket_probe import probe_socket, socket_path
from cardcheck.doctor.usb import usb_devices

NFC_MODULES = ("pn533_usb", "pn533", "port100", "pn544_i2c", "nfc")
"""Kernel NFC drivers that claim USB readers pcscd would otherwise drive."""
UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
"""Where systemd unit files live, in precedence order."""
MODPROBE_DIRS = ("/etc/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d", "/run/modprobe.d")
"""Where modprobe reads blacklist lines."""
POLKIT_POLICIES = (
    "/usr/share/polkit-1/actions/org.debian.pcsc-lite.policy",
    "/usr/share/polkit-1/actions/org.debian.pcsc-lite.policy.in",
)
"""The polkit policy pcsc-lite installs when built with polkit."""


def _sandbox(host: Host) -> Sandbox | None:
    env = host.env
    if host.exists("/.flatpak-info") or env.get("FLATPAK_ID"):
        markers = [m for m in ("/.flatpak-info",) if host.exists(m)]
        if env.get("FLATPAK_ID"):
            markers.append(f"FLATPAK_ID={env['FLATPAK_ID']}")
        return Sandbox("flatpak", tuple(markers), env.get("FLATPAK_ID"))
    if env.get("SNAP_NAME") or env.get("SNAP"):
        markers = [f"{k}={env[k]}" for k in ("SNAP_NAME", "SNAP") if env.get(k)]
        return Sandbox("snap", tuple(markers), env.get("SNAP_NAME"))
    markers = [m for m in ("/.dockerenv", "/run/.containerenv") if host.exists(m)]
    if env.get("container"):
        markers.append(f"container={env['container']}")
    cgroup = host.text("/proc/1/cgroup") or ""
    for word in ("docker", "kubepods", "lxc", "containerd", "libpod"):
        if word in cgroup:
            markers.append(f"/proc/1/cgroup mentions {word}")
            break
    return Sandbox("container", tuple(markers)) if markers else None


def _unit(host: Host, name: str) -> str | None:
    for directory in UNIT_DIRS:
        if host.exists(f"{directory}/{name}"):
            return f"{directory}/{name}"
    return None


def _unit_user(host: Host) -> str | None:
    user: str | None = None
    texts = []
    main = _unit(host, "pcscd.service")
    if main is not None:
        texts.append(host.text(main) or "")
    for directory in UNIT_DIRS:
        dropins = f"{directory}/pcscd.service.d"
        texts.extend(host.text(f"{dropins}/{n}") or "" for n in host.listdir(dropins))
    for text in texts:
        for line in text.splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key.strip() == "User":
                user = value.strip() or None
    return user


def _blacklisted(host: Host) -> frozenset[str]:
    names: set[str] = set()
    for directory in MODPROBE_DIRS:
        for entry in host.listdir(directory):
            for line in (host.text(f"{directory}/{entry}") or "").splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] == "blacklist":
                    names.add(words[1])
                if (
                    len(words) >= 3
                    and words[0] == "install"
                    and words[2]
                    in (
                        "/bin/false",
                        "/bin/true",
                        "/usr/bin/false",
                        "/usr/bin/true",
                    )
                ):
                    names.add(words[1])
    return frozenset(names)


def _scdaemon(host: Host) -> tuple[str | None, frozenset[str]]:
    gnupg = host.env.get("GNUPGHOME")
    home = host.home()
    if not gnupg and home:
        gnupg = f"{home.rstrip('/')}/.gnupg"
    if not gnupg:
        return None, frozenset()
    path = f"{gnupg.rstrip('/')}/scdaemon.conf"
    text = host.text(path)
    if text is None and not host.exists(path):
        return None, frozenset()
    options = {
        line.split()[0]
        for line in (text or "").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    return path, frozenset(options)


def collect(
    host: Host | None = None,
    *,
    platform: str | None = None,
    ask_pcsc: bool = True,
    supported_readers: str | None = None,
    pcsc: PcscSurvey | None = None,
) -> Facts:
    """Read and probe everything doctor needs. Never raises for what it cannot see.

    ``platform`` defaults to ``sys.platform``; on systems other than Linux only PC/SC is
    asked. ``pcsc`` gives the PC/SC survey when the caller already has it.
    """
    host = host or Host()
    platform = platform or sys.platform
    root = str(host.root)
    if pcsc is None and ask_pcsc:
        pcsc = survey()
    if not platform.startswith("linux"):
        return Facts(platform=platform, root=root, pcsc=pcsc)

    found = [p for p in PCSCD_PATHS if host.exists(p)]
    pcscd_path = found[0] if found else None
    info = None if pcscd_path is None else run_version(str(host.path(pcscd_path)))
    stray = next((p for p in found[1:] if p.startswith("/usr/local/")), None)
    path, from_env = socket_path(host.env, None if info is None else info.ipcdir)
    socket = probe_socket(path, from_env=from_env)
    ipcdir = DEFAULT_IPCDIR if info is None else info.ipcdir
    pid_text = host.text(f"{ipcdir}/pcscd.pid")
    pid_alive = None
    if pid_text is not None:
        stat = host.text(f"/proc/{pid_text}/stat") if pid_text.isdigit() else None
        # "PID (comm) STATE ...": a zombie (Z) or dead (X) process is not running.
        pid_alive = stat is not None and stat.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])
    usbdropdir = DEFAULT_USBDROPDIR if info is None else info.usbdropdir
    supported = load_supported_readers(host, supported_readers)
    scdaemon_conf, scdaemon_options = _scdaemon(host)
    self_pid = os.getpid() if root == "/" else None
    return Facts(
        platform=platform,
        root=root,
        pcscd_path=pcscd_path,
        pcscd=info,
        stray_pcscd=stray,
        socket=socket,
        socket_unit=_unit(host, "pcscd.socket") is not None,
        socket_enabled=host.exists("/etc/systemd/system/sockets.target.wants/pcscd.socket"),
        pid_file=pid_text,
        pid_alive=pid_alive,
        pcscd_user=_unit_user(host),
        polkit_policy=next((p for p in POLKIT_POLICIES if host.exists(p)), None),
        pcsc=pcsc,
        sandbox=_sandbox(host),
        ssh=host.env.get("SSH_CONNECTION") or None,
        client_library=client_library(host),
        usb=usb_devices(host),
        usbdropdir=usbdropdir,
        usbdropdir_exists=host.is_dir(usbdropdir),
        bundles=driver_bundles(host, usbdropdir),
        supported_path=None if supported is None else supported[0],
        supported={} if supported is None else supported[1],
        processes=processes(host, skip_pid=self_pid),
        all_processes_visible=os.geteuid() == 0,
        loaded_modules=frozenset(m for m in NFC_MODULES if host.is_dir(f"/sys/module/{m}")),
        blacklisted_modules=_blacklisted(host),
        udev_running=host.is_dir("/run/udev"),
        scdaemon_conf=scdaemon_conf,
        scdaemon_options=scdaemon_options,
    )
