"""The on-disk cache of list indexes, under ``$XDG_CACHE_HOME/cardcheck/``.

One :mod:`marshal` file per list, keyed by the list's absolute path, size, modification and
change times and inode: any change to the list makes the cache stale and it is rebuilt. A
missing, stale, corrupt or unwritable cache is never an error: the index is built in memory.

Each file holds two marshal objects: a small header (magic, format version, key) and the
index. Whenever an index is saved (and after ``db update``), :func:`prune` reads only the
headers of the other files and removes those of lists that are gone or have changed since,
of an older format, or unreadable: a list used once with ``--db`` leaves no cache for ever.
"""

from __future__ import annotations

import marshal
import os
import zlib

from cardcheck import paths
from cardcheck.db.index import FORMAT_VERSION, ListIndex

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from typing import BinaryIO

_MAGIC = "cardcheck-atr-index"

FileKey = tuple[str, int, int, int, int]
"""(absolute path, size, mtime_ns, ctime_ns, inode) of a list file."""


def file_key(path: str, stat: os.stat_result) -> FileKey:
    """What identifies one version of a list file."""
    return (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def index_path(path: str) -> str:
    """Where the index of the list at ``path`` is cached."""
    name = os.path.abspath(path).encode("utf-8", "surrogateescape")
    return os.path.join(paths.cache_dir(), f"index-{zlib.crc32(name):08x}.marshal")


def load_index(path: str, stat: os.stat_result) -> ListIndex | None:
    """The cached index of this version of the list, or None (missing, stale or corrupt)."""
    try:
        with open(index_path(path), "rb") as stream:
            if _header(stream) != file_key(path, stat):
                return None
            # One read of the rest, then loads: marshal.load on a stream reads it in many
            # small pieces (about twice as slow for an index of half a megabyte).
            return ListIndex.from_data(marshal.loads(stream.read()))
    except (OSError, ValueError, TypeError, EOFError, IndexError):
        return None


def _header(stream: BinaryIO) -> FileKey | None:
    """The key in the header of an index file; None when it is not one of this format."""
    header = marshal.load(stream)
    if not isinstance(header, tuple) or len(header) != 3:
        return None
    magic, version, key = header
    if magic != _MAGIC or version != FORMAT_VERSION or not isinstance(key, tuple):
        return None
    return key


def save_index(path: str, stat: os.stat_result, index: ListIndex) -> str | None:
    """Write the index of this version of the list; its path, or None when it cannot be written."""
    import tempfile  # not at module level: it is slow to import and only needed here

    target = index_path(path)
    header = marshal.dumps((_MAGIC, FORMAT_VERSION, file_key(path, stat)))
    blob = header + marshal.dumps(index.to_data())
    try:
        folder = os.path.dirname(target)
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".index-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(blob)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return None
    prune(keep=target)
    return target


def prune(keep: str | None = None) -> list[str]:
    """Remove the index files (other than ``keep``) of lists that no longer exist or have
    changed since, of another format, or unreadable, and temporary files left by a writer
    that was killed; returns what was removed. Never raises."""
    import contextlib
    import time

    removed: list[str] = []
    folder = paths.cache_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    candidates = [
        os.path.join(folder, name)
        for name in names
        if name.startswith("index-") and name.endswith(".marshal")
    ]
    leftovers = [os.path.join(folder, name) for name in names if name.startswith(".index-")]
    for candidate in candidates:
        if keep is not None and candidate == keep:
            continue
        try:
            with open(candidate, "rb") as stream:
                key = _header(stream)
        except (OSError, ValueError, TypeError, EOFError):
            key = None
        if key is not None:
            try:
                if file_key(key[0], os.stat(key[0])) == tuple(key):
                    continue  # the list is there, unchanged: its index is still good
            except (OSError, TypeError, IndexError):
                pass
        with contextlib.suppress(OSError):
            os.unlink(candidate)
            removed.append(candidate)
    for leftover in leftovers:
        with contextlib.suppress(OSError):
            if time.time() - os.stat(leftover).st_mtime > 3600:
                os.unlink(leftover)
                removed.append(leftover)
    return removed
