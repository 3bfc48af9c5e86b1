"""The chain of places the public ATR list is looked for, and :func:`open_database`.

Order: ``--db PATH`` or ``CARDCHECK_DB`` (then nothing else); cardcheck's own copy (written only
by ``cardcheck db update``); pcsc-tools' per-user copies; the system copies. The first VALID
file wins: an empty, unreadable or implausible file is skipped with a reason and a hint (the
trap of ATR_analysis, where an empty cache file hides the system list forever, cannot happen).
The local additions file is always read as well.
"""

from __future__ import annotations

import os
import stat as stat_module

from cardcheck import paths
from cardcheck.db import cache
from cardcheck.db.database import Database, LocalRecord, PlaceRecord
from cardcheck.db.index import ListIndex
from cardcheck.db.model import CandidateStatus, IndexState, SourceKind
from cardcheck.db.parse import (
    MAX_LIST_BYTES,
    MIN_ENTRIES,
    ListRejected,
    check_plausible,
    decode_list,
    parse_list,
)
from cardcheck.errors import EnvironmentProblem, InputError

ENV_DB = "CARDCHECK_DB"
"""Environment variable naming the list to use, like ``--db``."""

ENV_SYSTEM_LISTS = "CARDCHECK_SYSTEM_LISTS"
"""Environment variable replacing the system locations (``os.pathsep``-separated; for packagers
and tests). Empty means: no system location."""

LIST_NAME = "smartcard_list.txt"

SYSTEM_LISTS = (
    "/usr/share/pcsc/" + LIST_NAME,  # Debian, Ubuntu, Fedora (pcsc-tools package)
    "/usr/local/share/pcsc/" + LIST_NAME,  # built from source; Homebrew on Intel macOS
    "/usr/local/pcsc/" + LIST_NAME,  # older pcsc-tools installs (ATR_analysis looks here)
    "/opt/homebrew/share/pcsc/" + LIST_NAME,  # Homebrew on Apple silicon
)
"""Where pcsc-tools installs the list, in the order cardcheck looks."""

LOCAL_NAME = "local_atrs.txt"

INSTALL_HINT = (
    "install pcsc-tools (Debian/Ubuntu: sudo apt install pcsc-tools), "
    "or download the list with `cardcheck db update`"
)


def cardcheck_list_path() -> str:
    """cardcheck's own copy of the list, written only by ``cardcheck db update``."""
    return os.path.join(paths.cache_dir(), LIST_NAME)


def local_list_path() -> str:
    """The user's own additions: ``$XDG_CONFIG_HOME/cardcheck/local_atrs.txt``."""
    return os.path.join(paths.config_dir(), LOCAL_NAME)


def system_lists() -> tuple[str, ...]:
    """The system locations, or those of ``CARDCHECK_SYSTEM_LISTS`` when it is set."""
    override = os.environ.get(ENV_SYSTEM_LISTS)
    if override is None:
        return SYSTEM_LISTS
    return tuple(item for item in override.split(os.pathsep) if item)


def chain(db_path: str | os.PathLike[str] | None = None) -> list[tuple[str, SourceKind]]:
    """The places looked at, in order; only the explicit one with ``--db``/``CARDCHECK_DB``."""
    if db_path is not None:
        return [(os.fspath(db_path), SourceKind.OPTION)]
    env = os.environ.get(ENV_DB)
    if env:
        return [(env, SourceKind.ENVIRONMENT)]
    return [
        (cardcheck_list_path(), SourceKind.CARDCHECK_CACHE),
        (os.path.join(paths.cache_home(), LIST_NAME), SourceKind.PCSC_USER_CACHE),
        (os.path.join(os.path.expanduser("~"), ".smartcard_list.txt"), SourceKind.PCSC_HOME),
        *((path, SourceKind.SYSTEM) for path in system_lists()),
    ]


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as stream:
        return stream.read()


def fix_hint(path: str, kind: SourceKind) -> str:
    """How to fix a skipped list, depending on where it was found."""
    if kind is SourceKind.CARDCHECK_CACHE:
        return f"run `cardcheck db update` to download it again, or delete it: rm {path}"
    if kind in (SourceKind.PCSC_USER_CACHE, SourceKind.PCSC_HOME):
        return (
            f"delete it (rm {path}): pcsc-tools' ATR_analysis leaves an empty file there when "
            "an update fails, which hides every other list from it"
        )
    if kind is SourceKind.SYSTEM:
        return "reinstall pcsc-tools (Debian/Ubuntu: sudo apt install --reinstall pcsc-tools)"
    if kind is SourceKind.LOCAL:
        return f"fix or delete {path}: it uses the syntax of smartcard_list.txt"
    return (
        f"point {'--db' if kind is SourceKind.OPTION else ENV_DB} at a complete smartcard_list.txt"
    )


