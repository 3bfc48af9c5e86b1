"""The umockdev side of the emulation: a fake USB device and the usbfs ioctls that libusb makes.

Run with the system Python (the gi bindings of umockdev are Debian packages, not in the venv):

    /usr/bin/python3 -m cardcheck.testing.usbemu.host READER_KEY

It builds a umockdev testbed (sysfs ``/sys/devices/usb1/1-1`` with a real ``descriptors``
file and its interface ``1-1:1.0``; device node ``/dev/bus/usb/001/002``), serves the node's
ioctls (SUBMITURB, REAPURB(NDELAY), DISCARDURB, CLAIMINTERFACE, ...) from a
:class:`~cardcheck.testing.usbemu.ccid.CcidReader`, prints one JSON line with the testbed's root
and then obeys JSON commands on stdin, one answer line each on stdout (``insert``, ``remove``,
``faults``, ``log``, ``clear``, ``stop``). It ends when stdin closes, so it never outlives the
process that started it. Processes that run with ``LD_PRELOAD=libumockdev-preload.so.0`` and
``UMOCKDEV_DIR=<root>`` (pcscd, cardcheck) see the device.

umockdev's device node is a regular file, so libusb's poll() always reports it ready and libusb
reaps without end; the handler sleeps a little when there is nothing to reap (up to
``--idle-sleep`` seconds, less right after activity) so that an idle emulated reader costs
little CPU.
"""

from __future__ import annotations

import argparse
import errno
import json
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gi  # type: ignore[import-not-found]

from cardcheck.testing.usbemu.ccid import Card, CcidReader, Faults
from cardcheck.testing.usbemu.descriptors import (
    BULK_IN,
    INTERRUPT_IN,
    ReaderSpec,
    load_reader,
)

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # type: ignore[import-not-found]  # noqa: E402

SYS_DEVICE = "/sys/devices/usb1/1-1"
"""The emulated reader's sysfs directory (what libudev and cardcheck find)."""
DEV_NODE = "/dev/bus/usb/001/002"
"""Its usbfs node (bus 1, address 2: CHANNEL_ID 0x00200102)."""


def _ioc(direction: int, number: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord("U") << 8) | number


_READ, _WRITE = 2, 1
IOCTLS: dict[int, str] = {
    _ioc(_READ | _WRITE, 0, 24): "CONTROL",
    _ioc(_READ, 4, 8): "SETINTERFACE",
    _ioc(_READ, 5, 4): "SETCONFIGURATION",
    _ioc(_WRITE, 8, 260): "GETDRIVER",
    _ioc(_READ, 10, 56): "SUBMITURB",
    _ioc(0, 11, 0): "DISCARDURB",
    _ioc(_WRITE, 12, 8): "REAPURB",
    _ioc(_WRITE, 13, 8): "REAPURBNDELAY",
    _ioc(_READ, 15, 4): "CLAIMINTERFACE",
    _ioc(_READ, 16, 4): "RELEASEINTERFACE",
    _ioc(_WRITE, 17, 8): "CONNECTINFO",
    _ioc(_READ | _WRITE, 18, 16): "IOCTL",
    _ioc(0, 20, 0): "RESET",
    _ioc(_READ, 21, 4): "CLEAR_HALT",
    _ioc(_READ, 26, 4): "GET_CAPABILITIES",
    _ioc(_READ, 27, 264): "DISCONNECT_CLAIM",
    _ioc(0, 31, 0): "GET_SPEED",
}
_ACCEPTED = {
    "CLAIMINTERFACE",
    "RELEASEINTERFACE",
    "CLEAR_HALT",
    "RESET",
    "SETCONFIGURATION",
    "SETINTERFACE",
}
_CAPABILITIES = 0x01 | 0x02 | 0x04 | 0x10
"""ZERO_PACKET, BULK_CONTINUATION, NO_PACKET_SIZE_LIM, REAP_AFTER_DISCONNECT."""
URB_INTERRUPT, URB_CONTROL, URB_BULK = 1, 2, 3
URB_SIZE = 56
"""sizeof(struct usbdevfs_urb) on 64-bit Linux, without iso frames."""


class Urb:
    """One submitted URB: its memory in the client and whether it is complete."""

    def __init__(self, memory: Any, buffer: Any, kind: int, endpoint: int, length: int) -> None:
        self.memory = memory
        self.buffer = buffer
        self.kind = kind
        self.endpoint = endpoint
        self.length = length
        self.done = False

    def finish(self, payload: bytes | None, status: int = 0, actual: int | None = None) -> None:
        """Write the answer (None: an OUT transfer, all sent) and mark it complete."""
        count = self.length
        if payload is not None:
            count = min(len(payload), self.length)
            if self.buffer is not None and count:
                self.buffer.update(0, payload[:count])
        self.memory.update(4, struct.pack("<i", status))
        self.memory.update(28, struct.pack("<i", count if actual is None else actual))
        self.done = True


