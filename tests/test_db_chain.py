"""The chain of lists, local additions and the on-disk index cache (in-process, real files)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from db_atrs import LIST_PATH, isolated_env

from cardcheck.db import CandidateStatus, IndexState, MatchSource, SourceKind, open_database
from cardcheck.db import cache as index_cache
from cardcheck.errors import EnvironmentProblem, ExitCode, InputError

MIFARE_1K = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and XDG dirs under tmp_path; the test list is the only 'system' list."""
    for key in list(os.environ):
        if key.startswith(("XDG_", "CARDCHECK_")):
            monkeypatch.delenv(key)
    for key, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    return tmp_path


def test_system_list_is_used_and_identifies(home: Path) -> None:
    db = open_database()
    assert Path(db.path) == LIST_PATH
    assert db.kind is SourceKind.SYSTEM
    assert db.warnings == ()
    matches = db.identify(MIFARE_1K)
    assert [m.exact for m in matches] == [False, False, True]
    assert matches[2].to_json() == {
        "pattern": "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
        "exact": True,
        "descriptions": list(matches[2].descriptions),
        "source": "smartcard_list",
    }
    assert "MIFARE Classic 1K" in matches[2].descriptions[0]
    assert db.identify(bytes.fromhex("3B00")) == ()


def test_empty_pcsc_cache_does_not_hide_the_system_list(home: Path) -> None:
    # The ATR_analysis trap: an offline update leaves an empty ~/.cache/smartcard_list.txt.
    trap = home / "cache" / "smartcard_list.txt"
    trap.write_bytes(b"")
    db = open_database()
    assert Path(db.path) == LIST_PATH
    assert db.identify(MIFARE_1K)
    [warning] = db.warnings
    assert Path(warning.path) == trap
    assert warning.status is CandidateStatus.SKIPPED
    assert warning.reason == "it is empty"
    assert warning.hint is not None and f"rm {trap}" in warning.hint


def test_first_valid_list_wins_in_chain_order(home: Path) -> None:
    ours = home / "cache" / "cardcheck" / "smartcard_list.txt"
    ours.parent.mkdir(parents=True)
    ours.write_bytes(b"<html><body>captive portal</body></html>")
    pcsc_home = home / "home" / ".smartcard_list.txt"
    shutil.copyfile(LIST_PATH, pcsc_home)
    db = open_database()
    assert Path(db.path) == pcsc_home
    assert db.kind is SourceKind.PCSC_HOME
    statuses = [(c.kind, c.status) for c in db.chain]
    assert statuses == [
        (SourceKind.CARDCHECK_CACHE, CandidateStatus.SKIPPED),
        (SourceKind.PCSC_USER_CACHE, CandidateStatus.MISSING),
        (SourceKind.PCSC_HOME, CandidateStatus.USED),
        (SourceKind.SYSTEM, CandidateStatus.NOT_TRIED),
    ]
    assert [w.reason for w in db.warnings] == ["it is an HTML page, not the ATR list"]


def test_truncated_list_is_skipped(home: Path) -> None:
    short = home / "cache" / "smartcard_list.txt"
    short.write_bytes(LIST_PATH.read_bytes()[:30000])
    db = open_database()
    assert Path(db.path) == LIST_PATH
    assert "truncated" in (db.warnings[0].reason or "")


