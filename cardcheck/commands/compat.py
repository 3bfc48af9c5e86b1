"""`cardcheck compat`: will this card work in that reader? An offline what-if.

The reader is a CCID class descriptor file (54 bytes or a whole USB descriptor blob, binary
or hex) and/or values given by hand. Only typer is imported at module level.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cardcheck import options
from cardcheck.cli import app
from cardcheck.errors import ExitCode, InputError

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
    from dataclasses import replace

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


@app.command()
def compat(
    ctx: typer.Context,
    atr: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ATR...",
            help="The card's ATR in hex, e.g. 3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13.",
            show_default=False,
        ),
    ] = None,
    descriptor: Annotated[
        str | None,
        typer.Option(
            "--descriptor",
            "-d",
            metavar="FILE",
            help="The reader's 54-byte CCID class descriptor (binary or hex text), or a whole "
            "USB descriptor blob such as sysfs `descriptors`; - for standard input.",
        ),
    ] = None,
    clock: Annotated[
        float | None,
        typer.Option(
            "--clock",
            metavar="MHz",
            parser=options.for_click(options.clock_mhz),
            help="The reader's card clock in MHz (overrides the descriptor).",
        ),
    ] = None,
    max_rate: Annotated[
        int | None,
        typer.Option(
            "--max-rate",
            metavar="BPS",
            parser=options.for_click(options.max_rate_bps),
            help="The reader's maximum data rate in bit/s (overrides the descriptor).",
        ),
    ] = None,
    voltages: Annotated[
        str | None,
        typer.Option(
            "--voltages",
            metavar="5,3,1.8",
            help="Voltages the reader supplies (overrides the descriptor).",
        ),
    ] = None,
    protocols: Annotated[
        str | None,
        typer.Option(
            "--protocols",
            metavar="0,1",
            help="Protocols the reader supports (overrides the descriptor).",
        ),
    ] = None,
    data_rates: Annotated[
        str | None,
        typer.Option(
            "--data-rates",
            metavar="BPS,...",
            help="The reader's data rate table (GET_DATA_RATES, as libccid's `parse` lists "
            "it); 'none' for a reader without one.",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object: verdict, findings, reader, speed.")
    ] = False,
) -> None:
    """Will this card work in that reader? Protocol, voltage, speed and clock, offline.

    Predicts what pcscd and libccid will negotiate (who does the PPS, the bit rate, the
    protocol) and says what to change when it will not work.

    Exit codes: 0 pass or warn; 1 fail; 2 bad ATR, unreadable or bad descriptor file, or no
    reader given.
    """
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text
    from cardcheck.compat.rules import Verdict, compatibility

    if not atr:
        ctx.fail("Missing argument 'ATR...': give the card's ATR in hex.")
    info = decode_atr(parse_atr_text(atr))
    reader = _with_rates(_reader(descriptor, clock, max_rate, voltages, protocols), data_rates)
    report = compatibility(info, reader)

    try:
        if json_output:
            import json

            sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            from cardcheck.render.compat import render_compat
            from cardcheck.render.console import make_console

            render_compat(make_console(), info, report)
    except BrokenPipeError:
        # The reader went away (`| head`): end quietly, with the verdict's exit code.
        from cardcheck.render.error import silence_stdout

        silence_stdout()

    if report.verdict is Verdict.FAIL:
        raise typer.Exit(int(ExitCode.FAILED))
