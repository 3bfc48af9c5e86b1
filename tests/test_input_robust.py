"""Bad input and broken outputs (issue 9, input half): each case a real subprocess.

Standard input streamed line by line, a closed pipe ends quietly with the command's own exit
code, a full disk is exit 3, a non-UTF-8 or far too long line is an error result for that line
only, numeric options refuse NaN/infinities/out-of-range values (exit 2), compat fails on an
invalid ATR, one rounding rule for bit rates, tables wrap on narrow terminals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardcheck import options
from cardcheck.commands import atr_jobs

VALID = "3B 02 14 50"
FAST_AND_TYPER = [{}, {"CARDCHECK_NO_FASTPATH": "1"}]
"""Run `cardcheck atr` both through the start-up fast path and through typer."""


def env_with(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CARDCHECK_NO_FASTPATH")}
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def cardcheck(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    stdout: int | object = subprocess.PIPE,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", *args],
        input=stdin,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        env=env_with(env),
        timeout=120,
        check=False,
    )


def shell(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a bash pipeline with ``cardcheck`` standing for this Python's cardcheck."""
    full = env_with(env)
    full["CC"] = f"{sys.executable} -m cardcheck"
    return subprocess.run(
        ["bash", "-c", script.replace("cardcheck ", "$CC ")],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        check=False,
    )


# --- standard input is a stream ---------------------------------------------------------------


@pytest.mark.parametrize("extra", FAST_AND_TYPER)
def test_endless_stdin_is_decoded_as_a_stream_and_a_closed_pipe_ends_quietly(
    extra: dict[str, str],
) -> None:
    # Before: nothing was printed while the whole of `yes` was read into memory, for ever.
    proc = shell(
        f'yes "{VALID}" | cardcheck atr --file - --json | head -2; '
        'echo "status ${PIPESTATUS[1]}" >&2',
        extra,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stderr
    assert [json.loads(line)["line"] for line in lines] == [1, 2]
    assert all(json.loads(line)["valid"] for line in lines)
    assert proc.stderr.splitlines() == ["status 0"]  # no traceback, the command's own code


@pytest.mark.parametrize("extra", FAST_AND_TYPER)
def test_endless_stdin_human_view_streams_too(extra: dict[str, str]) -> None:
    proc = shell(
        f'yes "{VALID}" | cardcheck atr --file - --no-db | head -3; '
        'echo "status ${PIPESTATUS[1]}" >&2',
        extra,
    )
    assert proc.stdout.splitlines()[0] == f"line 1: ATR {VALID}"
    assert proc.stderr.splitlines() == ["status 0"]


@pytest.mark.parametrize("extra", FAST_AND_TYPER)
@pytest.mark.parametrize(("atr", "code"), [(VALID, 0), ("3B 02 14", 1)])
def test_closed_pipe_keeps_the_commands_exit_code(
    extra: dict[str, str], atr: str, code: int
) -> None:
    # `true` exits at once: every write of cardcheck meets a closed pipe.
    proc = shell(f'cardcheck atr {atr} | true; echo "status ${{PIPESTATUS[0]}}" >&2', extra)
    assert proc.stderr.splitlines() == [f"status {code}"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["db", "info"], 0),
        (["db", "search", "yubikey"], 0),
        (["db", "search", "card", "--json"], 0),  # more than a pipe's buffer, by print()
        (["compat", VALID, "--clock", "4"], 0),
        (["compat", "00", "11", "22", "--clock", "4"], 1),  # the verdict's code: fail
        (["compat", "00", "11", "22", "--clock", "4", "--json"], 1),
        (["atr", "--help"], 0),
    ],
)
def test_closed_pipe_other_commands(args: list[str], code: int) -> None:
    proc = shell(f'cardcheck {" ".join(args)} | true; echo "status ${{PIPESTATUS[0]}}" >&2')
    assert proc.stderr.splitlines() == [f"status {code}"]


# --- a full disk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["atr", VALID], {}),
        (["atr", VALID], {"CARDCHECK_NO_FASTPATH": "1"}),
        (["atr", VALID, "--json"], {}),
        (["db", "info"], {}),
        (["db", "info", "--json"], {}),
        (["db", "search", "yubikey"], {}),
        (["compat", VALID, "--clock", "4"], {}),
        (["compat", VALID, "--clock", "4", "--json"], {}),
        (["atr", "--help"], {}),
    ],
)
def test_full_disk_is_exit_3_without_a_traceback(args: list[str], extra: dict[str, str]) -> None:
    with open("/dev/full", "wb") as full:
        proc = cardcheck(*args, env=extra, stdout=full)
    stderr = proc.stderr.decode()
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("cardcheck: error: cannot write the output: No space left on device")
    assert "  hint: " in stderr


