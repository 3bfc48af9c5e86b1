"""Differential test: our decoder against pcsc-tools' ATR_analysis on ATRs of the public list.

ATR_analysis (/usr/bin/ATR_analysis, Perl) is run offline: HOME and XDG_CACHE_HOME point at a
temporary directory holding a fresh copy of the list (it uses the first list it finds and only
downloads when that copy is older than 10 hours), and PATH starts with stand-in ``wget`` and
``curl`` that record any call, so a download attempt is seen and fails instead of emptying the
list. Its colour codes are stripped.

Compared: offered protocols, Fi/Di, fmax, TCK verdict, historical bytes. ATR_analysis's known
mistakes are listed below as named exclusions; each is counted, and any other difference fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from cardcheck.atr.decode import decode_atr
from cardcheck.atr.model import AtrInfo

ATR_ANALYSIS = Path("/usr/bin/ATR_analysis")
LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"
PLAIN_ATR = re.compile(r"^3[BF](?: [0-9A-F]{2})*$")
SAMPLE_STEP = 8
"""Every 8th plain ATR of the list, plus every ATR our decoder flags (where tools disagree)
and those with fmax 7.5 MHz."""

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TD_LINE = re.compile(r"TD\((\d+)\) = ([0-9A-F]{2}) --> Y\(i\+1\) = [01]{4},\s*Protocol T = (\d+)")
TA1_LINE = re.compile(r"TA\(1\) = [0-9A-F]{2} --> Fi=(\w+), Di=(\w+)")
FMAX_LINE = re.compile(r"fMax for Fi = (\d+) MHz")
TCK_LINE = re.compile(r"^\+ TCK = ([0-9A-F]{2}) \((correct checksum)?", re.MULTILINE)
TCK_WRONG = re.compile(r"^\+ TCK = ([0-9A-F]{2}) WRONG CHECKSUM", re.MULTILINE)
HIST_LINE = re.compile(r"^\+ Historical bytes: ?(.*)$", re.MULTILINE)

# Named exclusions: ATR_analysis's known mistakes (REFERENCE §1 and what this test found).
TCK_BY_LENGTH_EXTRA = "TCK by length: a byte after a T=0-only ATR taken for a TCK"
TCK_BY_LENGTH_HIDDEN = "TCK by length: a due TCK followed by extra bytes is not seen"
FMAX_7 = "fmax 7.5 MHz printed as 7"
EXTRA_AS_HISTORICAL = "extra bytes printed among the historical bytes"
STOPS_EARLY = "prints no historical bytes when the ATR ends with its interface bytes"


@dataclass(frozen=True)
class Theirs:
    """What ATR_analysis printed about one ATR."""

    td_protocols: tuple[int, ...]
    fi: str | None
    di: str | None
    fmax: int | None
    tck_present: bool
    tck_valid: bool | None
    historical: str | None


def parse_output(text: str) -> Theirs:
    text = ANSI.sub("", text)
    tds = tuple(int(m.group(3)) for m in TD_LINE.finditer(text))
    ta1 = TA1_LINE.search(text)
    fmax = FMAX_LINE.search(text)
    tck = TCK_LINE.search(text)
    wrong = TCK_WRONG.search(text)
    hist = HIST_LINE.search(text)
    present = tck is not None or wrong is not None
    return Theirs(
        td_protocols=tds,
        fi=ta1.group(1) if ta1 else None,
        di=ta1.group(2) if ta1 else None,
        fmax=int(fmax.group(1)) if fmax else None,
        tck_present=present,
        tck_valid=None if not present else wrong is None,
        historical=hist.group(1).strip() if hist else None,
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if not ATR_ANALYSIS.exists():
        pytest.fail("ATR_analysis is not installed (Debian package pcsc-tools)")
    home = tmp_path_factory.mktemp("atr_analysis_home")
    cache = home / "cache"
    cache.mkdir()
    shutil.copyfile(LIST, cache / "smartcard_list.txt")  # fresh mtime: no update attempt
    bindir = home / "bin"
    bindir.mkdir()
    marker = home / "download-attempted"
    for tool in ("wget", "curl"):
        stub = bindir / tool
        stub.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\nexit 1\n', encoding="utf-8")
        stub.chmod(0o755)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(cache),
        "PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    env.pop("NO_COLOR", None)
    yield env
    assert not marker.exists(), "ATR_analysis tried to download: " + marker.read_text()


def sample() -> list[str]:
    atrs = [line for line in LIST.read_text(encoding="utf-8").splitlines() if PLAIN_ATR.match(line)]
    chosen = set(atrs[::SAMPLE_STEP])
    for atr in atrs:
        info = decode_atr(bytes.fromhex(atr.replace(" ", "")))
        if not info.valid or info.extra or info.rate.fmax_mhz == 7.5:
            chosen.add(atr)
    return [a for a in atrs if a in chosen]  # list order: deterministic


def run_atr_analysis(atr: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [str(ATR_ANALYSIS), atr], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def offered(tds: tuple[int, ...]) -> tuple[int, ...]:
    out: list[int] = []
    for t in tds:
        if t != 15 and t not in out:
            out.append(t)
    return tuple(out) or (0,)


def compare(atr: str, info: AtrInfo, theirs: Theirs) -> list[str]:
    """Differences as "field: explanation"; exclusions as "excluded: <name>"."""
    out: list[str] = []
    hist_ours = " ".join(f"{b:02X}" for b in info.historical)

    if offered(theirs.td_protocols) != info.protocols:
        out.append(f"protocols: theirs {theirs.td_protocols}, ours {info.protocols}")

    if info.rate.explicit:
        fi = "RFU" if info.rate.fi is None else str(info.rate.fi)
        di = "RFU" if info.rate.di is None else str(info.rate.di)
        if (theirs.fi, theirs.di) != (fi, di):
            out.append(f"fi/di: theirs {theirs.fi}/{theirs.di}, ours {fi}/{di}")
        ours_fmax = info.rate.fmax_mhz
        if theirs.fmax is not None and ours_fmax is not None and theirs.fmax != ours_fmax:
            if ours_fmax == 7.5 and theirs.fmax == 7:
                out.append(f"excluded: {FMAX_7}")
            else:
                out.append(f"fmax: theirs {theirs.fmax}, ours {ours_fmax}")
    elif theirs.fi is not None:
        out.append("fi/di: theirs found a TA1, ours did not")

    ours_tck = (info.tck.present, info.tck.valid)
    theirs_tck = (theirs.tck_present, theirs.tck_valid)
    if ours_tck != theirs_tck:
        if not info.tck.required and len(info.extra) == 1 and theirs.tck_present:
            out.append(f"excluded: {TCK_BY_LENGTH_EXTRA}")
        elif info.tck.present and info.extra and not theirs.tck_present:
            out.append(f"excluded: {TCK_BY_LENGTH_HIDDEN}")
        else:
            out.append(f"tck: theirs {theirs_tck}, ours {ours_tck}")

    if theirs.historical is None:
        if len(info.raw) == info.historical_offset:
            out.append(f"excluded: {STOPS_EARLY}")
        else:
            out.append("historical: theirs printed none")
    elif theirs.historical != hist_ours:
        if info.extra and theirs.historical.startswith(hist_ours):
            out.append(f"excluded: {EXTRA_AS_HISTORICAL}")
        else:
            out.append(f"historical: theirs '{theirs.historical}', ours '{hist_ours}'")
    return out


def test_parse_output_of_a_known_run() -> None:
    # The shape of ATR_analysis 1.8 output (colour codes included), as parse_output reads it.
    text = (
        "ATR: 3B 90 96 91 81 B1 FE 55 1F C7 D4\n"
        "+ TS = 3B --> Direct Convention\n"
        "  TA(1) = 96 --> \x1b[35mFi=512, Di=32, 16 cycles/ETU\n"
        "    250000 bits/s at 4 MHz, fMax for Fi = 5 MHz => 312500 bits/s\x1b[0m\n"
        "  TD(1) = 91 --> Y(i+1) = 1001,\x1b[35m Protocol T = 1 \x1b[0m\n"
        "+ Historical bytes: \n"
        "+ TCK = D4 (correct checksum)\n"
    )
    theirs = parse_output(text)
    assert theirs == Theirs((1,), "512", "32", 5, True, True, "")


def test_against_atr_analysis(sandbox: dict[str, str]) -> None:
    atrs = sample()
    assert len(atrs) >= 300
    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = list(pool.map(lambda a: run_atr_analysis(a, sandbox), atrs))

    exclusions: Counter[str] = Counter()
    failures: list[str] = []
    for atr, text in zip(atrs, outputs, strict=True):
        info = decode_atr(bytes.fromhex(atr.replace(" ", "")))
        for diff in compare(atr, info, parse_output(text)):
            if diff.startswith("excluded: "):
                exclusions[diff.removeprefix("excluded: ")] += 1
            else:
                failures.append(f"{atr}: {diff}")

    print(f"\ncompared {len(atrs)} ATRs; exclusions: {dict(exclusions)}")
    assert failures == []
    # The known mistakes do show up in this sample (and only as often as measured).
    # Measured on the 2026-05-26 list (703 ATRs compared): 20 extra bytes shown as historical,
    # 13 + 10 TCK-by-length, 3 early stops, 1 fmax 7.5.
    assert 5 <= exclusions[TCK_BY_LENGTH_EXTRA] <= 20
    assert 5 <= exclusions[TCK_BY_LENGTH_HIDDEN] <= 20
    assert 10 <= exclusions[EXTRA_AS_HISTORICAL] <= 30
    assert exclusions[FMAX_7] == 1  # Philips DESFire SAM, TA1 A8
    assert sum(exclusions.values()) <= 60
