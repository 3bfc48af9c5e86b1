"""Where cardcheck reads and writes files: XDG base directories and the project's atr_db/ folder.

Pure and import-light: paths are plain strings joined with :mod:`os.path`, so every command may
call it at start-up without importing :mod:`pathlib` (which brings ``re``, ``urllib.parse`` and
``ipaddress`` with it: about 5-8 ms, most of what identifying one ATR costs to set up).
"""

from __future__ import annotations

import os


def _xdg_dir(variable: str, default: str) -> str:
    # The XDG spec says relative values are invalid and must be ignored.
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return value
    return os.path.join(os.path.expanduser("~"), default)


def cache_home() -> str:
    """``$XDG_CACHE_HOME``, or ``~/.cache`` when it is unset, empty or relative."""
    return _xdg_dir("XDG_CACHE_HOME", ".cache")


def config_home() -> str:
    """``$XDG_CONFIG_HOME``, or ``~/.config`` when it is unset, empty or relative."""
    return _xdg_dir("XDG_CONFIG_HOME", ".config")


def cache_dir() -> str:
    """cardcheck's own cache: ``$XDG_CACHE_HOME/cardcheck`` (downloaded list, index files)."""
    return os.path.join(cache_home(), "cardcheck")


def config_dir() -> str:
    """cardcheck's own configuration: ``$XDG_CONFIG_HOME/cardcheck`` (local ATR additions)."""
    return os.path.join(config_home(), "cardcheck")


def _atr_db_candidates() -> tuple[str, str]:
    # Read cardcheck.__file__ at call time (tests stand in a fake installation there).
    import cardcheck

    package = os.path.dirname(os.path.realpath(cardcheck.__file__))
    return os.path.join(package, "atr_db"), os.path.join(os.path.dirname(package), "atr_db")


def atr_db_dir() -> str | None:
    """The project's data folder ``atr_db/``, or None when it cannot be found.

    In a wheel it is installed inside the package (``cardcheck/atr_db``); in a source checkout
    or an editable install it is the top-level ``atr_db/`` beside the package.
    """
    return next((c for c in _atr_db_candidates() if os.path.isdir(c)), None)


def atr_db_file(name: str) -> str | None:
    """The data file ``name`` of ``atr_db/`` (wheel location first), or None when missing."""
    files = (os.path.join(folder, name) for folder in _atr_db_candidates())
    return next((path for path in files if os.path.isfile(path)), None)
