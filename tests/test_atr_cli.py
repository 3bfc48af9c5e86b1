"""`cardcheck atr` end to end: a subprocess per call, exit code, stdout and stderr checked apart."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

PCSC_MIFARE_1K = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
ESC = "\x1b"
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7]|4[0-8]|10[0-7])(?:;[0-9;]*)?m")
"""An SGR escape that sets a foreground or background colour (bold alone is not a colour)."""


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.pop("FORCE_COLOR", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", "atr", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=full_env,
        check=False,
    )


def test_valid_atr_split_over_arguments() -> None:
    proc = run_cli(*PCSC_MIFARE_1K.split())
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    first, second = proc.stdout.splitlines()[:2]
    assert first == f"ATR {PCSC_MIFARE_1K}"
    assert second.startswith("VALID: direct convention, T=0, T=1")
    for section in ("Structure", "Protocols and timing", "Bit rate by clock", "Findings: none"):
        assert section in proc.stdout
    assert "MIFARE Classic 1K" in proc.stdout  # historical bytes tree (PC/SC part 3)
    assert "9,600 bit/s" in proc.stdout  # 372/1 at the default 3.5712 MHz


def test_invalid_atr_exits_1_with_the_main_problem_first() -> None:
    proc = run_cli(PCSC_MIFARE_1K[:-2] + "6B")
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[1].startswith("INVALID: TCK is 6B")
    assert "what to do:" in proc.stdout


def test_clock_option_changes_the_timing() -> None:
    # REFERENCE timing table: TA1 18 (372/12) at 4 MHz gives 129032 bit/s.
    proc = run_cli("3B 10 18", "--clock", "4")
    assert proc.returncode == 0, proc.stderr
    assert "at 4 MHz:" in proc.stdout
    assert "129,032 bit/s" in proc.stdout


def test_clock_adds_a_timing_key_to_the_json() -> None:
    # REFERENCE timing table: TA1 18 (372/12) at 4 MHz gives 129032 bit/s, an etu of 7.75 µs;
    # T=0 with WI 10 by default: WWT = 960 * 10 * 372 / 4 MHz = 892.8 ms.
    proc = run_cli("3B 10 18", "--clock", "4", "--json", "--no-db")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert list(result)[-1] == "timing"
    timing = result["timing"]
    assert timing["clock_hz"] == 4_000_000.0
    assert round(timing["bit_rate"]) == 129032
    assert round(timing["etu_us"], 2) == 7.75
    assert round(timing["t0"]["wwt_s"], 4) == 0.8928
    assert timing["t1"] is None
    assert timing["above_fmax"] is False
    # Without --clock there is no timing key; an ATR cut before T0 has a null one.
    assert "timing" not in json.loads(run_cli("3B 10 18", "--json", "--no-db").stdout)
    cut = run_cli("3B", "--clock", "4", "--json", "--no-db")
    assert cut.returncode == 1
    assert json.loads(cut.stdout)["timing"] is None


def test_bad_hex_exits_2_with_a_pointer() -> None:
    proc = run_cli("3B", "8G", "80")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == "cardcheck: error: the ATR is not hex: 'G' at position 5"
    assert lines[1] == "  3B 8G 80"
    assert lines[2] == "      ^"
    assert lines[3].startswith("  hint: ")


def test_no_atr_is_a_usage_error() -> None:
    proc = run_cli()
    assert proc.returncode == 2
    assert "Missing argument" in proc.stderr
    assert proc.stdout == ""


def test_json_lines_for_one_atr() -> None:
    proc = run_cli(PCSC_MIFARE_1K, "--json")
    assert proc.returncode == 0
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["atr"] == PCSC_MIFARE_1K
    assert obj["valid"] is True
    assert obj["protocols"] == [0, 1]
    assert obj["tck"]["expected"] == "6A"


def write_list(tmp_path: Path) -> Path:
    path = tmp_path / "atrs.txt"
    path.write_text(
        "# my cards\n"
        "\n"
        f"{PCSC_MIFARE_1K}\n"
        "3B 02 14 5Z\n"
        "3b:02:14:50   # lower case, colons, trailing comment\n"
        "3B 8F 80 01 80 4F 0C\n",
        encoding="utf-8",
    )
    return path


def test_file_json_keeps_input_order_and_reports_bad_lines(tmp_path: Path) -> None:
    proc = run_cli("--file", str(write_list(tmp_path)), "--json")
    assert proc.returncode == 1  # a bad line and a truncated ATR
    assert proc.stderr == ""
    objs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in objs] == [3, 4, 5, 6]
    assert objs[0]["valid"] is True
    assert objs[1] == {
        "line": 4,
        "input": "3B 02 14 5Z",
        "error": {
            "code": "not-hex",
            "message": "the ATR is not hex: 'Z' at position 11",
            "position": 11,
        },
    }
    assert objs[2]["atr"] == "3B 02 14 50" and objs[2]["valid"] is True
    assert objs[3]["valid"] is False
    assert objs[3]["findings"][0]["code"] == "truncated"


def test_file_from_stdin_human(tmp_path: Path) -> None:
    proc = run_cli("--file", "-", stdin=f"{PCSC_MIFARE_1K}\n3B 02 14 50\n")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "line 1: ATR " + PCSC_MIFARE_1K in proc.stdout
    assert "line 2: ATR 3B 02 14 50" in proc.stdout


def test_file_bad_line_human_goes_on(tmp_path: Path) -> None:
    proc = run_cli("--file", str(write_list(tmp_path)))
    assert proc.returncode == 1
    out = proc.stdout
    assert out.index("line 3: ATR") < out.index("line 4: input 3B 02 14 5Z")
    assert out.index("line 4: input") < out.index("line 5: ATR 3B 02 14 50")
    assert "NOT AN ATR: the ATR is not hex: 'Z' at position 11" in out


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    proc = run_cli("--file", str(tmp_path / "missing.txt"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("cardcheck: error: cannot read ")


def test_no_escape_codes_when_piped_or_no_color() -> None:
    piped = run_cli(PCSC_MIFARE_1K[:-2] + "6B")
    assert ESC not in piped.stdout and ESC not in piped.stderr
    # FORCE_COLOR makes rich behave as on a terminal; NO_COLOR must still remove colours.
    forced = run_cli(PCSC_MIFARE_1K[:-2] + "6B", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert COLOUR_SGR.search(forced.stdout) is None
    coloured = run_cli(PCSC_MIFARE_1K[:-2] + "6B", env={"FORCE_COLOR": "1"})
    assert COLOUR_SGR.search(coloured.stdout)  # the check above can fail: colour exists


def test_help_does_not_import_the_decoder() -> None:
    # (typer itself imports rich to draw --help; the command adds nothing heavy of its own.)
    code = (
        "import sys\n"
        "from cardcheck.cli import run\n"
        "rc = run(['atr', '--help'])\n"
        "mods = ('cardcheck.atr.decode', 'cardcheck.render.atr', 'cardcheck.atr.jsonout',"
        " 'smartcard')\n"
        "print(rc, [m for m in mods if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_inverse_card_read_as_direct_leads_with_the_diagnosis() -> None:
    # REFERENCE §1: TS 03. The Atmel/Athena inverse test card's ATR, garbled as a UART sees it.
    proc = run_cli("03 96 E7 FE 7F FE 75 FF 79 F7 F3 06")
    assert proc.returncode == 1
    verdict = " ".join(proc.stdout.split())
    assert "INVALID: TS 03 is an inverse-convention card read as direct convention" in verdict
    assert "3F 96 18 80 01 80 51 00 61 10 30 9F" in verdict
