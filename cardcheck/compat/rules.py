"""Card ATR x reader capabilities -> findings, a speed prediction and a verdict (pure).

The reader comes from its CCID class descriptor, from values given by hand, or is unknown (a
reader that is not USB CCID, such as the virtual reader). The predictions follow pcscd and
libccid 1.5.2 (REFERENCE.md section 4). Verdict: fail if any error, warn if any warning, else
pass.
"""

from __future__ import annotations

from enum import StrEnum

from cardcheck.atr.model import AtrInfo, VoltageClass
from cardcheck.compat.ccid import CcidDescriptor, CcidFeature, ExchangeLevel, UsbCcidInterface
from cardcheck.compat.clock import ClockAdvice, clock_advice
from cardcheck.compat.firmware import bcd_text, refused_firmware
from cardcheck.compat.quirks import ReaderQuirk, quirks_for
from cardcheck.compat.speed import (
    DEFAULT_TA1,
    DriverView,
    PpsBy,
    SpeedOutcome,
    SpeedPrediction,
    predict_speed,
)
from cardcheck.findings import Finding, Severity
from cardcheck.values import Value, replace

UNLIMITED_RATE_BPS = 0xFFFFFFFF
"""dwMaxDataRate assumed when the reader's maximum is unknown (the largest value it can hold)."""

_VOLTS: dict[VoltageClass, str] = {
    VoltageClass.A: "5 V",
    VoltageClass.B: "3 V",
    VoltageClass.C: "1.8 V",
}
_VOLTAGE_BY_TEXT: dict[str, VoltageClass] = {
    "5": VoltageClass.A,
    "5.0": VoltageClass.A,
    "3": VoltageClass.B,
    "3.0": VoltageClass.B,
    "1.8": VoltageClass.C,
}
FIRST_VOLTAGE_ORDER: tuple[VoltageClass, ...] = (VoltageClass.A, VoltageClass.B, VoltageClass.C)
"""libccid's first power-up voltage (default driver options): 5 V, else 3 V, else 1.8 V, the first
the reader supplies (seen with the emulated readers: a 3 V + 1.8 V reader starts at 3 V)."""
POWER_UP_ORDER: tuple[VoltageClass, ...] = (VoltageClass.A, VoltageClass.C, VoltageClass.B)
"""The order in which libccid retries when the card stays mute: 5 V, 1.8 V, 3 V, and round."""
AUTO_VOLTAGE_FEATURES = CcidFeature.AUTO_VOLTAGE | CcidFeature.AUTO_ACTIVATION
"""dwFeatures bits for which libccid lets the reader choose the voltage (bPowerSelect 0)."""


class CapabilitySource(StrEnum):
    """Where the reader's capabilities come from."""

    DESCRIPTOR = "descriptor"
    """The USB CCID class descriptor."""
    DESCRIPTOR_AND_FLAGS = "descriptor and flags"
    """The descriptor, with some values given by hand."""
    FLAGS = "flags"
    """Values given by hand (--clock, --max-rate, --voltages, --protocols)."""
    UNKNOWN = "unknown"
    """Nothing is known: not a USB CCID reader."""


