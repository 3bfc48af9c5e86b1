"""A long `cardcheck atr --file --json` shared between processes gives the same bytes and exit
code as one process, and a worker that fails is redone by the parent, never lost."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardcheck.commands import atr_jobs

LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"


@given(st.integers(0, 5000), st.integers(1, 12))
def test_bounds_cover_every_line_once_in_order(count: int, jobs: int) -> None:
    parts = atr_jobs.bounds(count, jobs)
    assert parts[0][0] == 0 and parts[-1][1] == count
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    sizes = [stop - start for start, stop in parts]
    assert max(sizes) - min(sizes) <= 1
    assert len(parts) == max(1, min(jobs, count))


def test_auto_jobs_needs_enough_lines_per_process() -> None:
    assert atr_jobs.auto_jobs(0) == 1
    assert atr_jobs.auto_jobs(atr_jobs.MIN_LINES_PER_JOB - 1) == 1
    cores = len(os.sched_getaffinity(0))
    assert atr_jobs.auto_jobs(10**6) == min(cores, atr_jobs.MAX_JOBS)


def _numbers_work(
    fail_in_worker: Callable[[int], None] | None = None,
) -> atr_jobs.Work:
    """Writes each line number; lines divisible by 7 'fail'. ``fail_in_worker`` runs in forked
    workers only (the parent's pid differs)."""
    parent = os.getpid()

    def work(start: int, stop: int, write: Callable[[str], object]) -> bool:
        if fail_in_worker is not None and os.getpid() != parent:
            fail_in_worker(start)
        write("".join(f"{n}\n" for n in range(start, stop)))
        return any(n % 7 == 0 for n in range(start, stop))

    return work


def _collect(count: int, jobs: int, work: atr_jobs.Work) -> tuple[str, bool]:
    out: list[str] = []
    failed = atr_jobs.run_parts(count, jobs, work, out.append)
    return "".join(out), failed


@pytest.mark.parametrize("jobs", [1, 2, 3, 5])
def test_parts_come_back_in_order(jobs: int) -> None:
    text, failed = _collect(100, jobs, _numbers_work())
    assert text == "".join(f"{n}\n" for n in range(100))
    assert failed  # 0, 7, ... are in the first part, 98 in the last


def test_failed_flag_comes_from_a_worker_part() -> None:
    def work(start: int, stop: int, write: Callable[[str], object]) -> bool:
        write(f"{start}-{stop}\n")
        return start >= 50  # only the second part, done by the worker, fails

    assert _collect(100, 2, work) == ("0-50\n50-100\n", True)
    assert _collect(100, 1, work) == ("0-100\n", False)


def _raise(start: int) -> None:
    raise RuntimeError(f"worker for {start} broke")


def _killed(start: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _exits_badly(start: int) -> None:
    os._exit(3)


@pytest.mark.parametrize("failure", [_raise, _killed, _exits_badly])
def test_a_failed_worker_is_redone_by_the_parent(failure: Callable[[int], None]) -> None:
    text, failed = _collect(90, 3, _numbers_work(failure))
    assert text == "".join(f"{n}\n" for n in range(90))
    assert failed


def test_a_failure_in_the_parent_stops_the_workers() -> None:
    parent = os.getpid()

    def work(start: int, stop: int, write: Callable[[str], object]) -> bool:
        if os.getpid() == parent:
            raise KeyboardInterrupt
        signal.pause()  # a worker that would never end by itself
        return False

    with pytest.raises(KeyboardInterrupt):
        _collect(90, 3, work)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every worker has been stopped and reaped


# The command itself, against the real list: a file with bad lines, comments and blank lines
# spread over every part, and a command-line ATR first.


def _list_atrs() -> list[str]:
    """The literal ATR lines of the real list (3B or 3F, hex and spaces only)."""
    return [
        line
        for line in LIST.read_text(encoding="utf-8").splitlines()
        if line[:2] in ("3B", "3F") and all(c in "0123456789ABCDEF " for c in line)
    ]


def _atr_file(tmp_path: Path) -> Path:
    lines = []
    for number, line in enumerate(_list_atrs()):
        lines.append(line)
        if number % 97 == 0:
            lines.extend(["not hex", "", "# a comment", line[:5]])
    path = tmp_path / "atrs.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(lines) > 3000
    return path


def _processes_reading(path: Path) -> str:
    """The command lines (one per line) of the running processes that name ``path``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # ended meanwhile
            continue
        if state != "Z" and str(path).encode() in argv:
            found.append(b" ".join(argv).decode(errors="replace"))
    return "\n".join(found)


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", "atr", *args],
        capture_output=True,
        env={**os.environ, **env},
        check=False,
    )


@pytest.mark.parametrize("jobs", ["2", "3", "auto"])
def test_cli_output_is_the_same_with_several_processes(tmp_path: Path, jobs: str) -> None:
    path = _atr_file(tmp_path)
    base = ["3B 02 14 50", "--file", str(path), "--json", "--db", str(LIST)]
    one = _run([*base, "--jobs", "1"])
    many = _run(base if jobs == "auto" else [*base, "--jobs", jobs])
    assert one.returncode == many.returncode == 1  # the "not hex" lines
    assert one.stderr == many.stderr == b""
    assert one.stdout == many.stdout
    assert (
        one.stdout.count(b"\n")
        == len([x for x in path.read_text().splitlines() if x and not x.startswith("#")]) + 1
    )


def test_cli_workers_write_in_the_output_encoding(tmp_path: Path) -> None:
    path = _atr_file(tmp_path)
    base = ["--file", str(path), "--json", "--db", str(LIST)]
    one = _run([*base, "--jobs", "1"], PYTHONIOENCODING="latin-1:replace")
    many = _run([*base, "--jobs", "4"], PYTHONIOENCODING="latin-1:replace")
    assert one.stdout == many.stdout
    utf8 = _run([*base, "--jobs", "1"])
    assert one.stdout != utf8.stdout  # the list has descriptions beyond latin-1


def test_cli_reader_closing_early_ends_every_process(tmp_path: Path) -> None:
    path = _atr_file(tmp_path)
    command = [sys.executable, "-m", "cardcheck", "atr", "--file", str(path), "--json"]
    with subprocess.Popen(
        [*command, "--db", str(LIST), "--jobs", "3"], stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b'{"line": 1,')
        proc.stdout.close()
        # A closed pipe ends quietly with the command's own code for what it decoded: line 2
        # ("not hex") is written in the same batch as line 1, so it was decoded: 1.
        assert proc.wait(timeout=60) == 1
    assert _processes_reading(path) == ""


def test_ctrl_c_stops_every_process_with_exit_130(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text("\n".join(_list_atrs() * 12) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "cardcheck", "atr", "--file", str(path), "--json"]
    with subprocess.Popen(
        [*command, "--db", str(LIST), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a process group of its own, as a terminal gives
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b'{"line": 1,')  # under way
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        proc.stdout.read()
        assert proc.wait(timeout=60) == 130
        assert proc.stderr.read() == b"cardcheck: interrupted\n"
    assert _processes_reading(path) == ""


def test_workers_stop_when_the_first_process_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("\n".join(_list_atrs() * 120) + "\n", encoding="utf-8")  # seconds a part
    command = [sys.executable, "-m", "cardcheck", "atr", "--file", str(path), "--json"]
    with subprocess.Popen(
        [*command, "--db", str(LIST), "--jobs", "3", "--no-db"], stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b'{"line": 1,')  # workers are under way
        os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
        proc.wait(timeout=60)
    import time

    deadline = time.monotonic() + 2  # far less than a worker needs for its part
    while time.monotonic() < deadline:
        if _processes_reading(path) == "":
            break
        time.sleep(0.1)
    assert _processes_reading(path) == ""


def test_no_process_or_no_temporary_file_means_the_parent_does_the_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tempfile

    forks = 0
    real_fork = os.fork

    def fork_once() -> int:  # the first worker starts, the next ones cannot
        nonlocal forks
        forks += 1
        if forks > 1:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(os, "fork", fork_once)
    assert _collect(100, 4, _numbers_work()) == ("".join(f"{n}\n" for n in range(100)), True)
    assert forks == 3

    def no_space(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    assert _collect(100, 3, _numbers_work())[0] == "".join(f"{n}\n" for n in range(100))