def _describe_os_error(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def load_list(
    path: str, *, min_entries: int = MIN_ENTRIES, use_cache: bool = True
) -> tuple[ListIndex, os.stat_result, IndexState, str | None]:
    """Read, check and index one list file (through the on-disk index cache).

    Raises FileNotFoundError when it is not there, ListRejected when it is not a usable list.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ListRejected(f"it cannot be read ({_describe_os_error(exc)})") from exc
    if stat_module.S_ISDIR(info.st_mode):
        raise ListRejected("it is a directory, not a file")
    if not stat_module.S_ISREG(info.st_mode):
        raise ListRejected("it is not a regular file (a pipe or a device is not read)")
    if info.st_size == 0:
        raise ListRejected("it is empty")
    if info.st_size > MAX_LIST_BYTES:
        raise ListRejected(
            f"it is {info.st_size} bytes, far more than an ATR list (at most {MAX_LIST_BYTES})"
        )
    if use_cache:
        cached = cache.load_index(path, info)
        if cached is not None and len(cached) >= min_entries:
            return cached, info, IndexState.CACHED, cache.index_path(path)
    try:
        data = _read_bytes(path)
    except OSError as exc:
        raise ListRejected(f"it cannot be read ({_describe_os_error(exc)})") from exc
    parsed = parse_list(decode_list(data))
    index = ListIndex.build(parsed)
    check_plausible(parsed, len(index), min_entries=min_entries)
    saved = cache.save_index(path, info, index) if use_cache else None
    state = IndexState.BUILT if saved is not None else IndexState.MEMORY_ONLY
    return index, info, state, saved


def _load_local() -> tuple[LocalRecord, ListIndex | None]:
    path = local_list_path()
    try:
        info = os.stat(path)
        if not stat_module.S_ISREG(info.st_mode):
            return (path, True, "it is not a regular file"), None
        if info.st_size > MAX_LIST_BYTES:
            return (path, True, f"it is {info.st_size} bytes, far more than an ATR list"), None
        data = _read_bytes(path)
    except FileNotFoundError:
        return (path, False, None), None
    except OSError as exc:
        return (path, True, f"it cannot be read ({_describe_os_error(exc)})"), None
    try:
        index = ListIndex.build(parse_list(decode_list(data)))
    except ListRejected as exc:
        return (path, True, exc.reason), None
    return (path, True, None), index


def open_database(db_path: str | os.PathLike[str] | None = None) -> Database:
    """Open the ATR database: the first valid list of the chain, plus the local additions.

    ``db_path`` is ``--db``; ``CARDCHECK_DB`` plays the same part when it is None. With either,
    only that file is used: a ``--db`` path that does not exist is an :class:`InputError`
    (exit 2); an unusable explicit file, or no usable list anywhere in the chain, is an
    :class:`EnvironmentProblem` (exit 3). Skipped files are listed in ``Database.warnings``.
    """
    places = chain(db_path)
    explicit = places[0][1] in (SourceKind.OPTION, SourceKind.ENVIRONMENT)
    candidates: list[PlaceRecord] = []
    for position, (path, kind) in enumerate(places):
        try:
            index, info, state, saved = load_list(path, min_entries=1 if explicit else MIN_ENTRIES)
        except FileNotFoundError:
            if kind is SourceKind.OPTION:
                raise InputError(f"--db {path}: no such file", fix_hint(path, kind)) from None
            if kind is SourceKind.ENVIRONMENT:
                raise EnvironmentProblem(
                    f"{ENV_DB}={path}: no such file", fix_hint(path, kind)
                ) from None
            candidates.append((path, kind, CandidateStatus.MISSING, None, None))
            continue
        except ListRejected as exc:
            if explicit:
                raise EnvironmentProblem(
                    f"{path} is not a usable ATR list: {exc.reason}", fix_hint(path, kind)
                ) from None
            candidates.append(
                (path, kind, CandidateStatus.SKIPPED, exc.reason, fix_hint(path, kind))
            )
            continue
        candidates.append((path, kind, CandidateStatus.USED, None, None))
        candidates.extend(
            (later, later_kind, CandidateStatus.NOT_TRIED, None, None)
            for later, later_kind in places[position + 1 :]
        )
        local, local_index = _load_local()
        return Database(
            path=path,
            kind=kind,
            size=info.st_size,
            modified=info.st_mtime,
            index=index,
            index_state=state,
            index_path=saved,
            places=tuple(candidates),
            local=local,
            local_index=local_index,
        )
    skipped_lines = [
        f"skipped {path}: {reason}"
        for path, _, status, reason, _ in candidates
        if status is CandidateStatus.SKIPPED
    ]
    raise EnvironmentProblem(
        "no usable ATR list (smartcard_list.txt) was found",
        "\n".join([INSTALL_HINT, *skipped_lines]),
    )