class Verdict(StrEnum):
    """The outcome of a compatibility check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


def verdict_of(findings: tuple[Finding, ...]) -> Verdict:
    """fail if any error, warn if any warning, else pass."""
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return Verdict.FAIL
    if Severity.WARNING in severities:
        return Verdict.WARN
    return Verdict.PASS


def parse_voltages(text: str) -> tuple[VoltageClass, ...]:
    """``5,3,1.8`` -> classes A, B, C. Raises ValueError naming the value it does not know."""
    out: list[VoltageClass] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        cls = _VOLTAGE_BY_TEXT.get(part.rstrip("Vv"))
        if cls is None:
            raise ValueError(f"unknown voltage {part!r}: use 5, 3 and/or 1.8")
        if cls not in out:
            out.append(cls)
    if not out:
        raise ValueError("no voltage given: use 5, 3 and/or 1.8")
    return tuple(out)


def parse_protocols(text: str) -> tuple[int, ...]:
    """``0,1`` -> (0, 1). Raises ValueError for anything but 0 and 1."""
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        value = part[2:] if part[:2] in ("T=", "t=") else part
        if value not in ("0", "1"):
            raise ValueError(f"unknown protocol {part!r}: use 0 and/or 1 (T=0, T=1)")
        if int(value) not in out:
            out.append(int(value))
    if not out:
        raise ValueError("no protocol given: use 0 and/or 1")
    return tuple(sorted(out))


class ReaderCapabilities(Value):
    """What a reader can do, as far as it is known. ``None`` always means "unknown"."""

    source: CapabilitySource
    """Where these values come from."""
    name: str | None
    """The reader's name, when known."""
    vendor_id: int | None
    """USB idVendor, when known."""
    product_id: int | None
    """USB idProduct, when known."""
    clock_khz: int | None
    """The clock the card gets (dwDefaultClock) in kHz."""
    max_clock_khz: int | None
    """dwMaximumClock in kHz (informative: libccid never reads it)."""
    max_data_rate_bps: int | None
    """dwMaxDataRate as the reader reports it (before the driver's quirks)."""
    data_rates: tuple[int, ...] | None
    """The reader's rate table; None when it has none or when it is unknown."""
    data_rates_known: bool
    """True when ``data_rates`` is what the driver will see (a table, or surely none)."""
    voltages: tuple[VoltageClass, ...] | None
    """Classes the reader supplies."""
    protocols: tuple[int, ...] | None
    """Protocols the reader supports (dwProtocols)."""
    features: int | None
    """dwFeatures."""
    exchange_level: ExchangeLevel | None
    """The exchange level (dwFeatures bits 16-18)."""
    quirks: tuple[ReaderQuirk, ...]
    """Corrections the driver applies to this reader."""
    driver_listed: bool | None
    """Whether the installed libccid lists this USB id."""
    driver_name: str | None
    """The name libccid's list gives the reader, when listed."""
    descriptor: CcidDescriptor | None
    """The decoded CCID class descriptor, when the values come from one."""
    unknown_reason: str | None
    """Why nothing is known (source ``unknown``); None otherwise."""
    bcd_device: int | None = None
    """bcdDevice (the firmware release) from the USB device descriptor, when known."""

    @property
    def known(self) -> bool:
        """False for a reader whose capabilities are unknown."""
        return self.source is not CapabilitySource.UNKNOWN

    @property
    def usb_id(self) -> str | None:
        """``058F:9540`` when both ids are known."""
        if self.vendor_id is None or self.product_id is None:
            return None
        return f"{self.vendor_id:04X}:{self.product_id:04X}"

    @classmethod
    def from_descriptor(
        cls,
        source: CcidDescriptor | UsbCcidInterface,
        *,
        name: str | None = None,
        data_rates: tuple[int, ...] | None = None,
        data_rates_known: bool = False,
        quirks: tuple[ReaderQuirk, ...] | None = None,
        driver_listed: bool | None = None,
        driver_name: str | None = None,
    ) -> ReaderCapabilities:
        """From a CCID class descriptor (with its USB ids when a whole blob was read).

        The rate table is not in the descriptor (it needs device access): pass it when known
        (``data_rates_known=True``; None then means the reader has none). Quirks default to
        cardcheck's own list, looked up by USB id.
        """
        bcd: int | None = None
        if isinstance(source, UsbCcidInterface):
            desc, vid, pid = source.descriptor, source.vendor_id, source.product_id
            bcd = source.bcd_device
        else:
            desc, vid, pid = source, None, None
        return cls(
            source=CapabilitySource.DESCRIPTOR,
            name=name,
            vendor_id=vid,
            product_id=pid,
            clock_khz=desc.default_clock_khz or None,
            max_clock_khz=desc.maximum_clock_khz,
            max_data_rate_bps=desc.max_data_rate_bps,
            data_rates=tuple(data_rates) if data_rates else None,
            data_rates_known=data_rates_known,
            voltages=desc.voltages or None,
            protocols=desc.protocols,
            features=desc.features_raw,
            exchange_level=desc.exchange_level,
            quirks=quirks_for(vid, pid) if quirks is None else quirks,
            driver_listed=driver_listed,
            driver_name=driver_name,
            descriptor=desc,
            unknown_reason=None,
            bcd_device=bcd,
        )

    @classmethod
    def manual(
        cls,
        *,
        clock_mhz: float | None = None,
        max_rate_bps: int | None = None,
        voltages: tuple[VoltageClass, ...] | None = None,
        protocols: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> ReaderCapabilities:
        """A reader described by hand; what is not given stays unknown."""
        return cls(
            source=CapabilitySource.FLAGS,
            name=name,
            vendor_id=None,
            product_id=None,
            clock_khz=None if clock_mhz is None else round(clock_mhz * 1000),
            max_clock_khz=None,
            max_data_rate_bps=max_rate_bps,
            data_rates=None,
            data_rates_known=False,
            voltages=voltages,
            protocols=protocols,
            features=None,
            exchange_level=None,
            quirks=(),
            driver_listed=None,
            driver_name=None,
            descriptor=None,
            unknown_reason=None,
        )

    @classmethod
    def unknown(cls, reason: str, *, name: str | None = None) -> ReaderCapabilities:
        """A reader whose capabilities cannot be known (not USB, not CCID: a virtual reader)."""
        return cls(
            source=CapabilitySource.UNKNOWN,
            name=name,
            vendor_id=None,
            product_id=None,
            clock_khz=None,
            max_clock_khz=None,
            max_data_rate_bps=None,
            data_rates=None,
            data_rates_known=False,
            voltages=None,
            protocols=None,
            features=None,
            exchange_level=None,
            quirks=(),
            driver_listed=None,
            driver_name=None,
            descriptor=None,
            unknown_reason=reason,
        )

    def with_overrides(
        self,
        *,
        clock_mhz: float | None = None,
        max_rate_bps: int | None = None,
        voltages: tuple[VoltageClass, ...] | None = None,
        protocols: tuple[int, ...] | None = None,
    ) -> ReaderCapabilities:
        """The same reader with the values given by hand replacing the descriptor's."""
        if clock_mhz is None and max_rate_bps is None and voltages is None and protocols is None:
            return self
        source = {
            CapabilitySource.DESCRIPTOR: CapabilitySource.DESCRIPTOR_AND_FLAGS,
            CapabilitySource.UNKNOWN: CapabilitySource.FLAGS,
        }.get(self.source, self.source)
        return replace(
            self,
            source=source,
            unknown_reason=None,
            clock_khz=self.clock_khz if clock_mhz is None else round(clock_mhz * 1000),
            max_data_rate_bps=self.max_data_rate_bps if max_rate_bps is None else max_rate_bps,
            voltages=self.voltages if voltages is None else voltages,
            protocols=self.protocols if protocols is None else protocols,
        )

    def driver_view(self) -> DriverView | None:
        """What libccid would work with; None when the clock is unknown (no prediction)."""
        if self.clock_khz is None:
            return None
        assumptions: list[str] = []
        max_rate = self.max_data_rate_bps
        if max_rate is None:
            max_rate = UNLIMITED_RATE_BPS
            assumptions.append("the reader's maximum data rate is unknown: assumed unlimited")
        protocols = self.protocols
        if protocols is None:
            protocols = (0, 1)
            assumptions.append("the reader's protocols are unknown: assumed T=0 and T=1")
        features = self.features
        if features is None:
            features = 0
            assumptions.append(
                "the reader's features are unknown: assumed the driver negotiates (no "
                "automatic PPS)"
            )
        view = DriverView(
            default_clock_khz=self.clock_khz,
            max_data_rate_bps=max_rate,
            data_rates=self.data_rates,
            protocols=protocols,
            features=features,
            assumptions=tuple(assumptions),
        )
        return view.with_quirks(self.quirks)

    def to_json(self) -> dict[str, object]:
        """The ``reader`` object of ``compat --json``."""
        return {
            "source": self.source.value,
            "known": self.known,
            "unknown_reason": self.unknown_reason,
            "name": self.name,
            "usb_id": self.usb_id,
            "clock_khz": self.clock_khz,
            "max_clock_khz": self.max_clock_khz,
            "max_data_rate_bps": self.max_data_rate_bps,
            "data_rates": None if self.data_rates is None else list(self.data_rates),
            "data_rates_known": self.data_rates_known,
            "voltages": None if self.voltages is None else [v.value for v in self.voltages],
            "protocols": None if self.protocols is None else list(self.protocols),
            "features": self.features,
            "exchange_level": None if self.exchange_level is None else self.exchange_level.value,
            "quirks": [q.to_json() for q in self.quirks],
            "driver_listed": self.driver_listed,
            "driver_name": self.driver_name,
            "descriptor": None if self.descriptor is None else self.descriptor.to_json(),
            "firmware": None if self.bcd_device is None else bcd_text(self.bcd_device),
        }


class CompatReport(Value):
    """The answer to "will this card work in that reader?"."""

    verdict: Verdict
    """fail if any error finding, warn if any warning, else pass."""
    findings: tuple[Finding, ...]
    """Errors first, then warnings, then what will be negotiated (info); each with advice."""
    reader: ReaderCapabilities
    """The reader the card was checked against."""
    protocol: int | None
    """The protocol pcscd and the driver will use; None when none works or it is unknown."""
    speed: SpeedPrediction | None
    """libccid's speed choice for that protocol; None when it cannot be predicted."""
    speeds: tuple[SpeedPrediction, ...]
    """The speed choice for every protocol the card offers (refusals included)."""
    clock_advice: ClockAdvice
    """Bit rates at common clocks and the serial crystals, for this card."""
    power_up_voltage: str | None = None
    """The voltage libccid powers the card at first: ``5 V``, ``3 V``, ``1.8 V`` or ``auto``
    (the reader selects it); None when the reader's voltages are unknown."""

    def to_json(self) -> dict[str, object]:
        """The documented JSON contract of ``cardcheck compat --json``."""
        return {
            "verdict": self.verdict.value,
            "findings": [
                {
                    "severity": f.severity.value,
                    "code": f.code,
                    "message": f.message,
                    "advice": f.advice,
                }
                for f in self.findings
            ],
            "protocol": self.protocol,
            "reader": self.reader.to_json(),
            "speed": None if self.speed is None else self.speed.to_json(),
            "speeds": [s.to_json() for s in self.speeds],
            "clock_advice": self.clock_advice.to_json(),
            "power_up_voltage": self.power_up_voltage,
        }


def _t(protocols: tuple[int, ...] | list[int]) -> str:
    return " and ".join(f"T={p}" for p in protocols) if protocols else "no protocol"


def _classes(classes: tuple[VoltageClass, ...]) -> str:
    return ", ".join(f"class {c.value} ({_VOLTS[c]})" for c in classes)


def _mhz(khz: int) -> str:
    return f"{khz / 1000:g} MHz"


def _raw_byte(info: AtrInfo, name: str) -> int | None:
    for byte in info.interface_bytes:
        if byte.name == name:
            return byte.value
    return None


def card_voltage_classes(info: AtrInfo) -> tuple[tuple[VoltageClass, ...], bool]:
    """The card's classes and whether they were declared (T=15 class indicator).

    Without a class indicator ISO/IEC 7816-3 says the card is class A (5 V) only.
    """
    if info.t15 is not None and info.t15.voltage_classes:
        return info.t15.voltage_classes, True
    return (VoltageClass.A,), False


class _Collector:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, severity: Severity, code: str, message: str, advice: str) -> None:
        self.items.append(Finding(severity, code, message, advice=advice))

    def sorted(self) -> tuple[Finding, ...]:
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
        return tuple(sorted(self.items, key=lambda f: order[f.severity]))


