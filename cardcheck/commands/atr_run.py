"""The body of ``cardcheck atr``: read ATRs, decode, identify, print; free of typer.

Both the typer command (:mod:`cardcheck.cli`) and the start-up fast path
(:mod:`cardcheck.fastpath`) call :func:`run_atr` through :func:`cardcheck.commands.atr.atr`, so
they cannot drift apart.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

from cardcheck.errors import ExitCode, InputError
from cardcheck.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO

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


LINE_LIMIT = 4096
"""Bytes of one ``--file`` line that are read and decoded. An ATR is at most 33 bytes (99
characters with separators); a longer line is ``too-long`` and the rest of it is skipped, so
that one huge line costs neither memory nor time."""

_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some editors put at the start of a text file: not an error."""

_PREVIEW = 48
"""Characters of a bad line kept as its ``input`` (a too-long or undecodable line)."""


def open_input(path: str) -> BinaryIO:
    """The binary stream of ``path`` (``-`` is stdin). Raises InputError when it cannot be
    opened (nothing is read yet: a long file or an endless pipe is read line by line)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the caller
        if os.path.isdir(path):
            stream.close()
            raise IsADirectoryError(21, "Is a directory")
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror or exc}",
            "give a readable text file with one ATR per line, or - for standard input",
        ) from exc
    return stream


def _preview(raw: bytes) -> str:
    text = raw[: _PREVIEW * 4].decode("utf-8", "replace").strip()
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + "…"


def inputs_from_stream(
    stream: BinaryIO,
    first_line: int = 1,
    start: int = 0,
    stop: int | None = None,
    name: str = "the input",
) -> Iterator[AtrInput]:
    """One entry per ATR line of ``stream`` (bytes ``start`` to ``stop`` of it, the first of
    them being line ``first_line``), read and decoded as it is reached; blank lines and ``#``
    comments are skipped. Nothing is kept: a long file or an endless pipe is decoded and
    written as a stream, in bounded memory.

    Each line is read up to :data:`LINE_LIMIT` bytes: a longer one gives a ``too-long``
    error result (the rest of it is skipped unread into memory), a line that is not UTF-8 a
    ``not-utf8`` error result with its line number; the others go on. A UTF-8 byte order
    mark at the start of the file is skipped.
    """
    from cardcheck.atr.decode import decode_atr
    from cardcheck.atr.parse_hex import parse_atr_text

    def readline(size: int) -> bytes:
        try:
            return stream.readline(size)
        except OSError as exc:  # an I/O error reading (not writing): an input error
            raise InputError(
                f"cannot read line {number} of {name}: {exc.strerror or exc}",
                "the lines before it were decoded; give a readable text file",
            ) from exc

    position = start
    number = first_line
    while stop is None or position < stop:
        raw = readline(LINE_LIMIT + 1)
        if not raw:
            break
        position += len(raw)
        if position == len(raw) and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if len(raw) > LINE_LIMIT and not raw.endswith(b"\n"):
            length = len(raw)
            while more := readline(1 << 16):
                position += len(more)
                length += len(more)
                if more.endswith(b"\n"):
                    break
            length -= 1 if more.endswith(b"\n") else 0
            yield AtrInput(
                _preview(raw),
                number,
                None,
                InputError(
                    f"line {number} is {length} bytes long: far more than an ATR (at most "
                    f"{MAX_ATR_BYTES} bytes, {3 * MAX_ATR_BYTES - 1} characters in hex)",
                    "put one ATR per line",
                    code="too-long",
                ),
            )
            number += 1
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield AtrInput(
                _preview(raw),
                number,
                None,
                InputError(
                    f"line {number} is not UTF-8 text: byte {raw[exc.start]:02X} at position "
                    f"{exc.start + 1}",
                    "an ATR line holds hex digits such as 3B 02 14 50; save the file as "
                    "UTF-8 or ASCII text",
                    code="not-utf8",
                ),
            )
            number += 1
            continue
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                data = parse_atr_text([text])
            except InputError as err:
                yield AtrInput(text, number, None, err)
            else:
                yield AtrInput(text, number, decode_atr(data), None)
        number += 1


MAX_ATR_BYTES = 33
"""ISO/IEC 7816-3: an ATR has at most 33 bytes, TS included."""


def _name(file: str | None) -> str:
    return "standard input" if file in (None, "-") else str(file)


def _regular_size(stream: BinaryIO) -> int | None:
    """The size of ``stream`` when it is a regular file that can be shared between
    processes by byte ranges; None for a pipe, a terminal or a device (read as one stream)."""
    import stat

    try:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or stream.tell() != 0 or info.st_size == 0:
            return None  # (files of /proc and /sys have size 0 but content: streamed)
    except (OSError, ValueError):
        return None
    return info.st_size


def _estimate_lines(stream: BinaryIO, size: int) -> int:
    """About how many lines a regular file of ``size`` bytes holds (from its first 64 KiB)."""
    sample = stream.read(1 << 16)
    stream.seek(0)
    if not sample:
        return 0
    return max(1, round(size * (sample.count(b"\n") or 1) / len(sample)))


def _line_starts(stream: BinaryIO, size: int, parts: int) -> list[int]:
    """``parts + 1`` byte offsets cutting a regular file into ``parts`` runs of whole lines."""
    edges = [0]
    for k in range(1, parts):
        offset = size * k // parts
        stream.seek(offset - 1)
        offset = offset - 1 + len(stream.readline())
        edges.append(max(offset, edges[-1]))
    edges.append(size)
    stream.seek(0)
    return edges


def _lines_before(path: str, offset: int) -> int:
    """How many line breaks the first ``offset`` bytes of ``path`` hold."""
    count = 0
    with open(path, "rb") as stream:
        while offset > 0:
            chunk = stream.read(min(offset, 1 << 20))
            if not chunk:
                break
            count += chunk.count(b"\n")
            offset -= len(chunk)
    return count


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
    stream = open_input(file) if file is not None else None
    try:
        database = open_db(db_path) if use_db else None
        state = _Outcome()
        try:
            _run(first, stream, file, state, database, json_output, clock_mhz, jobs)
        except BrokenPipeError:  # OutputClosed (from rich) included
            # Whoever read the output went away (`| head`): stop reading, end quietly with
            # the exit code of what was decoded so far.
            from cardcheck.render.error import silence_stdout

            silence_stdout()
    finally:
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()
    return int(ExitCode.FAILED if state.failed else ExitCode.OK)


class _Outcome:
    """Whether an ATR or a line failed so far (kept when the output is cut short)."""

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed = False


def _run(
    first: list[AtrInput],
    stream: BinaryIO | None,
    file: str | None,
    state: _Outcome,
    database: Database | None,
    json_output: bool,
    clock_mhz: float | None,
    jobs: int | None,
) -> None:
    # Standard input is always one stream (even when it is a regular file: `< atrs.txt`).
    size = None if stream is None or file in (None, "-") else _regular_size(stream)
    lines = 0 if stream is None else (_estimate_lines(stream, size) if size else 1)

    if json_output:
        write = sys.stdout.write
        timing_hz = None if clock_mhz is None else clock_mhz * 1_000_000.0
        state.failed |= _print_json(first, database, write, timing_hz)
        if stream is None:
            return
        if size is None or file is None or file == "-":
            # A pipe cannot be shared between processes: one stream, written as it comes.
            inputs = inputs_from_stream(stream, name=_name(file))
            state.failed |= _print_json(inputs, database, write, timing_hz, state, flush=True)
            return
        from cardcheck.commands import atr_jobs

        count = atr_jobs.cap_jobs(jobs, lines)
        edges = _line_starts(stream, size, count)
        path = file

        def work(part: int, stop: int, write: Callable[[str], object]) -> bool:
            begin, end = edges[part], edges[stop]
            with open(path, "rb") as own:
                own.seek(begin)
                number = 1 if begin == 0 else 1 + _lines_before(path, begin)
                inputs = inputs_from_stream(own, number, begin, end, _name(path))
                # (state: the parent's own part counts for a closed pipe; a worker's copy of
                # state is its own and is dropped)
                return _print_json(inputs, database, write, timing_hz, state)

        state.failed |= atr_jobs.run_parts(count, count, work, write)
    else:

        def identify(info: AtrInfo) -> tuple[Match, ...] | None:
            return None if database is None else database.identify(info.raw)

        rest = inputs_from_stream(stream, name=_name(file)) if stream is not None else iter(())
        clock_hz = (DEFAULT_CLOCK_MHZ if clock_mhz is None else clock_mhz) * 1_000_000.0
        _print_human(itertools.chain(first, rest), clock_hz, identify, state)


def _print_json(
    inputs: Iterable[AtrInput],
    database: Database | None,
    write: Callable[[str], object],
    timing_hz: float | None = None,
    state: _Outcome | None = None,
    *,
    flush: bool = False,
) -> bool:
    """One JSON object per line: the text of ``json.dumps(result_for(...))``, written directly.

    :func:`~cardcheck.atr.jsonout.atr_json_text` writes the decoded ATR without building its
    dict (the costly part of a long ``--file``); each matching entry's JSON text is made once
    from the index, without a :class:`~cardcheck.db.Match`; lines are written in batches.
    """
    from cardcheck.atr.jsonout import atr_json_text, input_error_json, quote

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
                import json

                timing = json.dumps(timing_json(info, timing_hz), ensure_ascii=False)
                text = f'{text[:-1]}, "timing": {timing}}}'
            if database is not None:
                text = f'{text[:-1]}, "identified": [{identified_text(info.raw)}]}}'
        else:
            assert item.error is not None
            failed = True
            import json

            text = json.dumps(
                input_error_json(item.text, item.error, line=item.line), ensure_ascii=False
            )
        if state is not None:
            state.failed = state.failed or failed
        if flush:
            # A stream (stdin): each result is written as soon as it is known.
            write(text + "\n")
            sys.stdout.flush()
            continue
        batch.append(text)
        if len(batch) >= _BATCH:
            write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        write("\n".join(batch) + "\n")
    return failed


_BATCH = 256
"""JSON lines joined into one write."""


def _print_human(
    inputs: Iterable[AtrInput], clock_hz: float, identify: _Identify, state: _Outcome
) -> None:
    from cardcheck.render.atr import render_atr, render_input_error
    from cardcheck.render.console import LineConsole

    console = LineConsole()
    for index, item in enumerate(inputs):
        if index:
            console.print()
            console.rule()
        if item.info is not None:
            state.failed = state.failed or not item.info.valid
            render_atr(console, item.info, clock_hz, line=item.line, identified=identify(item.info))
        else:
            assert item.error is not None
            state.failed = True
            render_input_error(console, item.text, item.error, line=item.line)
        console.flush()
