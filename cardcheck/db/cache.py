"""The on-disk cache of list indexes, under ``$XDG_CACHE_HOME/cardcheck/``.

One :mod:`marshal` file per list, keyed by the list's absolute path, size, modification and
change times and inode: any change to the list makes the cache stale and it is rebuilt. A
missing, stale, corrupt or unwritable cache is never an error: the index is built in memory.
"""

from __future__ import annotations

import marshal
import os
import zlib
from pathlib import Path

from cardcheck import paths
from cardcheck.db.index import FORMAT_VERSION, ListIndex

_MAGIC = "cardcheck-atr-index"

FileKey = tuple[str, int, int, int, int]
"""(absolute path, size, mtime_ns, ctime_ns, inode) of a list file."""


def file_key(path: Path, stat: os.stat_result) -> FileKey:
    """What identifies one version of a list file."""
    return (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def index_path(path: Path) -> Path:
    """Where the index of the list at ``path`` is cached."""
    name = os.path.abspath(path).encode("utf-8", "surrogateescape")
    return paths.cache_dir() / f"index-{zlib.crc32(name):08x}.marshal"


def load_index(path: Path, stat: os.stat_result) -> ListIndex | None:
    """The cached index of this version of the list, or None (missing, stale or corrupt)."""
    try:
        data = index_path(path).read_bytes()
    except OSError:
        return None
    try:
        magic, version, key, payload = marshal.loads(data)
        if magic != _MAGIC or version != FORMAT_VERSION or tuple(key) != file_key(path, stat):
            return None
        return ListIndex.from_data(payload)
    except (ValueError, TypeError, EOFError, IndexError):
        return None


def save_index(path: Path, stat: os.stat_result, index: ListIndex) -> Path | None:
    """Write the index of this version of the list; its path, or None when it cannot be written."""
    import tempfile  # not at module level: it is slow to import and only needed here

    target = index_path(path)
    blob = marshal.dumps((_MAGIC, FORMAT_VERSION, file_key(path, stat), index.to_data()))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".index-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(blob)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return None
    return target