def compatibility(info: AtrInfo, reader: ReaderCapabilities) -> CompatReport:
    """Check a card (its decoded ATR) against a reader and predict what the driver negotiates."""
    out = _Collector()
    advice = clock_advice(info, None if reader.clock_khz is None else reader.clock_khz / 1000)

    if not info.valid:
        # Nothing can be predicted from a broken ATR (issue 9): fail, without a prediction.
        errors = ", ".join(f.code for f in info.findings if f.severity is Severity.ERROR)
        out.add(
            Severity.ERROR,
            "atr-invalid",
            f"The ATR itself is invalid ({errors}): no protocol, speed or PPS can be "
            "predicted from it.",
            "Run `cardcheck atr` on it to see what is wrong; read the ATR again (a cut or "
            "garbled read), as pcscd may refuse a card with a broken ATR whatever the reader.",
        )
        findings = out.sorted()
        return CompatReport(Verdict.FAIL, findings, reader, None, None, (), advice)

    if not reader.known:
        out.add(
            Severity.WARNING,
            "reader-unknown",
            f"The reader's capabilities are unknown: {reader.unknown_reason or 'no descriptor'}."
            " Whether this card works in it cannot be predicted.",
            "Use a USB CCID reader (its descriptor is readable), or describe the reader with "
            "--descriptor FILE or --clock/--max-rate/--voltages/--protocols.",
        )
        findings = out.sorted()
        return CompatReport(verdict_of(findings), findings, reader, None, None, (), advice)

    _driver_findings(reader, out)
    protocol, offered = _protocol_findings(info, reader, out)
    _voltage_findings(info, reader, out)
    speeds, speed = _speed_findings(info, reader, offered, protocol, out)
    if _o2micro_keeps_default(reader, speed, offered, out):
        protocol, speed = None, None
    _clock_findings(info, reader, advice, out)
    _extended_apdu_findings(info, reader, protocol, out)
    if reader.descriptor is not None:
        out.items.extend(reader.descriptor.findings)
    findings = out.sorted()
    return CompatReport(
        verdict=verdict_of(findings),
        findings=findings,
        reader=reader,
        protocol=protocol,
        speed=speed,
        speeds=speeds,
        clock_advice=advice,
        power_up_voltage=power_up_voltage(reader),
    )


