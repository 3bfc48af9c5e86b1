"""Helpers shared by the ATR database tests: where the test list is, ATRs made from patterns."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LIST_PATH = DATA / "smartcard_list.latest.txt"
LIST_BYTES = LIST_PATH.read_bytes()
"""The 2026-05-26 public list (5,070 entries, 238 patterns): read in place, never copied in."""

HEX = "0123456789ABCDEF"
_TOKEN = re.compile(r"\[[^\]]*\]|\.\*|.")


def read_entries(path: Path = LIST_PATH) -> list[str]:
    """Every ATR line of a list, in file order (the test's own simple reading of the format)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return [line for line in lines if line.strip() and line[0] not in "#\t"]


def _fits(length: int, atom: str | None) -> bool:
    """Whether ``atom`` (None: the end) can follow ``length`` characters of ``XX XX`` text."""
    at_space = length % 3 == 2
    if atom is None:
        return at_space
    if atom == ".*":
        return True
    return at_space == (atom == " ")


def atr_from_pattern(pattern: str, rnd: random.Random) -> bytes | None:
    """A random ATR the entry ``pattern`` matches, or None when none was found (in 50 tries).

    Walks the pattern atom by atom, picking a character the atom accepts that also fits the
    ``XX XX`` layout; ``.*`` becomes 0-11 random characters of that layout. Every result is
    checked against ``^pattern$``, so a mistake here cannot pass silently.
    """
    tokens = _TOKEN.findall(pattern)
    for _ in range(50):
        text = ""
        for index, token in enumerate(tokens):
            if token == ".*":
                # Only lengths after which the next atom (or the end) still fits the layout:
                # a random length that does not would make the whole try fail, and hypothesis'
                # random can keep choosing such lengths.
                after = tokens[index + 1] if index + 1 < len(tokens) else None
                lengths = [n for n in range(12) if _fits(len(text) + n, after)]
                for _ in range(rnd.choice(lengths)):
                    text += " " if len(text) % 3 == 2 else rnd.choice(HEX)
                continue
            wanted = " " if len(text) % 3 == 2 else HEX
            atom = re.compile(token, re.IGNORECASE)
            choices = [char for char in wanted if atom.fullmatch(char)]
            if not choices:
                break
            text += rnd.choice(choices)
        else:
            if len(text) % 3 == 2 and re.match(f"^{pattern}$", text, re.IGNORECASE):
                return bytes.fromhex(text)
    return None


def isolated_env(root: Path, *, system: list[Path] | None = None) -> dict[str, str]:
    """Environment for a cardcheck subprocess with HOME and XDG dirs under ``root``.

    ``system`` replaces the system list locations (default: the test list only).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CARDCHECK_"))}
    for name in ("home", "cache", "config"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(root / "home")
    env["XDG_CACHE_HOME"] = str(root / "cache")
    env["XDG_CONFIG_HOME"] = str(root / "config")
    chosen = [LIST_PATH] if system is None else system
    env["CARDCHECK_SYSTEM_LISTS"] = os.pathsep.join(str(p) for p in chosen)
    env["NO_COLOR"] = "1"
    return env


def cut_at_entries(data: bytes, keep: int) -> bytes:
    """The list up to (not including) its entry number ``keep``, closed by the published
    list's trailer: still a well-formed, complete list."""
    seen = 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines):
        if line.strip() and not line.startswith((b"#", b"\t")):
            if seen == keep:
                return b"\n".join(lines[:number]) + b"\n" + TRAILER
            seen += 1
    return data


TRAILER = b"# do not delete\n"


PREVIOUS = cut_at_entries(LIST_BYTES, 4600)  # an older, smaller but complete list
