"""libccid's speed choice (IFDHSetProtocolParameters) as a pure function.

The rules (REFERENCE.md section 4, libccid 1.5.2): the card's TA1 speed at the reader's default
clock is accepted when it is faster than the default and within dwMaxDataRate (and listed in the
reader's rate table, if it has one); a card that is too fast gets a lower TA1 (0x96, 0x95, 0x94)
when its TA1 is at most 0x97, else the default Fi=372, Di=1. Specific mode (TA2) forbids any of
that. The driver never changes the clock and never reads dwMaximumClock.
"""

from __future__ import annotations

from enum import StrEnum

from cardcheck.compat.ccid import CcidDescriptor, CcidFeature
from cardcheck.compat.quirks import ReaderQuirk
from cardcheck.values import Value, field, replace

# Fi and Di as libccid's ATR code reads them; RFU values are absent (the driver then uses 372/1).
_FI: dict[int, int] = {
    0x0: 372,
    0x1: 372,
    0x2: 558,
    0x3: 744,
    0x4: 1116,
    0x5: 1488,
    0x6: 1860,
    0x9: 512,
    0xA: 768,
    0xB: 1024,
    0xC: 1536,
    0xD: 2048,
}
_DI: dict[int, int] = {0x1: 1, 0x2: 2, 0x3: 4, 0x4: 8, 0x5: 16, 0x6: 32, 0x7: 64, 0x8: 12, 0x9: 20}

DEFAULT_TA1 = 0x11
"""Fi=372, Di=1: what the driver uses when it does not switch speed."""

RATE_TOLERANCE_BPS = 2
"""A computed rate matches a listed one when it is closer than this (integer rounding)."""

ADAPTED_LOWEST_TA1 = 0x94
"""The lowest TA1 the driver tries when the card is too fast (512/8)."""

ADAPTED_HIGHEST_CARD_TA1 = 0x97
"""The driver adapts only cards whose TA1 is at most this."""

UNRESPONSIVE_CARD = "SCARD_W_UNRESPONSIVE_CARD"


class SpeedOutcome(StrEnum):
    """What the driver does about the card's speed."""

    PROTOCOL_REFUSED = "protocol refused"
    """The requested protocol is not in dwProtocols, or differs from TA2's: connect fails."""
    READER_NEGOTIATES = "reader negotiates"
    """dwFeatures 0x40: the driver sends neither PPS nor SetParameters."""
    DEFAULT = "default"
    """The card asks for no more than the default speed (no TA1, or a slow one)."""
    CARD_SPEED = "card speed"
    """The driver runs the card at its TA1 speed."""
    ADAPTED = "adapted"
    """The card is too fast: the driver picked a lower TA1 (0x96, 0x95 or 0x94)."""
    FALLBACK = "fallback"
    """The card could go faster but the driver stays at Fi=372, Di=1."""
    SPEED_REFUSED = "speed refused"
    """Specific mode and the reader cannot run TA1's speed: the driver refuses the card."""
    IMPLICIT_REFUSED = "implicit parameters refused"
    """Specific mode with implicit parameters (TA2 bit 0x10): the driver refuses the card."""


class PpsBy(StrEnum):
    """Who negotiates the speed and protocol with the card."""

    READER = "reader"
    """The reader negotiates by itself (dwFeatures 0x40)."""
    READER_PPS = "reader PPS"
    """The driver sets the parameters and the reader does the PPS (dwFeatures 0x80)."""
    DRIVER = "driver"
    """libccid sends the PPS request."""
    NONE = "none"
    """No PPS: the card keeps its defaults."""
    SPECIFIC_MODE = "none (specific mode)"
    """No PPS: the card is in specific mode (TA2)."""


class DriverView(Value):
    """The reader as libccid sees it after its own corrections: all the speed choice reads."""

    default_clock_khz: int
    """dwDefaultClock: the card's clock, never changed by the driver."""
    max_data_rate_bps: int
    """dwMaxDataRate after the driver's quirks."""
    data_rates: tuple[int, ...] | None
    """The reader's rate table (GET_DATA_RATES); None when it has none."""
    protocols: tuple[int, ...]
    """Protocols in dwProtocols."""
    features: int
    """dwFeatures."""
    reader_max_data_rate_bps: int | None = None
    """dwMaxDataRate as the reader reports it, when a quirk replaced it; else None."""
    capped_by: str | None = None
    """The reader quirk that replaced dwMaxDataRate; None when none applied."""
    assumptions: tuple[str, ...] = ()
    """What had to be assumed because it is unknown (rate table, features, ...)."""

    @classmethod
    def from_descriptor(
        cls,
        desc: CcidDescriptor,
        *,
        data_rates: tuple[int, ...] | None,
        quirks: tuple[ReaderQuirk, ...] = (),
        assumptions: tuple[str, ...] = (),
    ) -> DriverView:
        """The driver's view of a descriptor, its rate table (None: none) and quirks."""
        view = cls(
            default_clock_khz=desc.default_clock_khz,
            max_data_rate_bps=desc.max_data_rate_bps,
            data_rates=data_rates,
            protocols=desc.protocols,
            features=desc.features_raw,
            assumptions=assumptions,
        )
        return view.with_quirks(quirks)

    def with_quirks(self, quirks: tuple[ReaderQuirk, ...]) -> DriverView:
        """Apply the driver's corrections (a replaced dwMaxDataRate) as libccid does."""
        view = self
        for quirk in quirks:
            if quirk.max_data_rate_bps is not None:
                view = replace(
                    view,
                    max_data_rate_bps=quirk.max_data_rate_bps,
                    reader_max_data_rate_bps=self.max_data_rate_bps,
                    capped_by=quirk.name,
                )
        return view