O2MICRO_VENDOR_ID = 0x0B97
"""O2Micro: libccid sends no PPS to cards in these readers ("PPS not supported on O2Micro
readers. Using T=0" in its log) and sets the card's default protocol instead."""


def _o2micro_keeps_default(
    reader: ReaderCapabilities,
    speed: SpeedPrediction | None,
    offered: tuple[int, ...],
    out: _Collector,
) -> bool:
    """An O2Micro reader and a card that needs a PPS to change protocol: libccid sets the
    card's default protocol without a PPS, yet pcscd reports the one it asked for, so every
    exchange fails (seen with the emulated OZ776). True when that happens."""
    if reader.vendor_id != O2MICRO_VENDOR_ID or speed is None or not offered:
        return False
    if speed.pps_request is None or speed.protocol == offered[0]:
        return False
    out.add(
        Severity.ERROR,
        "pps-unsupported-reader",
        f"libccid sends no PPS on O2Micro readers: it leaves the card in its default "
        f"T={offered[0]} while pcscd reports T={speed.protocol}, so every exchange of an "
        "application that accepts T=0 and T=1 fails.",
        f"Applications must ask for T={offered[0]} alone (SCARD_PROTOCOL_T{offered[0]}), or use "
        "another reader.",
    )
    return True


def power_up_voltage(reader: ReaderCapabilities) -> str | None:
    """The voltage libccid first powers a card at in this reader (its default driver options).

    ``auto`` when the reader selects the voltage itself (dwFeatures 0x08) or activates the
    card by itself (0x04): libccid then sends IccPowerOn with bPowerSelect 0. Otherwise 5 V,
    else 3 V, else 1.8 V, the first the reader supplies (5 V when bVoltageSupport is empty).
    None when the reader's voltages or features are unknown.
    """
    if reader.features is not None and reader.features & AUTO_VOLTAGE_FEATURES:
        return "auto"
    if reader.voltages is None or reader.features is None:
        return None
    return _VOLTS[_first_voltage(reader.voltages)]


