"""A USB CCID reader holding one card, as messages in and out: what the usbfs handler serves.

Transport-free: :class:`CcidReader` takes whole bulk OUT messages and control requests and
queues the bulk IN answers and interrupt notifications. Every exchange is logged as a plain
dict (JSON-ready): control requests, each PC_to_RDR message with its decoded fields
(IccPowerOn voltage, PPS bytes, SetParameters, Escape), each answer, card insertion and
removal. Faults can be switched on: a reader that stops answering, a card removed during the
PPS, a card mute at some voltages. Standard library only (it runs in the system Python).
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cardcheck.testing.usbemu.descriptors import ReaderSpec

MESSAGE_NAMES: dict[int, str] = {
    0x62: "IccPowerOn",
    0x63: "IccPowerOff",
    0x65: "GetSlotStatus",
    0x6F: "XfrBlock",
    0x6C: "GetParameters",
    0x6D: "ResetParameters",
    0x61: "SetParameters",
    0x6B: "Escape",
    0x6E: "IccClock",
    0x6A: "T0APDU",
    0x69: "Secure",
    0x71: "Mechanical",
    0x72: "Abort",
    0x73: "SetDataRateAndClockFrequency",
}
"""PC_to_RDR message types (CCID 1.1 section 6.1)."""

CONTROL_NAMES: dict[tuple[int, int], str] = {
    (0x21, 0x01): "ABORT",
    (0xA1, 0x02): "GET_CLOCK_FREQUENCIES",
    (0xA1, 0x03): "GET_DATA_RATES",
    (0x80, 0x06): "GET_DESCRIPTOR",
    (0x00, 0x09): "SET_CONFIGURATION",
}
"""Control requests the emulation knows by name (bmRequestType, bRequest)."""

VOLTAGES: dict[int, str] = {0: "auto", 1: "5V", 2: "3V", 3: "1.8V"}
"""IccPowerOn bPowerSelect values."""

RDR_DATA_BLOCK = 0x80
RDR_SLOT_STATUS = 0x81
RDR_PARAMETERS = 0x82
RDR_ESCAPE = 0x83
RDR_DATA_RATE_CLOCK = 0x84
NOTIFY_SLOT_CHANGE = 0x50

ICC_ACTIVE, ICC_INACTIVE, ICC_ABSENT = 0, 1, 2
FAILED = 0x40
ERROR_ICC_MUTE = 0xFE
ERROR_NOT_SUPPORTED = 0x00


@dataclass
class Card:
    """The card in slot 0: its ATRs and how it behaves."""

    atr: bytes
    """The ATR after a cold reset (power on)."""
    warm_atr: bytes | None = None
    """The ATR after a warm reset (power on while powered); None: the cold one."""
    voltages: tuple[int, ...] | None = None
    """bPowerSelect values (1 5 V, 2 3 V, 3 1.8 V) at which it answers; None: every one."""
    pps: str = "accept"
    """``accept`` (echo the request), ``refuse`` (answer without PPS1) or ``mute``."""
    powered: bool = False
    """Whether the card is powered now."""
    t1_send_seq: int = 0
    """N(S) of the card's next T=1 I-block."""
    t1_last: bytes = b""
    """The card's last T=1 block (sent again on an R-block)."""


@dataclass
class Faults:
    """Faults to play (all off by default)."""

    silent_after: str | None = None
    """A message name: from its next occurrence on the reader answers nothing more."""
    silent_count: int = 1
    """Which occurrence of ``silent_after`` starts the silence (1: the first)."""
    remove_on_pps: bool = False
    """The card is pulled out while the PPS is exchanged."""


