"""The JSON form of a decoded ATR: a public contract (documented in the README, golden-tested).

Keys come in a fixed order and are only changed on purpose:

``atr`` ("3B 8F 80 ...", upper case, single spaces), ``valid`` (false iff an error finding),
``convention`` ("direct", "inverse" or null), ``protocols`` (offered T values in TD order),
``fi``, ``di`` (null when RFU), ``fmax_mhz`` (float, null when RFU; 372/1/5.0 without TA1),
``ta1_present``, ``specific_mode`` (TA2 or null), ``extra_guard_time`` (TC1 N or null),
``waiting_time_integer`` (T=0 WI), ``t1`` (T=1 parameters or null), ``t15`` (global T=15
parameters or null), ``tck`` ({"present", "valid", "expected", "required"}),
``historical_bytes`` ("80 4F ..." or ""), ``historical_declared`` (K from T0), ``extra_bytes``
(after the end of the ATR, "" when none), ``interface_bytes`` (one object per TA/TB/TC/TD),
``historical`` (the decoded historical bytes), ``findings`` (one object per finding).
"""

from __future__ import annotations

from cardcheck.atr.model import AtrInfo
from cardcheck.errors import CardcheckError


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def _byte(value: int | None) -> str | None:
    return None if value is None else f"{value:02X}"


def atr_to_json(info: AtrInfo) -> dict[str, object]:
    """The JSON object of one decoded ATR (keys in the documented order)."""
    mode = info.specific_mode
    t1 = info.t1
    t15 = info.t15
    return {
        "atr": info.hex,
        "valid": info.valid,
        "convention": None if info.convention is None else info.convention.value,
        "protocols": list(info.protocols),
        "fi": info.rate.fi,
        "di": info.rate.di,
        "fmax_mhz": info.rate.fmax_mhz,
        "ta1_present": info.rate.explicit,
        "specific_mode": None
        if mode is None
        else {
            "protocol": mode.protocol,
            "implicit_parameters": mode.implicit_parameters,
            "can_change": mode.can_change,
        },
        "extra_guard_time": info.extra_guard_time,
        "waiting_time_integer": info.waiting_time_integer,
        "t1": None
        if t1 is None
        else {
            "ifsc": t1.ifsc,
            "bwi": t1.bwi,
            "cwi": t1.cwi,
            "edc": "crc" if t1.crc else "lrc",
        },
        "t15": None
        if t15 is None
        else {
            "clock_stop": None if t15.clock_stop is None else t15.clock_stop.value,
            "voltage_classes": [c.value for c in t15.voltage_classes],
            "class_indicator": _byte(t15.class_indicator),
            "spu": _byte(t15.spu),
        },
        "tck": {
            "present": info.tck.present,
            "valid": info.tck.valid,
            "expected": _byte(info.tck.expected),
            "required": info.tck.required,
        },
        "historical_bytes": _hex(info.historical),
        "historical_declared": info.historical_declared,
        "extra_bytes": _hex(info.extra),
        "interface_bytes": [
            {
                "name": ib.name,
                "offset": ib.offset,
                "value": f"{ib.value:02X}",
                "protocol": ib.protocol,
                "meaning": ib.meaning,
            }
            for ib in info.interface_bytes
        ],
        "historical": info.historical_info.to_json(),
        "findings": [f.to_json() for f in info.findings],
    }


def input_error_json(
    text: str, err: CardcheckError, *, line: int | None = None
) -> dict[str, object]:
    """The JSON object standing for an input that could not be read as an ATR.

    ``line`` (1-based, for ``--file``) is included only when given; ``error.position``
    (1-based) only when the error knows where in ``text`` the problem is.
    """
    out: dict[str, object] = {}
    if line is not None:
        out["line"] = line
    out["input"] = text
    error: dict[str, object] = {"code": err.code, "message": err.message.splitlines()[0]}
    position = getattr(err, "position", None)
    if isinstance(position, int):
        error["position"] = position
    out["error"] = error
    return out
