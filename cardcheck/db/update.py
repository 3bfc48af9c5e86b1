"""``cardcheck db update``: fetch a new public list, check it, and install it safely.

The new list is downloaded (or read with ``--from``) completely into memory, within one
deadline for the whole update (``--timeout``), checked (text, not an HTML page, parses, enough
entries, ends with the ``# do not delete`` trailer, at most a tenth of invalid entries, not much
smaller than the list in use; the last three can be overridden with --force), written to a
temporary file beside cardcheck's copy and renamed over it; the previous copy is kept as
``smartcard_list.txt.bak``. On any failure :class:`UpdateFailed` is raised and nothing changed.
Nothing is ever downloaded unless this is asked for.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cardcheck import __version__
from cardcheck.db.index import ListIndex
from cardcheck.db.model import IndexState
from cardcheck.db.parse import (
    MIN_ENTRIES,
    ListRejected,
    check_complete,
    check_plausible,
    decode_list,
    parse_list,
)
from cardcheck.db.sources import cardcheck_list_path, load_list, open_database
from cardcheck.errors import CardcheckError, InputError, UpdateFailed

DEFAULT_URL = "https://pcsc-tools.apdu.fr/smartcard_list.txt"
"""Where pcsc-tools publishes the list."""

DEFAULT_TIMEOUT = 30.0
"""Seconds the whole update may take: name lookup, connecting, waiting and receiving (or
reading --from FILE), and checking; a server that drips a byte a second is given up on."""

MAX_BYTES = 16 * 1024 * 1024
"""Largest download accepted (the list is about 0.6 MB in 2026)."""

SHRINK_LIMIT = 0.8
"""A new list with fewer entries than this share of the list in use is refused without --force."""

T = TypeVar("T")

Progress = Callable[[int, int | None], None]
"""Called as bytes arrive: (bytes so far, total announced by the server or None)."""


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What ``cardcheck db update`` did."""

    path: Path
    """cardcheck's copy of the list, now the new one."""
    source: str
    """The URL or file the new list came from."""
    size: int
    """Size of the new list in bytes."""
    entries: int
    """Usable entries of the new list."""
    patterns: int
    """How many of them are regular expressions."""
    changed: bool
    """False when the new list is byte for byte the copy already there (nothing was written)."""
    previous: Path | None
    """The list in use before the update, or None when there was none."""
    previous_entries: int | None
    """Its usable entries, or None."""
    backup: Path | None
    """Where cardcheck's previous copy was kept, or None when there was none."""
    index_state: IndexState
    """Whether the new index could be saved to the cache."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README (paths as strings, null when absent)."""
        return {
            "path": str(self.path),
            "source": self.source,
            "changed": self.changed,
            "size": self.size,
            "entries": self.entries,
            "patterns": self.patterns,
            "previous": None if self.previous is None else str(self.previous),
            "previous_entries": self.previous_entries,
            "backup": None if self.backup is None else str(self.backup),
            "index": self.index_state.value,
        }


