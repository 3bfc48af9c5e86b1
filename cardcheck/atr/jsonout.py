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

from cardcheck.atr.historical import (
    ApplicationIdentifier,
    CardCapabilities,
    CardServiceData,
    Decoded,
    HistoricalInfo,
    StatusIndicator,
    StorageCard,
    TlvObject,
)
from cardcheck.atr.model import AtrInfo, InterfaceByte, Tck
from cardcheck.errors import CardcheckError
from cardcheck.findings import Finding
from cardcheck.hextext import spaced_hex

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    _Value = TypeVar("_Value")

_hex = spaced_hex


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


# --- the same JSON as text, written directly -------------------------------------------------
#
# ``cardcheck atr --file`` writes thousands of these objects; building the dicts above and then
# running json.dumps over them costs several times more than the decoding itself. The functions
# below write the text of ``json.dumps(atr_to_json(info), ensure_ascii=False)`` directly, key
# for key in the same order, with the same separators (", " and ": "). Numbers are written by
# repr() as json does; every string that is not hex or a fixed word goes through :func:`quote`,
# which escapes as json.dumps does. Any change to a ``to_json`` form must be made here too: the
# CLI's golden outputs compare the two.

_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x20)} | {
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("\b"): "\\b",
    ord("\f"): "\\f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}
"""What JSON escapes in a string (RFC 8259, section 7), written as json.dumps writes it."""


def quote(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)``: ``text`` as a JSON string.

    Written here rather than taken from :mod:`json`, whose package import (its decoder, and
    :mod:`re` for it) is a tenth of a one-ATR ``cardcheck atr --json``, which reads no JSON.
    ``tests/test_json_text.py`` compares the two on any string.
    """
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # nothing to escape: the common case
    return f'"{text.translate(_ESCAPES)}"'


def _q(text: str | None) -> str:
    return "null" if text is None else quote(text)


def _n(value: int | float | None) -> str:
    return "null" if value is None else repr(value)


def _b(value: bool | None) -> str:
    if value is None:
        return "null"
    return "true" if value else "false"


def _hx(value: int | None) -> str:
    return "null" if value is None else f'"{value:02X}"'


def findings_json_text(findings: tuple[Finding, ...]) -> str:
    """``json.dumps([f.to_json() for f in findings], ensure_ascii=False)``."""
    if not findings:
        return "[]"
    parts = []
    for f in findings:
        advice = "" if f.advice is None else ', "advice": ' + quote(f.advice)
        parts.append(
            f'{{"severity": "{f.severity._value_}", "code": {quote(f.code)}, '
            f'"message": {quote(f.message)}, "offset": {_n(f.offset)}{advice}}}'
        )
    return "[" + ", ".join(parts) + "]"


def _shared_text(value: _Value, write: Callable[[_Value], str]) -> str:
    """``write(value)``, kept by the identity of ``value``.

    The decoder shares its values between the ATRs of a list that start alike or carry the
    same bytes (interface bytes, TCK verdicts, card service data, capabilities, status): their
    text is made once. Each entry keeps its value alive, so that the id stays its own.
    """
    known = _TEXTS.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    text = write(value)
    if len(_TEXTS) >= _TEXTS_SIZE:
        _TEXTS.clear()
    _TEXTS[id(value)] = (value, text)
    return text


def cache_clear() -> None:
    """Forget every JSON text kept so far: a fresh start, as in a new process (benchmarks)."""
    _TEXTS.clear()
    _SETTINGS_TEXTS.clear()
    _BYTE_TEXTS.clear()


_TEXTS: dict[int, tuple[object, str]] = {}
"""id(value) -> (that value, its JSON text)."""
_TEXTS_SIZE = 4096
"""Entries kept before the cache starts over."""


def _interface_text(interface: tuple[InterfaceByte, ...]) -> str:
    return "[" + ", ".join([_interface_byte_text(ib) for ib in interface]) + "]"


def _interface_byte_text(ib: InterfaceByte) -> str:
    """The text of one interface byte, kept by what it shows: the ATRs of a list that do not
    start alike still share most of their interface bytes (TD1 80 at offset 2, ...)."""
    key = (ib.name, ib.offset, ib.value, ib.protocol, ib.meaning)
    text = _BYTE_TEXTS.get(key)
    if text is None:
        text = (
            f'{{"name": "{ib.name}", "offset": {ib.offset}, "value": "{ib.value:02X}", '
            f'"protocol": {_n(ib.protocol)}, "meaning": {quote(ib.meaning)}}}'
        )
        if len(_BYTE_TEXTS) >= _TEXTS_SIZE:
            _BYTE_TEXTS.clear()
        _BYTE_TEXTS[key] = text
    return text


_BYTE_TEXTS: dict[tuple[str, int, int, int | None, str], str] = {}
"""(name, offset, value, protocol, meaning) of an interface byte -> its JSON text."""


def _tck_text(tck: Tck) -> str:
    return (
        f'{{"present": {_b(tck.present)}, "valid": {_b(tck.valid)}, '
        f'"expected": {_hx(tck.expected)}, "required": {_b(tck.required)}}}'
    )


def _status_text(s: StatusIndicator) -> str:
    life = "null" if s.life_cycle is None else f'"{s.life_cycle._value_}"'
    sw = "null" if s.sw is None else f'"{s.sw:04X}"'
    return (
        f'{{"lcs": {_n(s.lcs)}, "life_cycle": {life}, "sw": {sw}, '
        f'"sw_meaning": {_q(s.sw_meaning)}, "offset": {s.offset}}}'
    )


def _service_text(s: CardServiceData) -> str:
    access = "null" if s.access is None else f'"{s.access._value_}"'
    return (
        f'{{"select_by_full_df_name": {_b(s.select_by_full_df_name)}, '
        f'"select_by_partial_df_name": {_b(s.select_by_partial_df_name)}, '
        f'"ber_tlv_in_ef_dir": {_b(s.ber_tlv_in_ef_dir)}, '
        f'"ber_tlv_in_ef_atr": {_b(s.ber_tlv_in_ef_atr)}, '
        f'"access": {access}, "has_mf": {_b(s.has_mf)}}}'
    )


def _capabilities_text(c: CardCapabilities) -> str:
    methods = ", ".join([f'"{m._value_}"' for m in c.selection_methods])
    dc = c.data_coding
    coding = (
        "null"
        if dc is None
        else f'{{"tlv_efs": {_b(dc.tlv_efs)}, "write_behaviour": "{dc.write_behaviour._value_}", '
        f'"ff_tag_valid": {_b(dc.ff_tag_valid)}, "data_unit_quartets": {dc.data_unit_quartets}}}'
    )
    return (
        f'{{"selection_methods": [{methods}], "data_coding": {coding}, '
        f'"command_chaining": {_b(c.command_chaining)}, '
        f'"extended_lc_le": {_b(c.extended_lc_le)}, '
        f'"extended_length_info": {_b(c.extended_length_info)}, '
        f'"logical_channels": {_b(c.logical_channels)}, '
        f'"channels_assigned_by_card": {_b(c.channels_assigned_by_card)}, '
        f'"channels_assigned_by_interface": {_b(c.channels_assigned_by_interface)}, '
        f'"max_logical_channels": {_n(c.max_logical_channels)}}}'
    )


def _aid_text(a: ApplicationIdentifier) -> str:
    return (
        f'{{"aid": "{a.aid.hex().upper()}", "rid": "{a.rid.hex().upper()}", '
        f'"pix": "{a.pix.hex().upper()}", "provider": {_q(a.provider)}}}'
    )


def _storage_text(s: StorageCard) -> str:
    return (
        f'{{"standard_code": "{s.standard_code:02X}", "standard": {_q(s.standard)}, '
        f'"card_name_code": "{s.card_name_code:04X}", "card_name": {_q(s.card_name)}, '
        f'"rfu": "{s.rfu.hex().upper()}", "offset": {s.offset}}}'
    )


def _decoded_text(d: Decoded | None) -> str:
    return "null" if d is None else _shared_text(d, _decoded_text_of)


def _decoded_text_of(d: Decoded) -> str:
    if isinstance(d, StatusIndicator):
        return _status_text(d)
    if isinstance(d, CardServiceData):
        return _service_text(d)
    if isinstance(d, CardCapabilities):
        return _capabilities_text(d)
    if isinstance(d, ApplicationIdentifier):
        return _aid_text(d)
    return _storage_text(d)


def _object_text(o: TlvObject) -> str:
    return (
        f'{{"tag": "{o.tag:X}", "name": {_q(o.name)}, "length": {o.length}, '
        f'"value": "{o.value.hex().upper()}", '
        f'"complete": {"true" if o.complete else "false"}, '
        f'"meaning": {quote(o.meaning)}, "decoded": {_decoded_text(o.decoded)}, '
        f'"offset": {o.offset}}}'
    )


def historical_json_text(h: HistoricalInfo) -> str:
    """``json.dumps(h.to_json(), ensure_ascii=False)``."""
    # Cards of a family share their compact-TLV objects (the decoder keeps them by bytes and
    # place): the text of each is made once.
    objects = ", ".join([_shared_text(o, _object_text) for o in h.objects])
    caps = h.card_capabilities
    return (
        f'{{"raw": "{h.raw.hex().upper()}", "offset": {h.offset}, '
        f'"category": "{h.category._value_}", "objects": [{objects}], '
        f'"status": {_decoded_text(h.status)}, '
        f'"card_capabilities": {_decoded_text(caps)}, '
        f'"extended_lc_le": {_b(None if caps is None else caps.extended_lc_le)}, '
        f'"card_service_data": {_decoded_text(h.card_service_data)}, '
        f'"application_identifier": {_decoded_text(h.application_identifier)}, '
        f'"pcsc_storage": {_decoded_text(h.pcsc_storage)}, '
        f'"dir_reference": {_n(h.dir_reference)}, "ascii": {_q(h.ascii)}, '
        f'"findings": {findings_json_text(h.findings)}}}'
    )


def atr_json_text(info: AtrInfo, *, line: int | None = None) -> str:
    """``json.dumps(atr_to_json(info), ensure_ascii=False)``, written directly (see above).

    With ``line``, the object starts with ``"line": line`` (the ``--file`` form). The text
    ends with the closing brace, so a caller may cut it off to append keys.
    """
    findings = info.findings
    head = "{" if line is None else f'{{"line": {line}, '
    return (
        f'{head}"atr": "{_hex(info.raw)}", "valid": {_b(not findings or info.valid)}, '
        f"{_settings_text(info)}"
        f'"tck": {_shared_text(info.tck, _tck_text)}, '
        f'"historical_bytes": "{_hex(info.historical)}", '
        f'"historical_declared": {info.historical_declared}, '
        f'"extra_bytes": "{_hex(info.extra)}", '
        f'"interface_bytes": {_shared_text(info.interface_bytes, _interface_text)}, '
        f'"historical": {historical_json_text(info.historical_info)}, '
        f'"findings": {findings_json_text(findings)}}}'
    )


def _settings_text(info: AtrInfo) -> str:
    """The keys from "convention" to "t15", each followed by ", ": what T0 and the interface
    bytes say. ATRs that start alike share these values (decode_atr caches them), so their text
    is kept by the identity of all of them; each entry keeps its values alive."""
    convention = info.convention
    protocols = info.protocols
    rate = info.rate
    mode = info.specific_mode
    extra_guard_time = info.extra_guard_time
    wi = info.waiting_time_integer
    t1 = info.t1
    t15 = info.t15
    key = (
        id(convention),
        id(protocols),
        id(rate),
        id(mode),
        id(extra_guard_time),
        id(wi),
        id(t1),
        id(t15),
    )
    known = _SETTINGS_TEXTS.get(key)
    if known is not None:
        return known[1]
    mode_text = (
        "null"
        if mode is None
        else f'{{"protocol": {mode.protocol}, '
        f'"implicit_parameters": {_b(mode.implicit_parameters)}, '
        f'"can_change": {_b(mode.can_change)}}}'
    )
    t1_text = (
        "null"
        if t1 is None
        else f'{{"ifsc": {t1.ifsc}, "bwi": {t1.bwi}, "cwi": {t1.cwi}, '
        f'"edc": "{"crc" if t1.crc else "lrc"}"}}'
    )
    if t15 is None:
        t15_text = "null"
    else:
        stop = "null" if t15.clock_stop is None else f'"{t15.clock_stop._value_}"'
        classes = ", ".join([f'"{c._value_}"' for c in t15.voltage_classes])
        t15_text = (
            f'{{"clock_stop": {stop}, "voltage_classes": [{classes}], '
            f'"class_indicator": {_hx(t15.class_indicator)}, "spu": {_hx(t15.spu)}}}'
        )
    conv = "null" if convention is None else f'"{convention._value_}"'
    text = (
        f'"convention": {conv}, '
        f'"protocols": [{", ".join([repr(p) for p in protocols])}], '
        f'"fi": {_n(rate.fi)}, "di": {_n(rate.di)}, '
        f'"fmax_mhz": {_n(rate.fmax_mhz)}, "ta1_present": {_b(rate.explicit)}, '
        f'"specific_mode": {mode_text}, "extra_guard_time": {_n(extra_guard_time)}, '
        f'"waiting_time_integer": {wi}, "t1": {t1_text}, "t15": {t15_text}, '
    )
    if len(_SETTINGS_TEXTS) >= _TEXTS_SIZE:
        _SETTINGS_TEXTS.clear()
    _SETTINGS_TEXTS[key] = (
        (convention, protocols, rate, mode, extra_guard_time, wi, t1, t15),
        text,
    )
    return text


_SETTINGS_TEXTS: dict[tuple[int, ...], tuple[tuple[object, ...], str]] = {}
"""The ids of the values of :func:`_settings_text` -> (those values, their JSON text)."""
