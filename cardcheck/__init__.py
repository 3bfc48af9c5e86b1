"""cardcheck: smart-card reader diagnostics (ATR decoding, card identification, reader checks)."""

__version__ = "0.1.0"