def check_url(url: str) -> None:
    """Raise InputError (a usage error, exit 2) unless ``url`` is an http or https URL with a
    host: ``--url notaurl`` or ``--url http://[::1`` is a typo, not a failed download."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        host, reason = None, str(exc)
    else:
        reason = "it is not an http or https URL with a host"
        if parts.scheme.lower() not in ("http", "https"):
            host = None
    if not host:
        raise InputError(
            f"--url {url!r}: {reason}",
            f"give an http(s) URL, e.g. --url {DEFAULT_URL}, or a file with --from FILE",
        )


def _fail(message: str, hint: str | None = None) -> UpdateFailed:
    return UpdateFailed(message, hint or "the list in use was not changed")


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
) -> bytes:
    """Download ``url`` completely; raises UpdateFailed on any network or HTTP problem."""
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": f"cardcheck/{__version__}"})
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "") or ""
            if "html" in content_type.lower():
                raise _fail(f"{url} sent an HTML page ({content_type}), not the ATR list")
            announced = response.headers.get("Content-Length")
            total = int(announced) if announced and announced.isdigit() else None
            if total is not None and total > max_bytes:
                raise _fail(f"{url} announces {total} bytes, more than the {max_bytes} allowed")
            chunks: list[bytes] = []
            received = 0
            while True:
                # read1: what has arrived (read() would wait for the whole 64 KiB, a byte a
                # second); the deadline is checked between reads and bounded by run_bounded.
                chunk = response.read1(65536)
                if not chunk:
                    break
                received += len(chunk)
                if received > max_bytes:
                    raise _fail(f"{url} sent more than {max_bytes} bytes: not the ATR list")
                if time.monotonic() > deadline:
                    raise _too_slow(url, timeout)
                chunks.append(chunk)
                if progress is not None:
                    progress(received, total)
    except CardcheckError:
        raise
    except urllib.error.HTTPError as exc:
        raise _fail(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _fail(f"{url}: no answer within {timeout:g} s", _timeout_hint()) from exc
        raise _fail(f"cannot reach {url}: {exc.reason}", _offline_hint()) from exc
    except TimeoutError as exc:
        raise _fail(f"{url}: no answer within {timeout:g} s", _timeout_hint()) from exc
    except http.client.IncompleteRead as exc:
        raise _fail(f"{url}: the download was cut short ({len(exc.partial)} bytes)") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise _fail(f"{url}: the download failed ({exc or type(exc).__name__})") from exc
    if total is not None and received != total:
        raise _fail(f"{url}: the download was cut short ({received} of {total} bytes)")
    return b"".join(chunks)


def _too_slow(what: str, timeout: float) -> UpdateFailed:
    return _fail(f"{what}: the update took longer than --timeout {timeout:g} s", _timeout_hint())


def run_bounded(work: Callable[[], T], timeout: float, what: str) -> T:
    """``work()`` within ``timeout`` seconds in all (name lookups and reads that trickle in
    included, which no socket timeout bounds): it runs in a daemon thread that is abandoned
    when time is up (it only ever reads; the process ends soon after). Raises UpdateFailed
    then; Ctrl-C stays with the main thread, which only waits."""
    import threading

    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)

    thread = threading.Thread(target=target, name="cardcheck-db-update", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _too_slow(what, timeout)
    if failure:
        raise failure[0]
    return outcome[0]


def _timeout_hint() -> str:
    return "the list in use was not changed; try again later, or raise --timeout"


def _offline_hint() -> str:
    return (
        "the list in use was not changed; check the network, or download the file some other "
        "way and use `cardcheck db update --from FILE`"
    )


def read_new_list(source: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``--from FILE`` (at most ``max_bytes``: ``/dev/zero`` is not read for
    ever); raises UpdateFailed when it cannot be read or is too big."""
    try:
        with source.open("rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        raise _fail(f"cannot read {source}: {reason}") from exc
    if len(data) > max_bytes:
        raise _fail(f"{source} holds more than {max_bytes} bytes: not the ATR list")
    return data


def check_new_list(data: bytes, origin: str, *, force: bool = False) -> ListIndex:
    """Index the new list; raises UpdateFailed when it is not a complete ATR list. With
    ``force``, a list without the trailer or with many invalid entries is taken anyway."""
    try:
        text = decode_list(data)
        parsed = parse_list(text)
        index = ListIndex.build(parsed)
        check_plausible(parsed, len(index), min_entries=MIN_ENTRIES)
    except ListRejected as exc:
        raise _fail(f"{origin} is not a usable ATR list: {exc.reason}") from exc
    if not force:
        try:
            check_complete(text, parsed, len(index))
        except ListRejected as exc:
            raise _fail(
                f"{origin} is not a complete ATR list: {exc.reason}",
                "the list in use was not changed; download it again, or use --force to "
                "install it anyway",
            ) from exc
    return index


def _write_atomically(target: Path, data: bytes) -> None:
    import tempfile

    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def update_list(
    *,
    url: str | None = None,
    from_file: Path | None = None,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
) -> UpdateResult:
    """Fetch, check and install a new list as cardcheck's copy; see the module docstring."""
    origin = str(from_file) if from_file is not None else (url or DEFAULT_URL)
    if from_file is None:
        check_url(origin)

    def get() -> tuple[bytes, ListIndex]:
        if from_file is not None:
            data = read_new_list(from_file, max_bytes)
        else:
            data = fetch(origin, timeout=timeout, max_bytes=max_bytes, progress=progress)
        return data, check_new_list(data, origin, force=force)

    data, index = run_bounded(get, timeout, origin)

    previous: Path | None = None
    previous_entries: int | None = None
    try:
        in_use = open_database()
    except CardcheckError:
        in_use = None
    if in_use is not None:
        previous, previous_entries = Path(in_use.path), len(in_use.index)
        if not force and len(index) < SHRINK_LIMIT * previous_entries:
            raise _fail(
                f"{origin} holds {len(index)} entries, far fewer than the {previous_entries} of "
                f"the list in use ({previous}): it looks truncated",
                "the list in use was not changed; use --force to install it anyway",
            )

    target = Path(cardcheck_list_path())
    backup = target.with_name(target.name + ".bak")
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise _fail(f"cannot read {target}: {exc.strerror or exc}") from exc
    changed = current != data
    kept: Path | None = None
    if changed:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if current:
                _write_atomically(backup, current)
                kept = backup
            _write_atomically(target, data)
        except OSError as exc:
            raise _fail(
                f"cannot write {target}: {exc.strerror or exc}",
                f"the list in use was not changed; check the permissions of {target.parent}",
            ) from exc
    try:
        _, _, state, _ = load_list(str(target))
    except (OSError, ListRejected) as exc:  # pragma: no cover - it was checked just above
        raise _fail(f"{target} could not be indexed after the update: {exc}") from exc
    return UpdateResult(
        path=target,
        source=origin,
        size=len(data),
        entries=len(index),
        patterns=index.pattern_count,
        changed=changed,
        previous=previous,
        previous_entries=previous_entries,
        backup=kept,
        index_state=state,
    )