def test_full_disk_during_a_long_file(tmp_path: Path) -> None:
    source = tmp_path / "atrs.txt"
    source.write_text(f"{VALID}\n" * 5000)
    with open("/dev/full", "wb") as full:
        proc = cardcheck("atr", "--file", str(source), "--json", "--no-db", stdout=full)
    assert proc.returncode == 3
    assert b"Traceback" not in proc.stderr


def test_closed_stdout_is_an_error_not_a_traceback() -> None:
    proc = shell(f'cardcheck atr {VALID} >&-; echo "status $?" >&2')
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0].startswith("cardcheck: error: cannot write the output")
    assert proc.stderr.splitlines()[-1] == "status 3"


# --- one bad line does not spoil the rest -----------------------------------------------------


def _results(stdout: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_non_utf8_byte_in_a_100000_line_file(tmp_path: Path, jobs: str) -> None:
    lines = [VALID.encode()] * 100_000
    lines[49_999] = b"3B 02 \xff 14"
    source = tmp_path / "atrs.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    proc = cardcheck("atr", "--file", str(source), "--json", "--no-db", "--jobs", jobs)
    assert proc.returncode == 1, proc.stderr
    results = _results(proc.stdout)
    assert [r["line"] for r in results] == list(range(1, 100_001))
    bad = [r for r in results if "error" in r]
    assert len(bad) == 1
    assert bad[0]["line"] == 50_000
    error = bad[0]["error"]
    assert isinstance(error, dict)
    assert error["code"] == "not-utf8"
    assert "line 50000" in str(error["message"]) and "FF" in str(error["message"])
    assert sum(1 for r in results if r.get("valid") is True) == 99_999


def test_a_utf8_bom_is_not_an_error(tmp_path: Path) -> None:
    source = tmp_path / "bom.txt"
    source.write_bytes(b"\xef\xbb\xbf" + f"{VALID}\n# comment\n{VALID}\n".encode())
    for args in (["--file", str(source)], ["--file", "-"]):
        proc = cardcheck("atr", *args, "--json", "--no-db", stdin=source.read_bytes())
        assert proc.returncode == 0, proc.stderr
        assert [(r["line"], r["valid"]) for r in _results(proc.stdout)] == [(1, True), (3, True)]


def test_a_3_5_million_byte_line_is_too_long_and_cut(tmp_path: Path) -> None:
    source = tmp_path / "long.txt"
    huge = (VALID + " ") * 291_667  # 3.5 million bytes
    source.write_text(f"{VALID}\n{huge}\n{VALID}\n")
    proc = cardcheck("atr", "--file", str(source), "--json", "--no-db")
    assert proc.returncode == 1
    results = _results(proc.stdout)
    assert [r["line"] for r in results] == [1, 2, 3]
    error = results[1]["error"]
    assert isinstance(error, dict) and error["code"] == "too-long"
    assert f"{len(huge)} bytes" in str(error["message"])
    assert len(str(results[1]["input"])) < 100  # the input is cut, not echoed
    assert results[0]["valid"] is True and results[2]["valid"] is True

    human = cardcheck("atr", "--file", str(source), "--no-db")
    assert human.returncode == 1
    assert len(human.stdout) < 20_000  # three short reports, not megabytes
    assert b"line 2 is 3500004 bytes long" in human.stdout


@pytest.mark.parametrize("extra", FAST_AND_TYPER)
def test_an_atr_longer_than_33_bytes_is_an_error_and_its_display_is_cut(
    extra: dict[str, str],
) -> None:
    long_atr = VALID + " AA" * 200  # structure ends after 4 bytes; 200 more bytes
    proc = cardcheck("atr", long_atr, "--json", "--no-db", env=extra)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["valid"] is False
    codes = {f["code"]: f for f in result["findings"]}
    assert codes["too-long"]["severity"] == "error"
    assert "204 bytes" in codes["too-long"]["message"]
    assert len(codes["extra-bytes"]["message"]) < 120  # the hex of the extra bytes is cut

    human = cardcheck("atr", long_atr, "--no-db", env=extra).stdout.decode()
    assert human.splitlines()[1].startswith("INVALID: ")
    assert "(204 bytes in all)" in human.splitlines()[0]
    assert "AA " * 100 not in human


# --- numeric options --------------------------------------------------------------------------

BAD_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e999", "-1", "0"]


@pytest.mark.parametrize("value", [*BAD_NUMBERS, "1001", "abc"])
@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (["atr", VALID, "--clock"], {}),
        (["atr", VALID, "--clock"], {"CARDCHECK_NO_FASTPATH": "1"}),
        (["compat", VALID, "--clock"], {}),
    ],
)
def test_clock_refuses_nan_infinities_and_out_of_range(
    command: list[str], extra: dict[str, str], value: str
) -> None:
    proc = cardcheck(*command, value, env=extra)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "Invalid value for '--clock'" in stderr
    assert "the clock is 0.001 to 1000 MHz" in stderr