def _first_voltage(voltages: tuple[VoltageClass, ...]) -> VoltageClass:
    return next((c for c in FIRST_VOLTAGE_ORDER if c in voltages), VoltageClass.A)


def _driver_findings(reader: ReaderCapabilities, out: _Collector) -> None:
    minimum = refused_firmware(reader.vendor_id, reader.product_id, reader.bcd_device)
    if minimum is not None and reader.bcd_device is not None:
        out.add(
            Severity.ERROR,
            "reader-firmware-refused",
            f"libccid refuses this reader: its firmware {bcd_text(reader.bcd_device)} is older "
            f"than {bcd_text(minimum)}, the first release of {reader.usb_id} it trusts (its log "
            f'says "Firmware ({bcd_text(reader.bcd_device)}) is bogus! please upgrade"); pcscd '
            "shows no reader.",
            "Update the reader's firmware or use another reader; at your own risk, libccid "
            "accepts it with DRIVER_OPTION_USE_BOGUS_FIRMWARE (0x04) in ifdDriverOptions of its "
            "Info.plist.",
        )
    if reader.driver_listed is False:
        out.add(
            Severity.WARNING,
            "reader-not-in-driver",
            f"The installed libccid does not list USB id {reader.usb_id}: pcscd will not "
            "load the CCID driver for this reader.",
            "Install a newer libccid (https://ccid.apdu.fr/ lists the readers it supports), "
            "or use a reader it lists.",
        )
    elif reader.driver_listed and reader.driver_name:
        out.add(
            Severity.INFO,
            "reader-in-driver",
            f"The installed libccid knows this reader as {reader.driver_name!r}.",
            "Nothing to do.",
        )
    for quirk in reader.quirks:
        if quirk.max_data_rate_bps is not None:
            out.add(
                Severity.INFO,
                "reader-quirk",
                f"libccid caps the {quirk.name} ({quirk.usb_id}) at "
                f"{quirk.max_data_rate_bps} bit/s, whatever its descriptor says.",
                quirk.note,
            )


def pcscd_protocol(offered: tuple[int, ...]) -> int | None:
    """The protocol pcscd asks the driver for when the application accepts T=0 and T=1.

    pcsc-lite (1.9.9, ``PHSetProtocol``) tries T=1 first whenever the card offers it, whatever
    the ATR's order, and T=0 otherwise.
    """
    usable = [p for p in offered if p in (0, 1)]
    if not usable:
        return None
    return 1 if 1 in usable else 0