class UsbfsHandler:
    """Serves usbfs ioctls on the emulated node from a CCID reader model."""

    def __init__(self, reader: CcidReader, idle_sleep: float) -> None:
        self.reader = reader
        self.idle_sleep = idle_sleep
        self.urbs: list[Urb] = []
        self.reaped_discards: list[Urb] = []
        self.counts: dict[str, int] = {}
        self.last_activity = time.monotonic()
        self.base = UMockdev.IoctlBase()
        self.base.connect("handle-ioctl", self.handle)

    def handle(self, _base: Any, client: Any) -> bool:
        request = client.get_request()
        name = IOCTLS.get(request, f"0x{request:08X}")
        self.counts[name] = self.counts.get(name, 0) + 1
        try:
            self._handle(name, request, client)
        except Exception as exc:  # a broken request must not stop the handler thread
            self.reader.record("handler_error", ioctl=name, error=repr(exc))
            client.complete(-1, errno.EIO)
        return True

    def _handle(self, name: str, request: int, client: Any) -> None:
        arg = client.get_arg()
        if name == "GET_CAPABILITIES":
            arg.resolve(0, 4).update(0, struct.pack("<I", _CAPABILITIES))
            client.complete(0, 0)
        elif name in _ACCEPTED:
            client.complete(0, 0)
        elif name == "SUBMITURB":
            memory = arg.resolve(0, URB_SIZE)
            raw = bytes(memory.retrieve())
            length = struct.unpack_from("<i", raw, 24)[0]
            buffer = memory.resolve(16, length) if length > 0 else None
            urb = Urb(memory, buffer, raw[0], raw[1], length)
            self.last_activity = time.monotonic()
            self.urbs.append(urb)
            self._submitted(urb)
            client.complete(0, 0)
        elif name in ("REAPURB", "REAPURBNDELAY"):
            out = arg.resolve(0, 8)
            reaped = self._reapable()
            if reaped is None and self.idle_sleep:
                idle = time.monotonic() - self.last_activity
                time.sleep(min(self.idle_sleep, idle / 20))
                reaped = self._reapable()
            if reaped is None:
                client.complete(-1, errno.EAGAIN)
            else:
                self.last_activity = time.monotonic()
                out.set_ptr(0, reaped.memory)
                client.complete(0, 0)
        elif name == "DISCARDURB":
            address = struct.unpack("<Q", bytes(arg.retrieve())[:8])[0]
            for urb in self.urbs:
                if urb.memory.client_addr == address and not urb.done:
                    self.urbs.remove(urb)
                    urb.memory.update(4, struct.pack("<i", -errno.ENOENT))
                    self.reaped_discards.append(urb)
                    client.complete(0, 0)
                    break
            else:
                client.complete(-1, errno.EINVAL)
        else:
            self.reader.record("unhandled_ioctl", ioctl=name)
            client.complete(-1, errno.ENOTTY)

    def _submitted(self, urb: Urb) -> None:
        if urb.kind == URB_CONTROL and urb.buffer is not None:
            setup = bytes(urb.buffer.retrieve())
            request_type, request, value, index, length = struct.unpack_from("<BBHHH", setup, 0)
            data = setup[8 : 8 + length] if not request_type & 0x80 else b""
            answer = self.reader.control(request_type, request, value, index, length, data)
            if answer is None:
                urb.finish(b"", status=-errno.EPIPE, actual=0)
            elif request_type & 0x80:
                urb.finish(setup[:8] + answer, actual=len(answer))
            else:
                urb.finish(None, actual=length)
        elif urb.kind == URB_BULK and not urb.endpoint & 0x80 and urb.buffer is not None:
            self.reader.bulk_out(bytes(urb.buffer.retrieve()))
            urb.finish(None)
        # IN transfers complete when the model has something for them (see _reapable)

    def _reapable(self) -> Urb | None:
        if self.reaped_discards:
            return self.reaped_discards.pop(0)
        for urb in self.urbs:
            if not urb.done and urb.endpoint == BULK_IN:
                answer = self.reader.next_bulk_in()
                if answer is not None:
                    urb.finish(answer)
            elif not urb.done and urb.endpoint == INTERRUPT_IN:
                note = self.reader.next_interrupt()
                if note is not None:
                    urb.finish(note)
            if urb.done:
                self.urbs.remove(urb)
                return urb
        return None


