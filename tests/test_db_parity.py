"""Identification parity with the real ATR_analysis (pcsc-tools), run offline.

ATR_analysis gets an isolated HOME and XDG_CACHE_HOME holding a fresh copy of the test list
(fresh, so it does not try to update it; proxies point nowhere in case it did).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from db_atrs import LIST_PATH, atr_from_pattern, isolated_env, read_entries

from cardcheck.db import open_database

ATR_ANALYSIS = shutil.which("ATR_analysis") or "/usr/bin/ATR_analysis"
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")

pytestmark = pytest.mark.skipif(
    not Path(ATR_ANALYSIS).exists(), reason="ATR_analysis (pcsc-tools) is not installed"
)


def their_matches(atr: bytes, env: dict[str, str]) -> list[tuple[str, tuple[str, ...]]] | None:
    """What ATR_analysis identifies, or None when it stopped before looking (truncated ATR)."""
    text = " ".join(f"{b:02X}" for b in atr)
    proc = subprocess.run(
        [ATR_ANALYSIS, *text.split()],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    lines = _COLOUR.sub("", proc.stdout).split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Possibly identified"))
    except StopIteration:
        return None
    groups: list[tuple[str, list[str]]] = []
    for line in lines[start + 1 :]:
        if line.startswith("Your card is not present"):
            break
        if line.startswith("\t"):
            if groups:
                groups[-1][1].append(line[1:])
        elif line:
            groups.append((line, []))
    # ATR_analysis prints the ATR itself before an entry that is a regular expression.
    found = []
    for number, (head, descriptions) in enumerate(groups):
        echo = head == text and not descriptions and number + 1 < len(groups)
        if not echo:
            found.append((head, tuple(descriptions)))
    return found


def sample_atrs() -> list[bytes]:
    rnd = random.Random(20260526)
    entries = read_entries()
    concrete = [e for e in entries if re.fullmatch(r"[0-9A-F ]+", e)]
    patterns = [e for e in entries if e not in concrete]
    atrs = [bytes.fromhex(e) for e in rnd.sample(concrete, 200)]
    for pattern in patterns:
        atr = atr_from_pattern(pattern, rnd)
        assert atr is not None, pattern
        atrs.append(atr)
    return atrs


def test_same_matches_as_atr_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = isolated_env(tmp_path, system=[])
    shutil.copyfile(LIST_PATH, tmp_path / "cache" / "smartcard_list.txt")
    env.update(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    for key in list(os.environ):
        if key.startswith(("XDG_", "CARDCHECK_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    db = open_database()
    assert Path(db.path) == tmp_path / "cache" / "smartcard_list.txt"

    atrs = sample_atrs()
    with ThreadPoolExecutor(max_workers=4) as pool:
        theirs = list(pool.map(lambda atr: their_matches(atr, env), atrs))
    compared = 0
    for atr, expected in zip(atrs, theirs, strict=True):
        if expected is None:
            continue
        ours = [(m.pattern, m.descriptions) for m in db.identify(atr)]
        assert ours == expected, atr.hex(" ")
        compared += 1
    # ATR_analysis stops before identifying when it runs out of interface bytes: rare.
    assert compared >= 0.9 * len(atrs)
    assert sum(1 for t in theirs if t) >= 0.9 * len(atrs)
    assert sum(1 for t in theirs if t and any("." in head for head, _ in t)) >= 200
    # It did not download anything: the copy is as it was.
    assert (tmp_path / "cache" / "smartcard_list.txt").read_bytes() == LIST_PATH.read_bytes()