def _protocol_findings(
    info: AtrInfo, reader: ReaderCapabilities, out: _Collector
) -> tuple[int | None, tuple[int, ...]]:
    """The protocol that will be used and the protocols the card can run."""
    mode = info.specific_mode
    offered = (mode.protocol,) if mode is not None else info.protocols
    wanted = pcscd_protocol(offered)
    if reader.protocols is None:
        if offered:
            choice = wanted if wanted is not None else offered[0]
            out.add(
                Severity.INFO,
                "negotiated-protocol",
                f"Protocol: T={choice} (pcscd's choice among the card's offers; the reader's "
                "protocols are unknown).",
                "Give them with --protocols (e.g. 0,1) to check them.",
            )
            return choice, offered
        return None, offered
    common = [p for p in offered if p in reader.protocols]
    if not common:
        why = f" (specific mode, TA2 {_raw_byte(info, 'TA2') or 0:02X})" if mode else ""
        out.add(
            Severity.ERROR,
            "protocol-unsupported",
            f"The card runs {_t(offered)}{why}; the reader supports "
            f"{_t(reader.protocols)}: no protocol in common.",
            f"Use a reader that supports {_t(offered)}; most USB contact readers support "
            "T=0 and T=1.",
        )
        return None, offered
    if wanted is not None and wanted in reader.protocols:
        protocol = wanted
    elif offered[0] in reader.protocols:
        protocol = offered[0]  # the driver refuses pcscd's T=1; the card stays in its default
    elif reader.exchange_level in (ExchangeLevel.SHORT_APDU, ExchangeLevel.EXTENDED_APDU):
        protocol = offered[0]  # refused too, kept by pcscd; the reader talks to the card itself
    else:
        out.add(
            Severity.ERROR,
            "protocol-default-unsupported",
            f"pcscd asks for T={wanted}, which the reader does not support, and then keeps the "
            f"card's default T={offered[0]}, which it does not support either: every exchange "
            f"of an application that accepts T=0 and T=1 fails.",
            f"Applications must ask for T={common[0]} alone (SCARD_PROTOCOL_T{common[0]}). A "
            f"reader with {_t(list(offered))} avoids it.",
        )
        return None, offered
    if offered[0] not in reader.protocols:
        out.add(
            Severity.WARNING,
            "protocol-default-unsupported",
            f"The card's first (default) protocol T={offered[0]} is not supported by the "
            f"reader; only T={protocol} is in common.",
            f"Applications must ask for T={protocol} explicitly (SCARD_PROTOCOL_T{protocol}); "
            f"connecting with T={offered[0]} fails. A reader with {_t(list(offered))} avoids it.",
        )
    others = [p for p in common if p != protocol]
    if len(offered) == 1:
        why = "the card's only protocol"
    elif protocol == 1 and wanted == 1:
        why = "pcscd takes T=1 whenever the card offers it and the application accepts both"
    elif protocol == offered[0]:
        why = "the card's default; the reader cannot run T=1"
    else:
        why = "the only one the reader shares with the card"
    extra = f"; {_t(others)} when an application asks for it alone" if others else ""
    out.add(
        Severity.INFO,
        "negotiated-protocol",
        f"Protocol: T={protocol} ({why}{extra}).",
        "Nothing to do.",
    )
    return protocol, offered


def _voltage_findings(info: AtrInfo, reader: ReaderCapabilities, out: _Collector) -> None:
    card, declared = card_voltage_classes(info)
    origin = "declares" if declared else "has no class indicator (T=15), so by ISO 7816-3 is"
    if reader.voltages is None:
        out.add(
            Severity.INFO,
            "voltage-unknown",
            f"The card {origin} {_classes(card)}; the reader's voltages are unknown.",
            "Give them with --voltages (e.g. 5,3,1.8) to check them.",
        )
        return
    common = [c for c in card if c in reader.voltages]
    if not common:
        out.add(
            Severity.ERROR,
            "voltage-unsupported",
            f"The card {origin} {_classes(card)}; the reader supplies "
            f"{_classes(reader.voltages)}: no voltage in common.",
            f"Use a reader that supplies {_classes(card)}.",
        )
        return
    auto = reader.features is not None and bool(reader.features & AUTO_VOLTAGE_FEATURES)
    if auto:
        out.add(
            Severity.INFO,
            "power-up-voltage",
            f"The reader selects the voltage itself; the card {origin} {_classes(card)}.",
            "Nothing to do.",
        )
        return
    first = _first_voltage(reader.voltages)
    if first not in card:
        out.add(
            Severity.WARNING,
            "voltage-above-class",
            f"libccid powers the card at {_VOLTS[first]} first (class {first.value}), a class "
            f"the card does not declare ({_classes(card)}); it retries lower only if the card "
            "stays mute.",
            f"Use a reader that selects the voltage itself (dwFeatures 0x08), or set libccid's "
            f"power-on voltage to {_VOLTS[common[0]]} in ifdDriverOptions (Info.plist).",
        )
    else:
        out.add(
            Severity.INFO,
            "power-up-voltage",
            f"libccid powers the card at {_VOLTS[first]} (class {first.value}), which the card "
            "supports.",
            "Nothing to do.",
        )


