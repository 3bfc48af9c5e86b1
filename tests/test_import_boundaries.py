"""Heavy modules are imported only by the commands that use them (issue 11).

Each case runs cardcheck's entry point in a fresh interpreter and lists the modules loaded at
the end: a module that should not be there is an import at the wrong boundary (a renderer, a
framework or a driver pulled in before it is needed). No timings: what is loaded is the cause.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"
ATR = [
    "3B",
    "F8",
    "13",
    "00",
    "00",
    "81",
    "31",
    "FE",
    "15",
    "59",
    "75",
    "62",
    "69",
    "6B",
    "65",
    "79",
    "34",
    "D4",
]

PROBE = """
import io, sys
sys.argv = ["cardcheck", *sys.argv[1:]]
out = sys.stdout
sys.stdout = io.StringIO()
from cardcheck.__main__ import main
try:
    main()
except SystemExit as exit:
    code = exit.code
sys.stdout = out
print("modules:", code, *sorted(sys.modules))
"""


def loaded(
    args: list[str], tmp_path: Path, extra: dict[str, str] | None = None
) -> tuple[int, set[str]]:
    env = dict(
        os.environ,
        NO_COLOR="1",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        CARDCHECK_DB=str(LIST),
        **(extra or {}),
    )
    env.pop("CARDCHECK_NO_FASTPATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    marker, code, *modules = proc.stdout.splitlines()[-1].split()
    assert marker == "modules:", proc.stdout
    return int(code), set(modules)


def top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


HEAVY = {"typer", "rich", "smartcard", "inspect", "dataclasses", "typing", "ast", "tokenize"}


@pytest.mark.parametrize(
    "args",
    [["--version"], ["atr", *ATR, "--json"], ["atr", *ATR, "--json", "--no-db"]],
    ids=["--version", "atr --json", "atr --json --no-db"],
)
def test_light_paths_load_no_framework_renderer_or_driver(args: list[str], tmp_path: Path) -> None:
    code, modules = loaded(args, tmp_path)
    assert code == 0
    assert not HEAVY & top(modules), sorted(HEAVY & top(modules))
    assert "cardcheck.cli" not in modules


@pytest.mark.parametrize(
    "args",
    [["atr", *ATR, "--json"], ["atr", *ATR], ["db", "info"], ["db", "search", "yubikey"]],
    ids=["atr --json", "atr", "db info", "db search"],
)
def test_identifying_needs_no_pathlib(args: list[str], tmp_path: Path) -> None:
    """The ATR list's places are plain strings (cardcheck.paths): pathlib would bring
    urllib.parse and ipaddress along on every identification."""
    code, modules = loaded(args, tmp_path)
    assert code == 0
    assert not {"pathlib", "urllib", "ipaddress"} & top(modules)


def test_cached_index_identifies_without_re(tmp_path: Path) -> None:
    """Opening a list through its cached index and identifying this card needs no regular
    expression (only parsing a list, building an index and trying a generic pattern do)."""
    probe = (
        "import sys\n"
        "from cardcheck.db import open_database\n"
        "matches = open_database().identify(bytes.fromhex(sys.argv[1]))\n"
        "print(len(matches), 're' in sys.modules, 'cardcheck.db.index' in sys.modules)\n"
    )
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), CARDCHECK_DB=str(LIST))
    argv = [sys.executable, "-c", probe, "".join(ATR)]
    first = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["1", "True", "True"]  # parsed and indexed: re is needed
    second = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    assert second.stdout.split() == ["1", "False", "True"]


def test_one_atr_as_json_needs_neither_json_nor_re(tmp_path: Path) -> None:
    """The JSON text is written by cardcheck.atr.jsonout (its own string quoting): the json
    package (its decoder, and re for it) is not imported to print one ATR."""
    loaded(["atr", *ATR, "--json"], tmp_path)  # builds and saves the index
    code, modules = loaded(["atr", *ATR, "--json"], tmp_path)
    assert code == 0
    assert "cardcheck.atr.jsonout" in modules
    assert not {"json", "re"} & top(modules), sorted({"json", "re"} & top(modules))


def test_version_loads_neither_decoder_nor_database(tmp_path: Path) -> None:
    _, modules = loaded(["--version"], tmp_path)
    assert not {m for m in modules if m.startswith(("cardcheck.atr", "cardcheck.db"))}


def test_no_db_does_not_open_the_database(tmp_path: Path) -> None:
    _, modules = loaded(["atr", *ATR, "--json", "--no-db"], tmp_path)
    assert not {m for m in modules if m.startswith("cardcheck.db.")} - {"cardcheck.db.index"}
    assert "cardcheck.db.sources" not in modules


def test_human_view_draws_without_rich_typer_or_pyscard(tmp_path: Path) -> None:
    code, modules = loaded(["atr", *ATR], tmp_path)
    assert code == 0
    # its tables and tree are drawn by cardcheck.render.console.LineConsole, as rich draws them
    assert not HEAVY & top(modules), sorted(HEAVY & top(modules))
    assert "cardcheck.render.console" in modules


NO_SERVICE = {"PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
"""pcscd looked for where none listens (tests/pcsc_helpers.py): the PC/SC commands end with 3."""

HELPS = [
    [],
    ["--help"],
    ["db"],
    ["db", "--help"],
    *[
        [*spec, "--help"]
        for spec in (["atr"], ["compat"], ["doctor"], ["readers"], ["watch"], ["check"])
    ],
    *[["db", sub, "--help"] for sub in ("info", "search", "update")],
]


@pytest.mark.parametrize("args", HELPS, ids=[" ".join(a) or "(nothing)" for a in HELPS])
def test_help_is_printed_from_the_declarations_alone(args: list[str], tmp_path: Path) -> None:
    code, modules = loaded(args, tmp_path)
    assert code == (2 if args in ([], ["db"]) else 0)
    assert not HEAVY & top(modules), sorted(HEAVY & top(modules))
    assert not {m for m in modules if m.startswith(("cardcheck.atr", "cardcheck.db"))}
    assert not {m for m in modules if m.startswith(("cardcheck.commands", "cardcheck.render"))}


def test_usage_errors_are_handed_to_typer(tmp_path: Path) -> None:
    for args in (["atr", "3B", "00", "--clock", "nan"], ["db", "search"], ["nope"]):
        code, modules = loaded(args, tmp_path)
        assert code == 2, args
        assert "typer" in modules, args
        assert not {"rich", "smartcard"} & top(modules), args


@pytest.mark.parametrize(
    "args",
    [["compat", *ATR, "--clock", "4", "--json"], ["compat", *ATR, "--clock", "4"]],
    ids=["compat --json", "compat"],
)
def test_compat_is_offline_and_does_not_identify(args: list[str], tmp_path: Path) -> None:
    code, modules = loaded(args, tmp_path)
    assert code == 0
    assert not {"typer", "smartcard"} & top(modules)
    assert not {m for m in modules if m.startswith("cardcheck.db")}
    # its human view's tables are borderless: drawn by LineConsole, without rich
    assert not HEAVY & top(modules), sorted(HEAVY & top(modules))


@pytest.mark.parametrize(
    "args",
    [["db", "info"], ["db", "info", "--json"], ["db", "search", "yubikey"]],
    ids=["db info", "db info --json", "db search"],
)
def test_db_commands_load_no_renderer_framework_or_decoder(args: list[str], tmp_path: Path) -> None:
    code, modules = loaded(args, tmp_path)
    assert code == 0
    assert not HEAVY & top(modules), sorted(HEAVY & top(modules))
    assert not {m for m in modules if m.startswith(("cardcheck.atr", "cardcheck.compat"))}


@pytest.mark.parametrize(
    "args", [["readers"], ["watch", "--timeout", "0"], ["check"]], ids=["readers", "watch", "check"]
)
def test_pcsc_commands_load_pyscard_but_not_typer(args: list[str], tmp_path: Path) -> None:
    code, modules = loaded(args, tmp_path, NO_SERVICE)
    assert code == 3
    assert "smartcard" in top(modules)
    assert "typer" not in top(modules)
    if args == ["readers"]:
        assert "rich" not in top(modules)  # lines of text, no table
        assert not {"dataclasses", "inspect"} & top(modules)  # the APDU allowlist is Values
        assert "cardcheck.db.sources" not in modules  # no card, nothing to identify


def test_doctor_loads_no_typer_and_pyscard_only_to_ask_pcsc(tmp_path: Path) -> None:
    code, modules = loaded(["doctor", "--json"], tmp_path, NO_SERVICE)
    assert code in (0, 1, 3)
    assert "typer" not in top(modules)
    assert "smartcard" in top(modules)  # its PC/SC survey, through the adapter
    missing = str(tmp_path / "missing")
    code, modules = loaded(["doctor", "--root", missing], tmp_path, NO_SERVICE)
    assert code == 2  # refused before anything is looked at
    assert not {"typer", "smartcard"} & top(modules)


def test_offline_commands_do_not_load_pyscard(tmp_path: Path) -> None:
    for args in (["compat", *ATR, "--clock", "4"], ["db", "info"], ["--help"]):
        _, modules = loaded(args, tmp_path)
        assert "smartcard" not in top(modules), args