@pytest.mark.parametrize(
    ("args", "option", "allowed"),
    [
        (["compat", VALID, "--max-rate"], "--max-rate", "1 to 4294967294 bit/s"),
        (["db", "update", "--from", "/nonexistent", "--timeout"], "--timeout", "0.1 to 86400"),
        (["atr", "--file", "-", "--json", "--jobs"], "--jobs", "1 to 1024 processes"),
        (["check", "--count"], "--count", "1 to 10000 round trips"),
    ],
)
@pytest.mark.parametrize("value", [*BAD_NUMBERS, "1e5", "99999999999"])
def test_other_numeric_options_refuse_bad_values(
    args: list[str], option: str, allowed: str, value: str
) -> None:
    proc = cardcheck(*args, value, stdin=b"")
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"Invalid value for '{option}'" in stderr
    assert allowed in stderr


def test_validators_directly() -> None:
    assert options.clock_mhz("4.8") == 4.8
    assert options.clock_mhz(4) == 4.0
    assert options.jobs("3") == 3
    assert options.timeout_seconds(30.0) == 30.0
    assert options.watch_timeout("0") == 0.0
    for bad in ("nan", "inf", float("nan"), float("inf"), "1e-9"):
        with pytest.raises(options.OptionValueError):
            options.clock_mhz(bad)
    for bad_int in ("2.5", "1e3", "nan", 2.5, True):
        with pytest.raises(options.OptionValueError):
            options.jobs(bad_int)
    with pytest.raises(options.OptionValueError, match="finite"):
        options.watch_timeout("inf")


# --- --jobs is capped -------------------------------------------------------------------------


def test_jobs_are_capped_at_the_cores_and_the_lines() -> None:
    cores = atr_jobs.available_cores()
    assert atr_jobs.cap_jobs(1000, 10**6) == cores
    assert atr_jobs.cap_jobs(1000, 1) == 1
    assert atr_jobs.cap_jobs(1, 10**6) == 1
    assert atr_jobs.cap_jobs(None, 10**6) == atr_jobs.auto_jobs(10**6)


def test_jobs_1000_gives_the_same_output(tmp_path: Path) -> None:
    source = tmp_path / "atrs.txt"
    source.write_text("".join(f"3B 02 14 {n % 256:02X}\n" for n in range(4000)))
    one = cardcheck("atr", "--file", str(source), "--json", "--no-db", "--jobs", "1")
    many = cardcheck("atr", "--file", str(source), "--json", "--no-db", "--jobs", "1000")
    assert one.returncode == many.returncode == 0
    assert one.stdout == many.stdout
    assert len(one.stdout.splitlines()) == 4000


# --- compat -----------------------------------------------------------------------------------


def test_compat_fails_on_an_invalid_atr_without_a_prediction() -> None:
    proc = cardcheck("compat", "00", "11", "22", "--clock", "4")
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert out.startswith("FAIL: ")
    assert "atr-invalid" in out and "invalid-ts" in out
    assert "(pps)" not in out and "Speed (" not in out and "Clock advice" not in out
    report = json.loads(cardcheck("compat", "00", "11", "22", "--clock", "4", "--json").stdout)
    assert report["verdict"] == "fail"
    assert report["speed"] is None and report["protocol"] is None
    assert [f["code"] for f in report["findings"]] == ["atr-invalid"]


def test_one_rounding_rule_for_bit_rates_and_unknown_max_rate() -> None:
    # 4 MHz / 372 = 10752.69 bit/s: libccid and CCID descriptors say 10752.
    compat = cardcheck("compat", VALID, "--clock", "4", "--protocols", "0").stdout.decode()
    atr = cardcheck("atr", VALID, "--clock", "4", "--no-db").stdout.decode()
    for out in (compat, atr):
        assert "10752" in out.replace(",", "")
        assert "10753" not in out.replace(",", "")
    assert "4294967295" not in compat
    report = json.loads(cardcheck("compat", VALID, "--clock", "4", "--json").stdout)
    assert report["speed"]["max_data_rate_bps"] is None  # unknown, not 0xFFFFFFFF
    assert report["reader"]["max_data_rate_bps"] is None
    assert "max data rate" in compat
    assert [line.split()[-1] for line in compat.splitlines() if "max data rate" in line] == [
        "unknown"
    ] * compat.count("max data rate")


