"""The body of ``cardcheck atr``: read ATRs, decode, identify, print; free of typer.

Both the typer command (:mod:`cardcheck.cli`) and the start-up fast path
(:mod:`cardcheck.fastpath`) call :func:`run_atr` through :func:`cardcheck.commands.atr.atr`, so
they cannot drift apart.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from cardcheck.errors import ExitCode, InputError
from cardcheck.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from cardcheck.atr.model import AtrInfo
    from cardcheck.db import Database, Match
    from cardcheck.db.index import ListIndex
    from cardcheck.errors import CardcheckError

    _Identify = Callable[[AtrInfo], tuple[Match, ...] | None]

DEFAULT_CLOCK_MHZ = 3.5712
"""The clock most readers drive (9600 bit/s at 372/1)."""


class AtrInput(Value):
    """One ATR to decode, or one input line that could not be read as an ATR."""

    text: str
    """The input as given (arguments joined by spaces, or the file line)."""
    line: int | None
    """1-based line number in --file input; None for the command-line ATR."""
    info: AtrInfo | None
    """The decoded ATR; None when the text is not hex."""
    error: CardcheckError | None
    """Why the text could not be read; None when ``info`` is set."""


def result_for(
    info: AtrInfo,
    identified: Sequence[Match] | None,
    line: int | None = None,
    timing_hz: float | None = None,
) -> dict[str, object]:
    """The JSON object of one decoded ATR (the contract in the README).

    ``identified`` is None when identification was switched off (``--no-db``): the key is
    then left out rather than claiming the card is unknown. With ``timing_hz`` (an explicit
    ``--clock``), a ``timing`` key holds the times and rates at that clock (null when the ATR
    stops before T0).
    """
    from cardcheck.atr.jsonout import atr_to_json

    result: dict[str, object] = {} if line is None else {"line": line}
    result.update(atr_to_json(info))
    if timing_hz is not None:
        result["timing"] = timing_json(info, timing_hz)
    if identified is not None:
        result["identified"] = [m.to_json() for m in identified]
    return result


def timing_json(info: AtrInfo, clock_hz: float) -> dict[str, object] | None:
    """The ``timing`` value of the JSON: :class:`~cardcheck.atr.timing.Timing` at ``clock_hz``,
    or None when the ATR stops before T0 (as the human view leaves its timing out)."""
    from cardcheck.atr.timing import timing_for

    return None if info.t0 is None else timing_for(info, clock_hz).to_json()


def read_lines(path: str) -> list[str]:
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


def inputs_from_lines(
    lines: Sequence[str], start: int = 0, stop: int | None = None
) -> Iterator[AtrInput]:
    """One entry per ATR line of a ``--file`` (``lines[start:stop]``), decoded as it is
    reached; blank lines and ``#`` comments are skipped. Nothing is kept, so a long file is
    decoded and written as a stream (less memory, and less work for the garbage collector)."""
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text

    for index in range(start, len(lines) if stop is None else stop):
        number = index + 1
        text = lines[index].split("#", 1)[0].strip()
        if not text:
            continue
        try:
            data = parse_atr_text([text])
        except InputError as err:
            yield AtrInput(text, number, None, err)
            continue
        yield AtrInput(text, number, decode_atr(data), None)


def open_db(db_path: Path | None) -> Database:
    """The ATR database of the chain; skipped files are reported on stderr."""
    from cardcheck.db import open_database
    from cardcheck.render.error import print_warnings

    database = open_database(db_path)
    print_warnings(database.warnings)
    return database


def run_atr(
    parts: Sequence[str] | None,
    file: str | None,
    *,
    json_output: bool,
    clock_mhz: float | None,
    db_path: Path | None,
    use_db: bool,
    jobs: int | None = None,
) -> int:
    """Decode (and identify) the ATR in ``parts`` and/or every line of ``file``.

    ``clock_mhz`` is the reader clock of the timing section; None when not given: the human
    view then uses :data:`DEFAULT_CLOCK_MHZ` and the JSON has no ``timing`` key. With
    ``json_output``, a long ``file`` is shared between ``jobs`` processes (None: one per core,
    see :mod:`~cardcheck.commands.atr_jobs`); the output is the same.

    Returns the exit code: 0 all valid, 1 an ATR with an error finding or a bad file line.
    Raises InputError (exit 2) for bad hex on the command line or an unreadable file, and
    EnvironmentProblem (exit 3) when identification is on and there is no ATR list.
    """
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text

    first: list[AtrInput] = []
    if parts:
        # Bad hex on the command line is a usage error (exit 2), raised before any output.
        data = parse_atr_text(parts)
        first.append(AtrInput(" ".join(parts), None, decode_atr(data), None))
    # An unreadable file (exit 2) and a missing ATR list (exit 3) also stop before any output.
    lines = read_lines(file) if file is not None else []
    database = open_db(db_path) if use_db else None

    if json_output:
        write = sys.stdout.write
        timing_hz = None if clock_mhz is None else clock_mhz * 1_000_000.0
        failed = _print_json(first, database, write, timing_hz)
        if lines:
            from cardcheck.commands import atr_jobs

            def work(start: int, stop: int, write: Callable[[str], object]) -> bool:
                inputs = inputs_from_lines(lines, start, stop)
                return _print_json(inputs, database, write, timing_hz)

            count = len(lines)
            failed |= atr_jobs.run_parts(
                count, atr_jobs.auto_jobs(count) if jobs is None else jobs, work, write
            )
    else:

        def identify(info: AtrInfo) -> tuple[Match, ...] | None:
            return None if database is None else database.identify(info.raw)

        inputs = itertools.chain(first, inputs_from_lines(lines))
        clock_hz = (DEFAULT_CLOCK_MHZ if clock_mhz is None else clock_mhz) * 1_000_000.0
        failed = _print_human(inputs, clock_hz, identify)
    return int(ExitCode.FAILED if failed else ExitCode.OK)


def _print_json(
    inputs: Iterable[AtrInput],
    database: Database | None,
    write: Callable[[str], object],
    timing_hz: float | None = None,
) -> bool:
    """One JSON object per line: the text of ``json.dumps(result_for(...))``, written directly.

    :func:`~cardcheck.atr.jsonout.atr_json_text` writes the decoded ATR without building its
    dict (the costly part of a long ``--file``); each matching entry's JSON text is made once
    from the index, without a :class:`~cardcheck.db.Match`; lines are written in batches.
    """
    import json
    from json.encoder import encode_basestring as quote

    from cardcheck.atr.jsonout import atr_json_text, input_error_json

    # For each source of entries (the list, then the local additions, as Database.identify
    # orders them): entry number -> the text of json.dumps(match.to_json(), ensure_ascii=False)
    # for the Match that Database.identify would give for that entry, made when first needed.
    sources: list[tuple[ListIndex, str, dict[int, str]]] = []
    if database is not None:
        from cardcheck.db.index import atr_text
        from cardcheck.db.model import MatchSource

        sources.append((database.index, quote(MatchSource.LIST._value_), {}))
        if database.local_index is not None:
            sources.append((database.local_index, quote(MatchSource.LOCAL._value_), {}))

    def identified_text(raw: bytes) -> str:
        text = atr_text(raw)
        parts = []
        for index, source, texts in sources:
            for number in index.lookup(text):
                part = texts.get(number)
                if part is None:
                    descriptions = ", ".join(map(quote, index.descriptions(number)))
                    part = texts[number] = (
                        f'{{"pattern": {quote(index.pattern(number))}, '
                        f'"exact": {"false" if index.is_pattern(number) else "true"}, '
                        f'"descriptions": [{descriptions}], "source": {source}}}'
                    )
                parts.append(part)
        return ", ".join(parts)

    batch: list[str] = []
    failed = False
    for item in inputs:
        info = item.info
        if info is not None:
            if not info.valid:
                failed = True
            text = atr_json_text(info, line=item.line)
            if timing_hz is not None:
                timing = json.dumps(timing_json(info, timing_hz), ensure_ascii=False)
                text = f'{text[:-1]}, "timing": {timing}}}'
            if database is not None:
                text = f'{text[:-1]}, "identified": [{identified_text(info.raw)}]}}'
        else:
            assert item.error is not None
            failed = True
            text = json.dumps(
                input_error_json(item.text, item.error, line=item.line), ensure_ascii=False
            )
        batch.append(text)
        if len(batch) >= _BATCH:
            write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        write("\n".join(batch) + "\n")
    return failed


_BATCH = 256
"""JSON lines joined into one write."""


def _print_human(inputs: Iterable[AtrInput], clock_hz: float, identify: _Identify) -> bool:
    from cardcheck.render.atr import render_atr, render_input_error
    from cardcheck.render.console import LineConsole

    console = LineConsole()
    failed = False
    for index, item in enumerate(inputs):
        if index:
            console.print()
            console.rule()
        if item.info is not None:
            render_atr(console, item.info, clock_hz, line=item.line, identified=identify(item.info))
            failed = failed or not item.info.valid
        else:
            assert item.error is not None
            failed = True
            render_input_error(console, item.text, item.error, line=item.line)
    return failed
