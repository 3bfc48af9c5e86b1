"""`cardcheck compat`: will this card work in that reader? An offline what-if.

The reader is a CCID class descriptor file (54 bytes or a whole USB descriptor blob, binary
or hex) and/or values given by hand. Its arguments and options are declared in
:data:`cardcheck.clispec.COMPAT`. Free of typer.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cardcheck.errors import ExitCode, InputError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from cardcheck.atr.model import VoltageClass
    from cardcheck.compat.rules import ReaderCapabilities


MAX_DESCRIPTOR_BYTES = 1 << 20
"""Most bytes read from --descriptor: a USB descriptor blob is a few hundred bytes, so
/dev/zero or an endless pipe is refused rather than read for ever."""


def _read_descriptor_file(path: str) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_DESCRIPTOR_BYTES + 1)
        else:
            with Path(path).open("rb") as stream:
                data = stream.read(MAX_DESCRIPTOR_BYTES + 1)
    except OSError as exc:
        where = "standard input" if path == "-" else path
        raise InputError(
            f"cannot read the descriptor {where}: {exc.strerror or exc}",
            "give a readable file: the 54-byte CCID class descriptor (binary or hex) or a "
            "USB descriptor blob such as /sys/bus/usb/devices/<bus>-<port>/descriptors",
        ) from exc
    if len(data) > MAX_DESCRIPTOR_BYTES:
        where = "standard input" if path == "-" else path
        raise InputError(
            f"the descriptor {where} holds more than {MAX_DESCRIPTOR_BYTES} bytes: not a USB "
            "descriptor",
            "give the 54-byte CCID class descriptor or a sysfs `descriptors` file",
        )
    return data


def _driver_listing(
    vendor_id: int | None, product_id: int | None
) -> tuple[bool | None, str | None]:
    """Whether the installed libccid lists the reader (None when unknown or not installed)."""
    from cardcheck.compat.driver import libccid_info_plist, load_driver_list
    from cardcheck.errors import EnvironmentProblem

    plist = libccid_info_plist()
    if vendor_id is None or product_id is None or not plist.is_file():
        return None, None
    try:
        readers = load_driver_list(plist)
    except EnvironmentProblem:
        return None, None
    found = readers.lookup(vendor_id, product_id)
    return bool(found), (found[0].name if found else None)


def _voltages(text: str | None) -> tuple[VoltageClass, ...] | None:
    from cardcheck.compat.rules import parse_voltages

    if text is None:
        return None
    try:
        return parse_voltages(text)
    except ValueError as exc:
        raise InputError(f"--voltages: {exc}", "for example --voltages 5,3,1.8") from exc


def _protocols(text: str | None) -> tuple[int, ...] | None:
    from cardcheck.compat.rules import parse_protocols

    if text is None:
        return None
    try:
        return parse_protocols(text)
    except ValueError as exc:
        raise InputError(f"--protocols: {exc}", "for example --protocols 0,1") from exc


def _reader(
    descriptor: str | None,
    clock: float | None,
    max_rate: int | None,
    voltages: str | None,
    protocols: str | None,
) -> ReaderCapabilities:
    from cardcheck.compat.ccid import load_descriptor
    from cardcheck.compat.rules import ReaderCapabilities

    volts = _voltages(voltages)
    prots = _protocols(protocols)
    if descriptor is None:
        if clock is None and max_rate is None and volts is None and prots is None:
            raise InputError(
                "no reader given",
                "give --descriptor FILE (a CCID class descriptor or a sysfs `descriptors` "
                "blob) or describe the reader: --clock MHz --max-rate BPS --voltages 5,3,1.8 "
                "--protocols 0,1",
            )
        return ReaderCapabilities.manual(
            clock_mhz=clock, max_rate_bps=max_rate, voltages=volts, protocols=prots
        )
    usb = load_descriptor(_read_descriptor_file(descriptor))
    listed, name = _driver_listing(usb.vendor_id, usb.product_id)
    caps = ReaderCapabilities.from_descriptor(usb, driver_listed=listed, driver_name=name)
    return caps.with_overrides(
        clock_mhz=clock, max_rate_bps=max_rate, voltages=volts, protocols=prots
    )


def _with_rates(reader: ReaderCapabilities, text: str | None) -> ReaderCapabilities:
    """The reader with its rate table given by hand (``--data-rates``)."""
    from cardcheck.values import replace

    if text is None:
        return reader
    hint = "for example --data-rates 9600,19200,38400 (bit/s), or --data-rates none"
    if text.strip().lower() == "none":
        return replace(reader, data_rates=None, data_rates_known=True)
    try:
        rates = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError as exc:
        raise InputError(f"--data-rates: {text!r} is not a list of bit rates", hint) from exc
    if not rates or any(rate < 0 or rate > 0xFFFFFFFF for rate in rates):
        raise InputError(f"--data-rates: {text!r} is not a list of bit rates", hint)
    return replace(reader, data_rates=rates, data_rates_known=True)


def compat(
    atr: list[str] | None = None,
    descriptor: str | None = None,
    clock: float | None = None,
    max_rate: int | None = None,
    voltages: str | None = None,
    protocols: str | None = None,
    data_rates: str | None = None,
    json_output: bool = False,
) -> int:
    """Run ``cardcheck compat`` (see :data:`cardcheck.clispec.COMPAT`); returns the exit code."""
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text
    from cardcheck.compat.rules import Verdict, compatibility

    info = decode_atr(parse_atr_text(atr or []))
    reader = _with_rates(_reader(descriptor, clock, max_rate, voltages, protocols), data_rates)
    report = compatibility(info, reader)

    try:
        if json_output:
            import json

            sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            from cardcheck.render.compat import render_compat
            from cardcheck.render.console import LineConsole

            render_compat(LineConsole(), info, report)
    except BrokenPipeError:
        # The reader went away (`| head`): end quietly, with the verdict's exit code.
        from cardcheck.render.error import silence_stdout

        silence_stdout()

    return int(ExitCode.FAILED if report.verdict is Verdict.FAIL else ExitCode.OK)