class RateAttempt(Value):
    """One lower TA1 the driver tried for a card that is too fast."""

    ta1: int
    """The TA1 tried."""
    rate_bps: int
    """Its bit rate at the reader's default clock."""
    accepted: bool
    """Whether the driver took it."""


class SpeedPrediction(Value):
    """What libccid will negotiate for one protocol."""

    protocol: int
    """The protocol T requested."""
    outcome: SpeedOutcome
    """What the driver does."""
    pps_by: PpsBy
    """Who negotiates with the card."""
    card_ta1: int | None
    """TA1 from the ATR; None when absent."""
    card_rate_bps: int | None
    """TA1's bit rate at the reader's default clock; None without TA1."""
    default_rate_bps: int
    """Fi=372, Di=1 at the reader's default clock."""
    chosen_ta1: int | None
    """The Fi/Di byte the driver sets; None when it sets nothing or refuses."""
    chosen_rate_bps: int | None
    """The bit rate that results; None when the reader decides or the card is refused."""
    max_data_rate_bps: int
    """The dwMaxDataRate the driver compares with (after quirks)."""
    specific_mode: bool
    """True when the ATR has TA2: the card runs at TA1's speed or not at all."""
    attempts: tuple[RateAttempt, ...]
    """Lower TA1 values tried (adapted speed), in order."""
    reason: str
    """One sentence: why the driver chose this."""
    pcsc_result: str | None
    """What SCardConnect gives when the driver refuses the card, if known; else None."""
    assumptions: tuple[str, ...] = field(default=())
    """What the prediction had to assume."""
    negotiated: bool = True
    """False when pcscd never has the driver set this protocol up: it asked for T=1, the
    reader refused it (dwProtocols), and pcscd kept the card's default protocol as it is (no
    PPS, no SetParameters: the card runs at its default speed)."""

    @property
    def refused(self) -> bool:
        """True when the driver refuses the card for this protocol."""
        return self.outcome in (
            SpeedOutcome.PROTOCOL_REFUSED,
            SpeedOutcome.SPEED_REFUSED,
            SpeedOutcome.IMPLICIT_REFUSED,
        )

    @property
    def slower_than_card(self) -> bool:
        """True when the card could run faster than the driver will let it."""
        return self.outcome in (SpeedOutcome.ADAPTED, SpeedOutcome.FALLBACK)

    @property
    def specific_mode_mismatch(self) -> bool:
        """Specific mode, and the driver sets the reader to another speed than the card's TA1.

        The card cannot change its speed then: every exchange fails.
        """
        if not self.specific_mode or self.refused or self.chosen_rate_bps is None:
            return False
        card = self.card_rate_bps if self.card_rate_bps is not None else self.default_rate_bps
        return self.chosen_rate_bps != card

    @property
    def pps_request(self) -> bytes | None:
        """The PPS request libccid sends (PPSS, PPS0, PPS1 when the speed changes, PCK).

        None when the driver sends none (no change needed, specific mode, or the reader
        negotiates by itself).
        """
        if self.pps_by is not PpsBy.DRIVER or self.refused or not self.negotiated:
            return None
        speed = self.outcome in (SpeedOutcome.CARD_SPEED, SpeedOutcome.ADAPTED)
        request = bytes([0xFF, (0x10 if speed else 0x00) | self.protocol])
        if speed and self.chosen_ta1 is not None:
            request += bytes([self.chosen_ta1])
        check = 0
        for byte in request:
            check ^= byte
        return request + bytes([check])

    @property
    def sends_set_parameters(self) -> bool:
        """Whether libccid sends SetParameters (with ``chosen_ta1`` as bmFindexDindex)."""
        return (
            self.negotiated
            and not self.refused
            and self.outcome is not SpeedOutcome.READER_NEGOTIATES
        )

    def to_json(self) -> dict[str, object]:
        """The ``speed`` object of ``compat --json``."""
        return {
            "protocol": self.protocol,
            "outcome": self.outcome.value,
            "pps_by": self.pps_by.value,
            "card_ta1": _hex(self.card_ta1),
            "card_rate_bps": self.card_rate_bps,
            "default_rate_bps": self.default_rate_bps,
            "chosen_ta1": _hex(self.chosen_ta1),
            "chosen_rate_bps": self.chosen_rate_bps,
            # 0xFFFFFFFF (rules.UNLIMITED_RATE_BPS) stands for "no known limit": null.
            "max_data_rate_bps": (
                None if self.max_data_rate_bps >= 0xFFFFFFFF else self.max_data_rate_bps
            ),
            "specific_mode": self.specific_mode,
            "attempts": [
                {"ta1": _hex(a.ta1), "rate_bps": a.rate_bps, "accepted": a.accepted}
                for a in self.attempts
            ],
            "reason": self.reason,
            "pcsc_result": self.pcsc_result,
            "assumptions": list(self.assumptions),
            "pps_request": None if self.pps_request is None else self.pps_request.hex(" ").upper(),
            "set_parameters": self.sends_set_parameters,
            "negotiated": self.negotiated,
        }


