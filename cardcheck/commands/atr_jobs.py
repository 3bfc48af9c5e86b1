"""Share a long ``cardcheck atr --file`` between worker processes, output kept in order.

Decoding is pure Python and CPU-bound, so one process uses one core. For a long file on a
machine with more cores, :func:`run_parts` forks workers for the later parts of the file;
each writes its JSON lines to its own anonymous temporary file, in the output's encoding. The
parent does the first part itself, writing straight to stdout, then copies each worker's
output in order. A worker that fails in any way (killed, an exception) is not trusted: the
parent does that part again itself, as it does a part for which no worker could be started
(no temporary file, no process left). The output is byte for byte the same as
with one process (``tests/test_atr_jobs.py``).
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from typing import BinaryIO

Work = Callable[[int, int, Callable[[str], object]], bool]
"""work(start, stop, write): write lines[start:stop]'s output; True when one failed (exit 1)."""

MIN_LINES_PER_JOB = 1500
"""Below this many lines a part is not worth a process (a fork costs a few milliseconds)."""
MAX_JOBS = 8
"""More processes than this gain little: the parent's copying of output starts to count."""

_WORKER_CRASHED = 70
"""Exit code of a worker that did not finish its part (EX_SOFTWARE)."""


def available_cores() -> int:
    """The cores this process may run on (its affinity mask; all of them on macOS)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS: no affinity masks
        return os.cpu_count() or 1


def auto_jobs(line_count: int) -> int:
    """How many processes to use for ``line_count`` lines: one per available core, at most
    :data:`MAX_JOBS`, and none for less than :data:`MIN_LINES_PER_JOB` lines each."""
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(available_cores(), MAX_JOBS, line_count // MIN_LINES_PER_JOB))


def cap_jobs(requested: int | None, line_count: int) -> int:
    """The processes to use for ``--jobs requested`` (None: :func:`auto_jobs`): never more
    than the available cores (more only take turns on them and copy more output) nor than
    the lines."""
    if requested is None:
        return auto_jobs(line_count)
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(requested, available_cores(), line_count))


def bounds(line_count: int, jobs: int) -> list[tuple[int, int]]:
    """``jobs`` contiguous (start, stop) ranges covering ``line_count`` lines, sizes within one."""
    jobs = max(1, min(jobs, line_count)) if line_count else 1
    size, extra = divmod(line_count, jobs)
    out = []
    start = 0
    for index in range(jobs):
        stop = start + size + (1 if index < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def run_parts(line_count: int, jobs: int, work: Work, write: Callable[[str], object]) -> bool:
    """Run ``work`` over ``line_count`` lines in ``jobs`` processes; its output goes to
    ``write`` (stdout's) in line order. Returns True when any part failed (exit 1)."""
    parts = bounds(line_count, jobs)
    if len(parts) == 1 or not hasattr(os, "fork"):
        return work(0, line_count, write)
    import contextlib
    import tempfile

    stream = sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "strict"
    workers: list[_Worker] = []
    with contextlib.ExitStack() as files:
        try:
            for start, stop in parts[1:]:
                try:
                    output = files.enter_context(tempfile.TemporaryFile(prefix="cardcheck-atr-"))
                    pid = _fork_worker(work, start, stop, output.fileno(), encoding, errors)
                except OSError:  # no temporary file or no process to be had: done here
                    workers.append(_Worker(start, stop, None, None))
                    continue
                workers.append(_Worker(start, stop, pid, output))
            failed = work(parts[0][0], parts[0][1], write)
            for worker in workers:
                code = _WORKER_CRASHED if worker.pid is None else _wait(worker.pid)
                worker.pid = None
                if code in (0, 1) and worker.output is not None:
                    failed |= code == 1
                    _copy(worker.output, write, encoding, errors)
                else:
                    failed |= work(worker.start, worker.stop, write)
            return failed
        finally:
            for worker in workers:
                if worker.pid is not None:
                    _stop_worker(worker.pid)


class _Worker:
    """One part of the lines, with the pid of its worker until reaped and the worker's output
    file; no pid and no file when no worker could be started for it."""

    __slots__ = ("output", "pid", "start", "stop")

    def __init__(self, start: int, stop: int, pid: int | None, output: BinaryIO | None) -> None:
        self.start = start
        self.stop = stop
        self.pid = pid
        self.output = output


def _fork_worker(work: Work, start: int, stop: int, fd: int, encoding: str, errors: str) -> int:
    """Fork a process that writes lines[start:stop]'s output to ``fd`` and exits 0, 1 or 70."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = _WORKER_CRASHED
    try:
        with open(fd, "w", encoding=encoding, errors=errors, closefd=False) as out:

            def write(text: str) -> None:
                # Work is written in batches; a worker whose parent was killed (its output
                # would never be read) stops at the next one instead of finishing its part.
                if os.getppid() != parent:
                    raise SystemExit(_WORKER_CRASHED)
                out.write(text)

            code = 1 if work(start, stop, write) else 0
    except BaseException:  # any failure at all: the parent does this part again
        code = _WORKER_CRASHED
    finally:
        os._exit(code)


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _stop_worker(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _copy(output: BinaryIO, write: Callable[[str], object], encoding: str, errors: str) -> None:
    """Copy a worker's output, written in ``encoding`` (stdout's): as bytes when ``write`` is
    stdout's own, else decoded to text."""
    stdout = sys.stdout
    buffer = getattr(stdout, "buffer", None)
    output.seek(0)  # the worker moved the offset it shares with this process
    if buffer is not None and write == stdout.write:
        stdout.flush()
        while chunk := output.read(1 << 20):
            buffer.write(chunk)
        buffer.flush()
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    while chunk := output.read(1 << 20):
        write(decoder.decode(chunk))
    write(decoder.decode(b"", final=True))