def _speed_findings(
    info: AtrInfo,
    reader: ReaderCapabilities,
    offered: tuple[int, ...],
    protocol: int | None,
    out: _Collector,
) -> tuple[tuple[SpeedPrediction, ...], SpeedPrediction | None]:
    view = reader.driver_view()
    if view is None:
        out.add(
            Severity.INFO,
            "speed-unknown",
            "The reader's clock is unknown: no speed prediction.",
            "Give the clock with --clock MHz (and --max-rate) or a descriptor with --descriptor.",
        )
        return (), None
    ta1 = _raw_byte(info, "TA1")
    ta2 = _raw_byte(info, "TA2")
    default_protocol = offered[0] if offered else 0
    speeds = tuple(
        predict_speed(view, ta1=ta1, ta2=ta2, protocol=p, default_protocol=default_protocol)
        for p in offered
        if p in (0, 1)
    )
    speed = next((s for s in speeds if s.protocol == protocol), None)
    if speed is None:
        return speeds, None
    wanted = pcscd_protocol(offered)
    if (
        reader.protocols is not None
        and wanted is not None
        and wanted not in reader.protocols
        and protocol == (offered[0] if offered else None)
        and (not speed.refused or speed.outcome is SpeedOutcome.PROTOCOL_REFUSED)
    ):
        # pcscd asked for T=1, the driver refused it, and pcscd keeps the card's default as
        # it is: the driver sets nothing (seen with the emulated T=0-only readers).
        speed = replace(
            speed,
            negotiated=False,
            outcome=SpeedOutcome.DEFAULT,
            chosen_ta1=DEFAULT_TA1,
            chosen_rate_bps=speed.default_rate_bps,
            pps_by=PpsBy.NONE,
            reason=f"pcscd asks the driver for T={wanted}, which the reader does not support; "
            f"it then keeps the card's default T={protocol} without PPS or SetParameters, so "
            f"the card runs at its default speed ({speed.default_rate_bps} bit/s).",
        )
        speeds = tuple(speed if s.protocol == protocol else s for s in speeds)
    clock = _mhz(view.default_clock_khz)
    card_ta1 = f"TA1 {ta1:02X}" if ta1 is not None else "the default Fi/Di"
    needed = speed.card_rate_bps

    if speed.outcome is SpeedOutcome.SPEED_REFUSED:
        out.add(
            Severity.ERROR,
            "speed-unsupported",
            f"The card is in specific mode (TA2) and runs only at {card_ta1}, {needed} bit/s at "
            f"{clock}; the reader's rate table does not list it, so libccid refuses the card "
            f"(connect gives {speed.pcsc_result}).",
            f"Use a reader that lists {needed} bit/s at this clock or has no rate table and a "
            "maximum data rate at least that high.",
        )
    elif speed.outcome is SpeedOutcome.IMPLICIT_REFUSED:
        out.add(
            Severity.ERROR,
            "specific-mode-implicit",
            "The card is in specific mode with implicit parameters (TA2 bit 0x10): libccid "
            "refuses such cards.",
            "Use a reader that negotiates by itself (dwFeatures 0x40), which libccid leaves "
            "alone, or ask the card's vendor for its real parameters.",
        )
    elif speed.specific_mode_mismatch:
        too_fast = needed is not None and needed > speed.max_data_rate_bps
        why = f", above the reader's maximum {speed.max_data_rate_bps} bit/s" if too_fast else ""
        out.add(
            Severity.ERROR,
            "speed-unsupported",
            f"The card is in specific mode (TA2) and runs only at {card_ta1}, {needed} bit/s at "
            f"{clock}{why}: libccid sets the reader to {_chosen(speed)}, so every exchange "
            "fails.",
            f"Use a reader whose maximum data rate is at least {needed} bit/s at this clock "
            "(and that lists it, if it has a rate table).",
        )
    elif speed.slower_than_card:
        cap = (
            f" (libccid caps this reader at {view.max_data_rate_bps} bit/s)"
            if view.capped_by
            else ""
        )
        out.add(
            Severity.WARNING,
            "speed-fallback",
            f"The driver will run the card at {_chosen(speed)} instead of {card_ta1}, "
            f"{needed} bit/s{cap}.",
            f"It works, only slower. For full speed use a reader whose maximum data rate is at "
            f"least {needed} bit/s at {clock} (and that lists it, if it has a rate table).",
        )

    if not speed.refused:
        out.add(Severity.INFO, "negotiated-speed", _speed_sentence(speed, clock), "Nothing to do.")
        out.add(Severity.INFO, "pps", _pps_sentence(speed), "Nothing to do.")
    for note in speed.assumptions:
        out.add(
            Severity.INFO,
            "speed-assumption",
            f"Assumed for the speed prediction: {note}.",
            "Give the reader's real values (--descriptor, --max-rate, --protocols) for a firmer "
            "prediction.",
        )
    _unverified_rate(reader, speed, clock, out)
    return speeds, speed