def _hex(value: int | None) -> str | None:
    return None if value is None else f"{value:02X}"


def fi_di(ta1: int) -> tuple[int, int]:
    """Fi and Di of a TA1 value as the driver takes them (RFU values give 372 and 1)."""
    fi = _FI.get(ta1 >> 4)
    di = _DI.get(ta1 & 0x0F)
    if fi is None or di is None:
        return 372, 1
    return fi, di


def rate_at(ta1: int, clock_khz: int) -> int:
    """The driver's bit rate for TA1 at a clock in kHz: 1000*clock*D/F, truncated like C."""
    fi, di = fi_di(ta1)
    return int(1000 * clock_khz * di / fi)


def is_listed(rate: int, table: tuple[int, ...]) -> bool:
    """Whether the rate table holds the rate, up to integer rounding (closer than 2 bit/s)."""
    return any(abs(rate - listed) < RATE_TOLERANCE_BPS for listed in table)


def predict_speed(
    reader: DriverView,
    *,
    ta1: int | None,
    ta2: int | None,
    protocol: int,
    default_protocol: int | None = None,
) -> SpeedPrediction:
    """libccid's speed choice for a card (TA1, TA2 raw bytes or None) and a requested protocol.

    ``default_protocol`` is the card's first offered protocol (T of TD1, 0 without TD1); it
    decides whether a PPS is needed at all. It defaults to TA2's protocol or the requested one.
    """
    if default_protocol is None:
        default_protocol = (ta2 & 0x0F) if ta2 is not None else protocol
    clock = reader.default_clock_khz
    default_rate = int(1000 * clock / 372)
    card_rate = rate_at(ta1, clock) if ta1 is not None else None
    specific = ta2 is not None

    def result(
        outcome: SpeedOutcome,
        reason: str,
        *,
        chosen: int | None,
        pps_by: PpsBy,
        attempts: tuple[RateAttempt, ...] = (),
        pcsc: str | None = None,
    ) -> SpeedPrediction:
        if outcome is SpeedOutcome.READER_NEGOTIATES or chosen is None:
            chosen_rate = None
        else:
            chosen_rate = rate_at(chosen, clock)
        return SpeedPrediction(
            protocol=protocol,
            outcome=outcome,
            pps_by=pps_by,
            card_ta1=ta1,
            card_rate_bps=card_rate,
            default_rate_bps=default_rate,
            chosen_ta1=chosen,
            chosen_rate_bps=chosen_rate,
            max_data_rate_bps=reader.max_data_rate_bps,
            specific_mode=specific,
            attempts=attempts,
            reason=reason,
            pcsc_result=pcsc,
            assumptions=reader.assumptions,
        )

    if protocol not in reader.protocols:
        declared = ", ".join(f"T={t}" for t in reader.protocols) or "no protocol"
        return result(
            SpeedOutcome.PROTOCOL_REFUSED,
            f"The reader's dwProtocols declares {declared}, not T={protocol}: the driver "
            "refuses the protocol.",
            chosen=None,
            pps_by=PpsBy.NONE,
        )
    if reader.features & CcidFeature.AUTO_NEGOTIATION:
        return result(
            SpeedOutcome.READER_NEGOTIATES,
            "The reader negotiates speed and protocol itself (dwFeatures 0x40): the driver "
            "sends neither PPS nor SetParameters.",
            chosen=None,
            pps_by=PpsBy.READER,
        )
    if ta2 is not None and (ta2 & 0x0F) != protocol:
        return result(
            SpeedOutcome.PROTOCOL_REFUSED,
            f"The card is in specific mode for T={ta2 & 0x0F} (TA2 {ta2:02X}): the driver "
            f"refuses T={protocol}.",
            chosen=None,
            pps_by=PpsBy.SPECIFIC_MODE,
        )

    outcome: SpeedOutcome
    chosen: int
    attempts: tuple[RateAttempt, ...] = ()
    if ta1 is None or card_rate is None:
        outcome, chosen = SpeedOutcome.DEFAULT, DEFAULT_TA1
        reason = f"No TA1: the card runs at the default Fi=372, Di=1 ({default_rate} bit/s)."
    elif default_rate < card_rate <= reader.max_data_rate_bps:
        if reader.data_rates is None or is_listed(card_rate, reader.data_rates):
            outcome, chosen = SpeedOutcome.CARD_SPEED, ta1
            reason = f"TA1 {ta1:02X} gives {card_rate} bit/s, within the reader's limits."
        elif specific:
            return result(
                SpeedOutcome.SPEED_REFUSED,
                f"TA1 {ta1:02X} gives {card_rate} bit/s, which the reader's rate table does "
                'not list ("Reader does not support"), and TA2 forbids another speed: the '
                "driver refuses the card.",
                chosen=None,
                pps_by=PpsBy.SPECIFIC_MODE,
                pcsc=UNRESPONSIVE_CARD,
            )
        else:
            outcome, chosen = SpeedOutcome.FALLBACK, DEFAULT_TA1
            reason = (
                f"TA1 {ta1:02X} gives {card_rate} bit/s, which the reader's rate table does "
                f"not list: the driver stays at Fi=372, Di=1 ({default_rate} bit/s)."
            )
    elif card_rate > reader.max_data_rate_bps + RATE_TOLERANCE_BPS:
        tried: list[RateAttempt] = []
        found: int | None = None
        if ta1 <= ADAPTED_HIGHEST_CARD_TA1:
            for lower in range(ta1 - 1, ADAPTED_LOWEST_TA1 - 1, -1):
                rate = rate_at(lower, clock)
                if reader.data_rates is not None:
                    ok = is_listed(rate, reader.data_rates)
                else:
                    ok = rate <= reader.max_data_rate_bps
                tried.append(RateAttempt(lower, rate, ok))
                if ok:
                    found = lower
                    break
        attempts = tuple(tried)
        if found is not None:
            outcome, chosen = SpeedOutcome.ADAPTED, found
            reason = (
                f"TA1 {ta1:02X} gives {card_rate} bit/s, above the reader's maximum "
                f"{reader.max_data_rate_bps} bit/s: the driver adapts to TA1 {found:02X} "
                f"({rate_at(found, clock)} bit/s)."
            )
        else:
            outcome, chosen = SpeedOutcome.FALLBACK, DEFAULT_TA1
            why = (
                "no lower TA1 from 96 to 94 fits"
                if ta1 <= ADAPTED_HIGHEST_CARD_TA1 and ta1 > ADAPTED_LOWEST_TA1
                else "the driver adapts only TA1 95 to 97"
            )
            reason = (
                f"TA1 {ta1:02X} gives {card_rate} bit/s, above the reader's maximum "
                f"{reader.max_data_rate_bps} bit/s, and {why}: the driver stays at Fi=372, "
                f"Di=1 ({default_rate} bit/s)."
            )
    elif card_rate > default_rate:
        # Within 2 bit/s above dwMaxDataRate: neither accepted nor adapted.
        outcome, chosen = SpeedOutcome.FALLBACK, DEFAULT_TA1
        reason = (
            f"TA1 {ta1:02X} gives {card_rate} bit/s, just above the reader's maximum "
            f"{reader.max_data_rate_bps} bit/s: the driver stays at Fi=372, Di=1."
        )
    else:
        outcome, chosen = SpeedOutcome.DEFAULT, DEFAULT_TA1
        reason = (
            f"TA1 {ta1:02X} is not faster than the default: the driver keeps Fi=372, Di=1 "
            f"({default_rate} bit/s)."
        )

    if ta2 is not None and ta2 & 0x10:
        return result(
            SpeedOutcome.IMPLICIT_REFUSED,
            f"TA2 {ta2:02X} says the card's parameters are implicit (not those of TA1): the "
            "driver refuses the card.",
            chosen=None,
            pps_by=PpsBy.SPECIFIC_MODE,
            attempts=attempts,
        )

    pps_by: PpsBy
    pps1 = outcome in (SpeedOutcome.CARD_SPEED, SpeedOutcome.ADAPTED)
    if specific:
        pps_by = PpsBy.SPECIFIC_MODE
    elif reader.features & CcidFeature.AUTO_PPS:
        pps_by = PpsBy.READER_PPS
    elif pps1 or protocol != default_protocol:
        pps_by = PpsBy.DRIVER
    else:
        pps_by = PpsBy.NONE
    return result(outcome, reason, chosen=chosen, pps_by=pps_by, attempts=attempts)