@dataclass
class CcidReader:
    """A CCID reader (one descriptor) with slots; slot 0 may hold a :class:`Card`."""

    spec: ReaderSpec
    """The reader's descriptor values."""
    card: Card | None = None
    """The card in slot 0; None when empty."""
    faults: Faults = field(default_factory=Faults)
    """Faults to play."""
    log: list[dict[str, Any]] = field(default_factory=list)
    """Every exchange, in order."""
    bulk_in: list[bytes] = field(default_factory=list)
    """Answers waiting for a bulk IN transfer."""
    interrupts: list[bytes] = field(default_factory=list)
    """Notifications waiting for an interrupt IN transfer."""
    silent: bool = False
    """True once the reader stopped answering."""
    counts: dict[str, int] = field(default_factory=dict)
    """How many of each message were received."""
    protocol: int = 0
    """bProtocolNum of the last SetParameters."""
    parameters: bytes = bytes([0x11, 0x00, 0x00, 0x0A, 0x00])
    """abProtocolData of the last SetParameters (T=0 defaults)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    """Held by every entry point: the handler thread and the control thread share the model."""
    started: float = field(default_factory=time.monotonic)
    """For the log's time stamps."""
    char_out: bytearray = field(default_factory=bytearray)
    """Character level: the card's bytes not yet read by the host."""
    t0_header: bytes | None = None
    """Character level, T=0: the header acknowledged, waiting for its data or a read."""

    def record(self, event: str, **fields: Any) -> None:
        """Append one log entry (``t`` in seconds since the start)."""
        entry: dict[str, Any] = {"t": round(time.monotonic() - self.started, 4), "ev": event}
        entry.update(fields)
        self.log.append(entry)

    # ------------------------------------------------------------------ card moves

    def insert(self, card: Card) -> None:
        """Put a card in slot 0 and notify the host."""
        with self.lock:
            self.card = card
            self.record("insert", atr=card.atr.hex(), warm_atr=(card.warm_atr or b"").hex())
            self._notify(present=True)

    def remove(self) -> None:
        """Take the card out of slot 0 and notify the host."""
        with self.lock:
            if self.card is None:
                return
            self.card = None
            self.record("remove")
            self._notify(present=False)

    def _notify(self, *, present: bool) -> None:
        slots = self.spec.max_slot_index + 1
        bits = 0b11 if present else 0b10
        payload = bits.to_bytes((2 * slots + 7) // 8, "little")
        self.interrupts.append(bytes([NOTIFY_SLOT_CHANGE]) + payload)

    # ------------------------------------------------------------------ control pipe

    def control(
        self, request_type: int, request: int, value: int, index: int, length: int, data: bytes
    ) -> bytes | None:
        """A control request: the IN data, b"" for an OUT request, None to stall."""
        with self.lock:
            name = CONTROL_NAMES.get((request_type, request), f"{request_type:02X}/{request:02X}")
            self.record(
                "control",
                request=name,
                bmRequestType=request_type,
                bRequest=request,
                wValue=value,
                wIndex=index,
                wLength=length,
            )
            return self._control(name, value, length, data)

    def _control(self, name: str, value: int, length: int, data: bytes) -> bytes | None:
        spec = self.spec
        if name == "GET_DESCRIPTOR":
            kind, index = value >> 8, value & 0xFF
            if kind == 1:
                return spec.device_descriptor()[:length]
            if kind == 2:
                return spec.configuration_descriptor()[:length]
            if kind == 3:
                strings = ("", spec.manufacturer, spec.product, "EMU0001")
                if index == 0:
                    return b"\x04\x03\x09\x04"[:length]
                if index < len(strings):
                    text = strings[index].encode("utf-16-le")
                    return (bytes([2 + len(text), 3]) + text)[:length]
            return None
        if name == "GET_DATA_RATES":
            if not spec.num_data_rates or not spec.data_rates:
                return None
            return b"".join(struct.pack("<I", r) for r in spec.data_rates)[:length]
        if name == "GET_CLOCK_FREQUENCIES":
            if not spec.num_clocks or not spec.clocks_khz:
                return None
            return b"".join(struct.pack("<I", c) for c in spec.clocks_khz)[:length]
        if name in ("ABORT", "SET_CONFIGURATION"):
            return b""
        return None

    # ------------------------------------------------------------------ bulk pipes

    def bulk_out(self, message: bytes) -> None:
        """A PC_to_RDR message; its answer (if any) is queued for bulk IN."""
        with self.lock:
            if len(message) < 10:
                self.record("bulk_out", msg="short", hex=message.hex())
                return
            kind = message[0]
            name = MESSAGE_NAMES.get(kind, f"0x{kind:02X}")
            self.counts[name] = self.counts.get(name, 0) + 1
            length = struct.unpack_from("<I", message, 1)[0]
            slot, seq = message[5], message[6]
            data = message[10 : 10 + length]
            entry: dict[str, Any] = {"msg": name, "slot": slot, "seq": seq, "hex": message.hex()}
            if self.silent or (
                self.faults.silent_after == name and self.counts[name] >= self.faults.silent_count
            ):
                if not self.silent:
                    self.record("fault", what=f"reader stops answering at {name}")
                self.silent = True
                self.record("bulk_out", **entry, unanswered=True)
                return
            answer = self._answer(kind, name, message, data, slot, seq, entry)
            self.record("bulk_out", **entry)
            self.record("bulk_in", msg=f"0x{answer[0]:02X}", hex=answer.hex())
            self.bulk_in.append(answer)

    def next_bulk_in(self) -> bytes | None:
        """The next answer for a bulk IN transfer, None while there is none."""
        with self.lock:
            return self.bulk_in.pop(0) if self.bulk_in else None

    def next_interrupt(self) -> bytes | None:
        """The next slot change notification, None while there is none."""
        with self.lock:
            return self.interrupts.pop(0) if self.interrupts else None

    def _state(self, slot: int) -> int:
        card = self.card if slot == 0 else None
        if card is None:
            return ICC_ABSENT
        return ICC_ACTIVE if card.powered else ICC_INACTIVE

    @staticmethod
    def _reply(
        kind: int, data: bytes, slot: int, seq: int, status: int, error: int = 0, last: int = 0
    ) -> bytes:
        return struct.pack("<BIBBBBB", kind, len(data), slot, seq, status, error, last) + data

    def _answer(
        self,
        kind: int,
        name: str,
        message: bytes,
        data: bytes,
        slot: int,
        seq: int,
        entry: dict[str, Any],
    ) -> bytes:
        card = self.card if slot == 0 else None
        state = self._state(slot)
        reply: Callable[..., bytes] = self._reply
        if name == "IccPowerOn":
            select = message[7]
            entry["bPowerSelect"] = select
            entry["voltage"] = VOLTAGES.get(select, f"0x{select:02X}")
            if card is None:
                return reply(RDR_DATA_BLOCK, b"", slot, seq, FAILED | ICC_ABSENT, ERROR_ICC_MUTE)
            if card.voltages is not None and select != 0 and select not in card.voltages:
                card.powered = False
                entry["card"] = "mute at this voltage"
                return reply(RDR_DATA_BLOCK, b"", slot, seq, FAILED | ICC_INACTIVE, ERROR_ICC_MUTE)
            warm = card.powered
            card.powered = True
            card.t1_send_seq = 0
            self.char_out.clear()
            self.t0_header = None
            # A reader that negotiates by itself (dwFeatures 0x40) gets no SetParameters: it
            # runs T=1 when the card offers it, as pcscd then asks for.
            self.protocol = 0
            if self.spec.features & 0x40 and 1 in atr_protocols(card.atr):
                self.protocol = 1
            atr = card.warm_atr if warm and card.warm_atr else card.atr
            entry["reset"] = "warm" if warm else "cold"
            return reply(RDR_DATA_BLOCK, atr, slot, seq, ICC_ACTIVE)
        if name == "IccPowerOff":
            if card is not None:
                card.powered = False
            return reply(RDR_SLOT_STATUS, b"", slot, seq, self._state(slot), 0, 1)
        if name == "GetSlotStatus":
            return reply(RDR_SLOT_STATUS, b"", slot, seq, state, 0, 0)
        if name in ("GetParameters", "ResetParameters"):
            if name == "ResetParameters":
                self.protocol, self.parameters = 0, bytes([0x11, 0x00, 0x00, 0x0A, 0x00])
            return reply(RDR_PARAMETERS, self.parameters, slot, seq, state, 0, self.protocol)
        if name == "SetParameters":
            entry["bProtocolNum"] = message[7]
            entry["abProtocolData"] = data.hex()
            entry["bmFindexDindex"] = f"{data[0]:02X}" if data else None
            self.protocol, self.parameters = message[7], data
            return reply(RDR_PARAMETERS, data, slot, seq, state, 0, self.protocol)
        if name == "SetDataRateAndClockFrequency":
            if len(data) >= 8:
                entry["clock_hz"], entry["rate_bps"] = struct.unpack_from("<II", data, 0)
            return reply(RDR_DATA_RATE_CLOCK, data[:8], slot, seq, state)
        if name == "Escape":
            entry["data"] = data.hex()
            return reply(RDR_ESCAPE, b"", slot, seq, FAILED | state, ERROR_NOT_SUPPORTED)
        if name == "XfrBlock":
            entry["wLevelParameter"] = struct.unpack_from("<H", message, 8)[0]
            if card is None or not card.powered:
                return reply(RDR_DATA_BLOCK, b"", slot, seq, FAILED | state, ERROR_ICC_MUTE)
            if is_pps(data):
                entry["pps"] = data.hex()
                return self._pps(card, data, slot, seq, entry)
            if self.spec.exchange_level == 0:
                answer = self._characters(card, data, entry["wLevelParameter"])
            else:
                answer = self._card_answer(card, data, self.spec.exchange_level)
            return reply(RDR_DATA_BLOCK, answer, slot, seq, ICC_ACTIVE)
        return reply(RDR_SLOT_STATUS, b"", slot, seq, FAILED | state, ERROR_NOT_SUPPORTED)

    def _pps(self, card: Card, data: bytes, slot: int, seq: int, entry: dict[str, Any]) -> bytes:
        if self.faults.remove_on_pps:
            self.record("fault", what="card removed during the PPS")
            self.card = None
            self._notify(present=False)
            return self._reply(RDR_DATA_BLOCK, b"", slot, seq, FAILED | ICC_ABSENT, ERROR_ICC_MUTE)
        if card.pps == "mute":
            return self._reply(RDR_DATA_BLOCK, b"", slot, seq, FAILED | ICC_ACTIVE, ERROR_ICC_MUTE)
        if card.pps == "refuse":
            answer = bytes([0xFF, data[1] & 0x0F])
            answer += bytes([answer[0] ^ answer[1]])
            entry["card"] = "PPS refused"
            return self._reply(RDR_DATA_BLOCK, answer, slot, seq, ICC_ACTIVE)
        return self._reply(RDR_DATA_BLOCK, data, slot, seq, ICC_ACTIVE)

    def _characters(self, card: Card, data: bytes, wanted: int) -> bytes:
        """Character level (dwFeatures level 0): the host sends bytes and reads ``wanted``
        bytes back (wLevelParameter; 0: all there are). The card is a byte stream: a T=0
        header gets the procedure byte (INS), then either the command data (answered with the
        status word) or, when the host only reads, P3 bytes of data and the status word; a
        T=1 block gets the card's block."""
        if data:
            if self.protocol == 1:
                self.char_out += t1_answer(card, data)
            elif self.t0_header is None and len(data) == 5:
                self.t0_header = data
                self.char_out += data[1:2]  # ACK: the INS byte
            else:
                self.t0_header = None
                self.char_out += b"\x90\x00"
        elif self.t0_header is not None and not self.char_out and wanted:
            length = self.t0_header[4] or 256
            self.t0_header = None
            self.char_out += bytes(length) + b"\x90\x00"
        count = len(self.char_out) if wanted == 0 else wanted
        answer, self.char_out = bytes(self.char_out[:count]), self.char_out[count:]
        return answer

    def _card_answer(self, card: Card, data: bytes, level: int) -> bytes:
        """The card's answer to a TPDU (T=0, T=1 block) or an APDU (APDU-level readers)."""
        if level in (2, 4):
            return b"\x90\x00"
        if self.protocol == 1:
            return t1_answer(card, data)
        if len(data) == 5 and data[4]:
            return bytes(data[4]) + b"\x90\x00"
        return b"\x90\x00"


def atr_protocols(atr: bytes) -> tuple[int, ...]:
    """The protocols T that an ATR's TD bytes announce (T=0 without TD1)."""
    found: list[int] = []
    if len(atr) < 2:
        return (0,)
    index, y = 2, atr[1] >> 4
    while True:
        index += bin(y & 0x7).count("1")  # TA, TB, TC
        if not y & 0x8 or index >= len(atr):
            break
        td = atr[index]
        index += 1
        if td & 0x0F not in found:
            found.append(td & 0x0F)
        y = td >> 4
    return tuple(found) or (0,)


def is_pps(data: bytes) -> bool:
    """A PPS request: PPSS FF, PPS0, the PPS1-3 its bits announce, then PCK (XOR to zero)."""
    if len(data) < 3 or data[0] != 0xFF:
        return False
    expected = 3 + bin(data[1] & 0x70).count("1")
    check = 0
    for byte in data:
        check ^= byte
    return len(data) == expected and check == 0


def _lrc(block: bytes) -> bytes:
    check = 0
    for byte in block:
        check ^= byte
    return block + bytes([check])


def t1_answer(card: Card, block: bytes) -> bytes:
    """The card's T=1 block in answer to the host's (ISO 7816-3 section 11), LRC checked."""
    if len(block) < 4:
        return _lrc(bytes([0, 0x82, 0]))  # R-block, other error
    nad, pcb = block[0], block[1]
    if pcb & 0xC0 == 0xC0:  # S-block request: answer the same with the response bit
        info = block[3 : 3 + block[2]]
        out = _lrc(bytes([nad, pcb | 0x20, len(info)]) + info)
    elif pcb & 0x80 == 0:  # I-block
        if pcb & 0x20:  # chained: acknowledge with R(N(R) = next)
            out = _lrc(bytes([nad, 0x80 | ((((pcb >> 6) & 1) ^ 1) << 4), 0]))
            return out
        info = b"\x90\x00"
        out = _lrc(bytes([nad, card.t1_send_seq << 6, len(info)]) + info)
        card.t1_send_seq ^= 1
    else:  # R-block: send the last block again
        out = card.t1_last or _lrc(bytes([nad, 0x80, 0]))
    card.t1_last = out
    return out