def _unverified_rate(
    reader: ReaderCapabilities, speed: SpeedPrediction, clock: str, out: _Collector
) -> None:
    """The reader has a rate table cardcheck could not read, and the prediction depends on it."""
    declared = reader.descriptor.num_data_rates_supported if reader.descriptor else 0
    if reader.data_rates_known or not declared or speed.refused:
        return
    if speed.outcome not in (SpeedOutcome.CARD_SPEED, SpeedOutcome.ADAPTED):
        return
    rate = speed.chosen_rate_bps
    if speed.specific_mode:
        out.add(
            Severity.WARNING,
            "speed-unverified",
            f"The reader lists {declared} data rates of its own, which cardcheck cannot read "
            f"without device access; if {rate} bit/s at {clock} is not among them, libccid "
            "refuses this specific-mode card.",
            "Run libccid's `parse` tool (or pcscd with LIBCCID_ifdLogLevel=0x000F) to see the "
            "reader's rates; a reader without a rate table avoids the question.",
        )
    else:
        out.add(
            Severity.INFO,
            "speed-unverified",
            f"The reader lists {declared} data rates of its own, which cardcheck cannot read "
            f"without device access; if {rate} bit/s at {clock} is not among them, the card "
            "runs at a slower speed instead.",
            "Nothing to do: the card works either way.",
        )


def _chosen(speed: SpeedPrediction) -> str:
    if speed.chosen_ta1 is None or speed.chosen_rate_bps is None:
        return "a speed the reader decides"
    return f"TA1 {speed.chosen_ta1:02X}, {speed.chosen_rate_bps} bit/s"


def _speed_sentence(speed: SpeedPrediction, clock: str) -> str:
    if speed.outcome is SpeedOutcome.READER_NEGOTIATES:
        card = (
            f" (the card asks for TA1 {speed.card_ta1:02X}, {speed.card_rate_bps} bit/s at {clock})"
            if speed.card_ta1 is not None
            else ""
        )
        return f"Bit rate: chosen by the reader itself{card}."
    return f"Bit rate: {_chosen(speed)} at {clock}. {speed.reason}"


def _pps_sentence(speed: SpeedPrediction) -> str:
    t = f"T={speed.protocol}"
    chosen = f"TA1 {speed.chosen_ta1:02X}" if speed.chosen_ta1 is not None else ""
    match speed.pps_by:
        case PpsBy.READER:
            return f"Negotiation: the reader does it all (dwFeatures 0x40) for {t}."
        case PpsBy.READER_PPS:
            return (
                f"Negotiation: the driver sets {chosen} and {t}; the reader does the PPS "
                "exchange (dwFeatures 0x80)."
            )
        case PpsBy.DRIVER:
            return f"Negotiation: libccid sends a PPS request for {t} with {chosen}."
        case PpsBy.SPECIFIC_MODE:
            return f"Negotiation: none, the card is in specific mode for {t} (TA2)."
        case PpsBy.NONE:
            return f"Negotiation: no PPS needed, the card starts in {t} at the default speed."


def _clock_findings(
    info: AtrInfo, reader: ReaderCapabilities, advice: ClockAdvice, out: _Collector
) -> None:
    if reader.clock_khz is None or advice.reader is None:
        return
    option = advice.reader
    clock = _mhz(reader.clock_khz)
    problems: list[str] = []
    if not option.within_activation:
        problems.append("outside the 1-5 MHz ISO 7816-3 allows during activation and the ATR")
    if option.within_fmax is False and info.rate.fmax_mhz is not None:
        ta1 = f"TA1 {advice.ta1:02X}" if advice.ta1 is not None else "the default without TA1"
        problems.append(f"above the card's fmax of {info.rate.fmax_mhz:g} MHz ({ta1})")
    if not problems:
        return
    good = [o.clock_mhz for o in advice.options if o.in_spec]
    suggestion = (
        "a reader clocked at " + " or ".join(f"{c:g} MHz" for c in good[-2:])
        if good
        else "a reader with a lower clock"
    )
    out.add(
        Severity.WARNING,
        "clock-out-of-spec",
        f"The reader's clock {clock} is " + " and ".join(problems) + ".",
        f"Many cards tolerate it, some stay mute or fail later; if this card does, use "
        f"{suggestion}.",
    )


def _extended_apdu_findings(
    info: AtrInfo, reader: ReaderCapabilities, protocol: int | None, out: _Collector
) -> None:
    if info.historical_info.extended_lc_le is not True or reader.exchange_level is None:
        return
    level = reader.exchange_level
    if level is ExchangeLevel.EXTENDED_APDU:
        return
    if level is ExchangeLevel.SHORT_APDU:
        out.add(
            Severity.WARNING,
            "extended-apdu-unsupported",
            "The card declares extended Lc/Le, but the reader exchanges short APDUs only: "
            "commands or answers above 255/256 bytes will fail.",
            "Use a reader at TPDU level (with T=1) or at extended APDU level, or keep every "
            "APDU short (chaining, GET RESPONSE).",
        )
    elif protocol == 0:
        out.add(
            Severity.WARNING,
            "extended-apdu-unsupported",
            f"The card declares extended Lc/Le, but with T=0 a {level.value}-level reader "
            "carries short APDUs only (T=0 has no extended case; ENVELOPE is up to the card).",
            "Use T=1 if the card offers it, or a reader at extended APDU level.",
        )
