"""`cardcheck atr`: decode and explain ATRs (placeholder until the decoder lands)."""

from __future__ import annotations

from cardcheck.cli import app


@app.command()
def atr(atr: list[str]) -> None:
    """Decode an ATR."""
    print(" ".join(atr))