def _sysfs_text(spec: ReaderSpec) -> str:
    """The testbed in umockdev's record format: the root hub, the reader, its interface."""
    endpoints = len(spec.endpoints())
    return f"""P: /devices/usb1
N: bus/usb/001/001
E: DEVNAME=/dev/bus/usb/001/001
E: SUBSYSTEM=usb
E: DEVTYPE=usb_device
E: BUSNUM=001
E: DEVNUM=001
A: busnum=1
A: devnum=1
A: idVendor=1d6b
A: idProduct=0002
A: speed=480
A: dev=189:0

P: /devices/usb1/1-1
N: bus/usb/001/002
E: DEVNAME=/dev/bus/usb/001/002
E: SUBSYSTEM=usb
E: DEVTYPE=usb_device
E: DRIVER=usb
E: PRODUCT={spec.vendor_id:x}/{spec.product_id:x}/{spec.bcd_device:x}
E: TYPE=0/0/0
E: BUSNUM=001
E: DEVNUM=002
E: MAJOR=189
E: MINOR=1
A: busnum=1
A: devnum=2
A: dev=189:1
A: idVendor={spec.vendor_id:04x}
A: idProduct={spec.product_id:04x}
A: bcdDevice={spec.bcd_device:04x}
A: bDeviceClass=00
A: bConfigurationValue=1
A: bNumInterfaces= 1
A: speed=12
A: manufacturer={spec.manufacturer}\\n
A: product={spec.product}\\n
A: serial=EMU0001\\n
H: descriptors={spec.sysfs_descriptors().hex()}

P: /devices/usb1/1-1/1-1:1.0
E: SUBSYSTEM=usb
E: DEVTYPE=usb_interface
E: INTERFACE={spec.interface_class}/0/{spec.interface_protocol}
E: PRODUCT={spec.vendor_id:x}/{spec.product_id:x}/{spec.bcd_device:x}
A: bInterfaceNumber=00
A: bInterfaceClass={spec.interface_class:02x}
A: bInterfaceProtocol={spec.interface_protocol:02x}
A: bAlternateSetting= 0
A: bNumEndpoints={endpoints:02x}
"""


def _card(command: dict[str, Any]) -> Card:
    warm = command.get("warm_atr")
    voltages = command.get("voltages")
    return Card(
        atr=bytes.fromhex(command["atr"]),
        warm_atr=bytes.fromhex(warm) if warm else None,
        voltages=tuple(voltages) if voltages is not None else None,
        pps=str(command.get("pps", "accept")),
    )


def _obey(command: dict[str, Any], reader: CcidReader, handler: UsbfsHandler) -> dict[str, Any]:
    op = command.get("op")
    if op == "insert":
        reader.insert(_card(command))
    elif op == "remove":
        reader.remove()
    elif op == "faults":
        with reader.lock:
            reader.faults = Faults(
                silent_after=command.get("silent_after"),
                silent_count=int(command.get("silent_count", 1)),
                remove_on_pps=bool(command.get("remove_on_pps", False)),
            )
            reader.silent = False
            reader.counts.clear()
    elif op == "log":
        with reader.lock:
            return {"ok": True, "log": list(reader.log), "ioctls": dict(handler.counts)}
    elif op == "clear":
        with reader.lock:
            reader.log.clear()
    elif op == "stop":
        return {"ok": True, "stop": True}
    else:
        return {"ok": False, "error": f"unknown op {op!r}"}
    return {"ok": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("reader", help="the reader's dump name in all_readers_parsed.json")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--atr", help="a card already in the reader at the start (hex)")
    parser.add_argument("--idle-sleep", type=float, default=0.01)
    args = parser.parse_args(argv)

    spec = (
        load_reader(args.reader)
        if args.data_dir is None
        else load_reader(args.reader, args.data_dir)
    )
    reader = CcidReader(spec)
    if args.atr:
        reader.card = Card(atr=bytes.fromhex(args.atr))
    testbed = UMockdev.Testbed.new()
    testbed.add_from_string(_sysfs_text(spec))
    handler = UsbfsHandler(reader, args.idle_sleep)
    testbed.attach_ioctl(DEV_NODE, handler.base)
    ready = {"root": testbed.get_root_dir(), "sys": SYS_DEVICE, "dev": DEV_NODE}
    print(json.dumps(ready), flush=True)

    lock = threading.Lock()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            command = json.loads(line)
            with lock:
                answer = _obey(command, reader, handler)
        except (ValueError, KeyError, TypeError) as exc:
            answer = {"ok": False, "error": repr(exc)}
        print(json.dumps(answer), flush=True)
        if answer.get("stop"):
            break
    del testbed  # removes the testbed's directory
    return 0


if __name__ == "__main__":
    sys.exit(main())
