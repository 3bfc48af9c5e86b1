"""The ATR: decode it (ISO/IEC 7816-3 and 7816-4), time it, write it as JSON.

Entry points: :func:`cardcheck.atr.decode.decode_atr` (bytes -> ``AtrInfo``, never raises),
:func:`cardcheck.atr.parse_hex.parse_atr_text` (typed text -> bytes),
:func:`cardcheck.atr.jsonout.atr_to_json` (the JSON contract) and :mod:`cardcheck.atr.timing`.
The package imports nothing itself, so importing one of them stays cheap.
"""