@pytest.mark.parametrize(
    "args",
    [
        ["atr", "3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13", "--no-db"],
        ["compat", "3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13", "--clock", "4"],
    ],
)
def test_narrow_terminal_wraps_instead_of_cutting(args: list[str]) -> None:
    proc = cardcheck(*args, env={"COLUMNS": "40"})
    out = proc.stdout.decode()
    assert proc.returncode in (0, 1)
    assert "…" not in out  # nothing cut to an ellipsis
    assert all(len(line) <= 40 for line in out.splitlines())
    if args[0] == "atr":
        assert "convention" in out


# --- messages name the thing -------------------------------------------------------------------


def test_hex_messages_name_what_is_wrong() -> None:
    apdu = cardcheck("check", "--apdu", "zz")
    assert apdu.returncode == 2
    stderr = apdu.stderr.decode()
    assert stderr.startswith("cardcheck: error: ")
    assert "not hex" in stderr and ("the APDU" in stderr or "--apdu" in stderr)
    assert "ATR" not in stderr  # before: "an ATR is hex"
    atr = cardcheck("atr", "3B", "zz")
    assert atr.returncode == 2
    assert atr.stderr.decode().startswith("cardcheck: error: the ATR is not hex: 'z'")
    compat = cardcheck("compat", "3B", "0", "--clock", "4")
    assert compat.returncode == 2
    assert "the ATR has an odd number of hex digits" in compat.stderr.decode()


# --- siblings: other inputs that could be read for ever or misread ----------------------------


def test_descriptor_from_a_device_that_never_ends_is_refused() -> None:
    proc = cardcheck("compat", VALID, "--descriptor", "/dev/zero")
    assert proc.returncode == 2
    assert "holds more than 1048576 bytes" in proc.stderr.decode()
    endless = shell(f'yes | cardcheck compat {VALID} --descriptor -; echo "status $?" >&2')
    assert "holds more than" in endless.stderr
    assert endless.stderr.splitlines()[-1] == "status 2"


def test_a_read_error_mid_file_is_an_input_error_not_an_output_error() -> None:
    # /proc/self/mem is a regular file whose first read fails with EIO.
    proc = cardcheck("atr", "--file", "/proc/self/mem", "--json", "--no-db")
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert stderr.startswith("cardcheck: error: cannot read line 1 of /proc/self/mem")
    assert "cannot write the output" not in stderr


def test_a_file_of_size_zero_with_content_is_read(tmp_path: Path) -> None:
    # Files of /proc report size 0 but have content; a FIFO is read as a stream as well.
    fifo = tmp_path / "atrs.fifo"
    os.mkfifo(fifo)
    proc = shell(f'printf "{VALID}\\n{VALID}\\n" > {fifo} & cardcheck atr --file {fifo} --json')
    assert [json.loads(line)["line"] for line in proc.stdout.splitlines()] == [1, 2]
    status = cardcheck("atr", "--file", "/proc/self/status", "--json", "--no-db")
    assert status.returncode == 1  # every line read, none of them an ATR
    assert len(status.stdout.splitlines()) > 5


@pytest.mark.parametrize("extra", FAST_AND_TYPER)
def test_stdin_results_come_line_by_line_and_ctrl_c_ends_it(extra: dict[str, str]) -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "cardcheck", "atr", "--file", "-", "--json", "--no-db"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_with(extra),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for number in (1, 2):
            proc.stdin.write(f"{VALID}\n".encode())
            proc.stdin.flush()
            # the result of each line arrives while standard input is still open
            assert json.loads(proc.stdout.readline())["line"] == number
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130
    assert err.decode() == "cardcheck: interrupted\n"


def test_stdin_redirected_from_a_regular_file(tmp_path: Path) -> None:
    # `cardcheck atr --file - < atrs.txt`: a regular file on stdin, long enough for --jobs.
    source = tmp_path / "atrs.txt"
    source.write_text(f"{VALID}\n" * 4000)
    with source.open("rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-m", "cardcheck", "atr", "--file", "-", "--json", "--no-db"],
            stdin=stdin,
            capture_output=True,
            env=env_with(),
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert [r["line"] for r in _results(proc.stdout)] == list(range(1, 4001))


@pytest.mark.parametrize(
    ("option", "value"),
    [("--voltages", "nan"), ("--voltages", "inf,5"), ("--voltages", "1e3"), ("--protocols", "inf")],
)
def test_compat_list_options_refuse_numbers_they_do_not_know(option: str, value: str) -> None:
    proc = cardcheck("compat", VALID, option, value)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2
    assert stderr.startswith(f"cardcheck: error: {option}: unknown ")
    assert "Traceback" not in stderr
