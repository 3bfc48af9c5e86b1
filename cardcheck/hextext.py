"""Bytes written the way cardcheck, pcsc-tools and users write ATRs: ``3B 8F 80 01``."""

from __future__ import annotations


def spaced_hex(data: bytes) -> str:
    """Upper-case hex pairs separated by single spaces; ``""`` for no bytes."""
    return data.hex(" ").upper()
