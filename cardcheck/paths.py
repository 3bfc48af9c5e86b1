"""Where cardcheck reads and writes files: XDG base directories and the project's atr_db/ folder.

Pure and import-light (os and pathlib only): every command may call it at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path


def _xdg_dir(variable: str, default: str) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / default


def cache_home() -> Path:
    """``$XDG_CACHE_HOME``, or ``~/.cache`` when it is unset, empty or relative."""
    return _xdg_dir("XDG_CACHE_HOME", ".cache")


def config_home() -> Path:
    """``$XDG_CONFIG_HOME``, or ``~/.config`` when it is unset, empty or relative."""
    return _xdg_dir("XDG_CONFIG_HOME", ".config")


def cache_dir() -> Path:
    """cardcheck's own cache: ``$XDG_CACHE_HOME/cardcheck`` (downloaded list, index files)."""
    return cache_home() / "cardcheck"


def config_dir() -> Path:
    """cardcheck's own configuration: ``$XDG_CONFIG_HOME/cardcheck`` (local ATR additions)."""
    return config_home() / "cardcheck"


def _atr_db_candidates() -> tuple[Path, Path]:
    # Read cardcheck.__file__ at call time (tests stand in a fake installation there).
    import cardcheck

    package = Path(cardcheck.__file__).resolve().parent
    return package / "atr_db", package.parent / "atr_db"


def atr_db_dir() -> Path | None:
    """The project's data folder ``atr_db/``, or None when it cannot be found.

    In a wheel it is installed inside the package (``cardcheck/atr_db``); in a source checkout
    or an editable install it is the top-level ``atr_db/`` beside the package.
    """
    return next((c for c in _atr_db_candidates() if c.is_dir()), None)


def atr_db_file(name: str) -> Path | None:
    """The data file ``name`` of ``atr_db/`` (wheel location first), or None when missing."""
    return next((c / name for c in _atr_db_candidates() if (c / name).is_file()), None)
