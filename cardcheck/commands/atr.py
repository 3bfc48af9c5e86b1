"""`cardcheck atr`: decode and explain ATRs given on the command line or in a file.

Only typer is imported at module level; the decoder and rich are imported inside the command
so that ``cardcheck --help`` and the other commands start fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cardcheck.cli import app
from cardcheck.errors import ExitCode, InputError

if TYPE_CHECKING:
    from cardcheck.atr.model import AtrInfo
    from cardcheck.errors import CardcheckError

DEFAULT_CLOCK_MHZ = 3.5712
"""The clock most readers drive (9600 bit/s at 372/1)."""


@dataclass(frozen=True, slots=True)
class AtrInput:
    """One ATR to decode, or one input line that could not be read as an ATR."""

    text: str
    """The input as given (arguments joined by spaces, or the file line)."""
    line: int | None
    """1-based line number in --file input; None for the command-line ATR."""
    info: AtrInfo | None
    """The decoded ATR; None when the text is not hex."""
    error: CardcheckError | None
    """Why the text could not be read; None when ``info`` is set."""


def _result_for(info: AtrInfo, line: int | None = None) -> dict[str, object]:
    """The JSON object of one decoded ATR: the one place a per-ATR result is built.

    Extension point: card identification adds its ``identified`` list here.
    """
    from cardcheck.atr.jsonout import atr_to_json

    result: dict[str, object] = {} if line is None else {"line": line}
    result.update(atr_to_json(info))
    return result


def _read_lines(path: str) -> list[str]:
    """The lines of ``path`` (``-`` is stdin). Raises InputError when it cannot be read."""
    try:
        if path == "-":
            return sys.stdin.read().splitlines()
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        where = "standard input" if path == "-" else path
        raise InputError(
            f"cannot read {where}: {exc}",
            "give a readable text file with one ATR per line, or - for standard input",
        ) from exc


def _inputs_from_file(path: str) -> list[AtrInput]:
    """One entry per ATR line of ``path``; blank lines and ``#`` comments are skipped."""
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text

    out: list[AtrInput] = []
    for number, raw_line in enumerate(_read_lines(path), start=1):
        text = raw_line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            data = parse_atr_text([text])
        except InputError as err:
            out.append(AtrInput(text, number, None, err))
            continue
        out.append(AtrInput(text, number, decode_atr(data), None))
    return out


@app.command()
def atr(
    ctx: typer.Context,
    atr: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ATR...",
            help="The ATR in hex, e.g. 3B 02 14 50 (spaces, colons or no separators).",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-f",
            metavar="PATH|-",
            help="Read ATRs from a file, one per line (# comments, blank lines skipped); "
            "- for standard input.",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="One JSON object per ATR, one per line (JSON Lines)."),
    ] = False,
    clock: Annotated[
        float,
        typer.Option(
            "--clock",
            metavar="MHz",
            min=0.001,
            max=1000.0,
            help="Reader clock for the timing section, in MHz.",
        ),
    ] = DEFAULT_CLOCK_MHZ,
) -> None:
    """Decode an ATR: structure, protocols, speed and timing, historical bytes, problems.

    Exit codes: 0 every ATR is valid; 1 an ATR has an error, or a --file line is not hex;
    2 text that is not hex on the command line, or an unreadable file.
    """
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text

    if not atr and file is None:
        ctx.fail("Missing argument 'ATR...': give an ATR, or --file PATH.")

    inputs: list[AtrInput] = []
    if atr:
        # Bad hex on the command line is a usage error (exit 2), raised before any output.
        data = parse_atr_text(atr)
        inputs.append(AtrInput(" ".join(atr), None, decode_atr(data), None))
    if file is not None:
        inputs.extend(_inputs_from_file(file))

    if json_output:
        _print_json(inputs)
    else:
        _print_human(inputs, clock * 1_000_000.0)

    failed = any(i.info is None or not i.info.valid for i in inputs)
    if failed:
        raise typer.Exit(int(ExitCode.FAILED))


def _print_json(inputs: list[AtrInput]) -> None:
    import json

    from cardcheck.atr.jsonout import input_error_json

    for item in inputs:
        if item.info is not None:
            obj = _result_for(item.info, item.line)
        else:
            assert item.error is not None
            obj = input_error_json(item.text, item.error, line=item.line)
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _print_human(inputs: list[AtrInput], clock_hz: float) -> None:
    from cardcheck.render.atr import render_atr, render_input_error
    from cardcheck.render.console import make_console

    console = make_console()
    for index, item in enumerate(inputs):
        if index:
            console.print()
            console.rule()
        if item.info is not None:
            render_atr(console, item.info, clock_hz, line=item.line)
        else:
            assert item.error is not None
            render_input_error(console, item.text, item.error, line=item.line)