def test_no_list_anywhere_is_an_environment_problem(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDCHECK_SYSTEM_LISTS", str(home / "nothing-here.txt"))
    (home / "cache" / "smartcard_list.txt").write_bytes(b"")
    with pytest.raises(EnvironmentProblem) as caught:
        open_database()
    assert caught.value.exit_code is ExitCode.ENVIRONMENT
    assert "apt install pcsc-tools" in (caught.value.hint or "")
    assert "cardcheck db update" in (caught.value.hint or "")
    assert "smartcard_list.txt: it is empty" in (caught.value.hint or "")


def test_explicit_db(home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small = tmp_path / "mine.txt"
    small.write_text("3B 00 11\n\tmy test card\n")
    db = open_database(small)
    assert db.kind is SourceKind.OPTION
    assert [m.descriptions for m in db.identify(bytes.fromhex("3B0011"))] == [("my test card",)]
    with pytest.raises(InputError):
        open_database(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(EnvironmentProblem, match="it is empty"):
        open_database(empty)
    monkeypatch.setenv("CARDCHECK_DB", str(small))
    assert open_database().kind is SourceKind.ENVIRONMENT
    monkeypatch.setenv("CARDCHECK_DB", str(tmp_path / "missing.txt"))
    with pytest.raises(EnvironmentProblem, match="CARDCHECK_DB"):
        open_database()


def test_local_additions_are_always_read(home: Path) -> None:
    local = home / "config" / "cardcheck" / "local_atrs.txt"
    local.parent.mkdir(parents=True)
    local.write_text(
        "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A\n\tmy office badge\n\n"
        "3B [\n\tbroken line\n"
    )
    db = open_database()
    matches = db.identify(MIFARE_1K)
    assert [m.source for m in matches] == [MatchSource.LIST] * 3 + [MatchSource.LOCAL]
    assert matches[-1].descriptions == ("my office badge",)
    assert matches[-1].to_json()["source"] == "local"
    [warning] = db.warnings
    assert warning.kind is SourceKind.LOCAL and "line 4" in (warning.reason or "")
    found = db.search("office badge")
    assert [(e.source, e.line) for e in found] == [(MatchSource.LOCAL, 1)]
    info = db.info()
    assert info.local.entries == 1 and len(info.local.invalid) == 1


def test_index_cache_built_then_loaded_then_invalidated(home: Path) -> None:
    listing = home / "home" / ".smartcard_list.txt"
    shutil.copyfile(LIST_PATH, listing)
    first = open_database()
    assert first.index_state is IndexState.BUILT
    assert first.index_path is not None and Path(first.index_path).is_file()
    second = open_database()
    assert second.index_state is IndexState.CACHED
    assert second.identify(MIFARE_1K) == first.identify(MIFARE_1K)
    # The list changes (a new card appended): the cache is stale and rebuilt.
    with listing.open("a") as out:
        out.write("\n3B 00 99\n\tadded later\n")
    third = open_database()
    assert third.index_state is IndexState.BUILT
    assert [m.descriptions for m in third.identify(bytes.fromhex("3B0099"))] == [("added later",)]


def test_corrupt_cache_falls_back(home: Path) -> None:
    first = open_database()
    assert first.index_path is not None
    for garbage in (b"", b"\x00garbage", Path(first.index_path).read_bytes()[:1000]):
        Path(first.index_path).write_bytes(garbage)
        again = open_database()
        assert again.index_state is IndexState.BUILT
        assert again.identify(MIFARE_1K) == first.identify(MIFARE_1K)


def test_unwritable_cache_builds_in_memory(home: Path) -> None:
    # XDG_CACHE_HOME/cardcheck is a file: nothing can be written below it.
    (home / "cache" / "cardcheck").write_bytes(b"in the way")
    db = open_database()
    assert db.index_state is IndexState.MEMORY_ONLY
    assert db.index_path is None
    assert len(db.identify(MIFARE_1K)) == 3
    assert index_cache.load_index(LIST_PATH, LIST_PATH.stat()) is None


def test_info(home: Path) -> None:
    info = open_database().info()
    data = info.to_json()
    assert data["path"] == str(LIST_PATH)
    assert data["entries"] == 5070 and data["patterns"] == 238 and data["invalid_entries"] == 0
    assert data["list_date"] == "2023"
    assert data["index"]["state"] == "built"  # type: ignore[index]
    assert data["skipped"] == []
    assert data["local"]["exists"] is False  # type: ignore[index]
    assert set(data) == {
        "path", "kind", "why", "modified", "list_date", "size", "entries", "patterns",
        "invalid_entries", "invalid", "index", "skipped", "chain", "local",
    }  # fmt: skip
