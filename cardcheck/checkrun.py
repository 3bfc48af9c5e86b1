"""The stages of ``cardcheck check``, run in order against the real PC/SC stack.

Each stage gives a :class:`~cardcheck.checkmodel.CheckResult`. A stage that cannot go on (no
service, no reader, no card, card gone) fails, and the stages that need what it would have
given are skipped. Everything about the card and the reader is read through
:mod:`cardcheck.pcsc.adapter`; the judging is done by the pure decoder and compat rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cardcheck.checkmodel import (
    STAGES,
    CheckResult,
    CheckStatus,
    LatencyStats,
    Verdict,
    latency_stats,
    verdict_of,
)
from cardcheck.errors import CardcheckError, EnvironmentProblem, ExitCode
from cardcheck.findings import Severity
from cardcheck.pcsc.model import hex_atr as _hex

if TYPE_CHECKING:
    from cardcheck.atr.model import AtrInfo
    from cardcheck.compat.rules import CompatReport, ReaderCapabilities
    from cardcheck.db import Match
    from cardcheck.pcsc.adapter import CardConnection, PcscContext
    from cardcheck.pcsc.model import ReaderInfo

DEFAULT_APDU = bytes.fromhex("00A40000023F00")
"""SELECT MF (the master file, by its identifier 3F00): harmless and read-only."""
DEFAULT_COUNT = 20
"""Latency round trips by default."""
LATENCY_BUDGET = 30.0
"""Seconds the latency stage may take in all: a card that answers slowly (but in time, each
command bounded by the adapter) stops the measurement there instead of running for hours."""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What ``cardcheck check`` was asked to do."""

    reader: str | None = None
    """Check this reader; None for the first reader holding a card."""
    apdu: bytes = DEFAULT_APDU
    """The read-only command timed by the latency stage."""
    count: int = DEFAULT_COUNT
    """Latency round trips."""
    db_path: Path | None = None
    """ATR list for identification (None: the chain)."""
    latency_budget: float = LATENCY_BUDGET
    """Seconds the latency stage may take in all (the round trips done by then are reported)."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything ``cardcheck check`` found."""

    verdict: Verdict
    """fail if a stage failed, warn if one warned, else pass."""
    reader: str | None
    """The reader that was checked; None when none could be chosen."""
    checks: tuple[CheckResult, ...]
    """One result per stage, in order (skipped stages included)."""
    atr: AtrInfo | None
    """The card's (cold) ATR, decoded; None when no card was read."""
    identified: tuple[Match, ...] | None
    """Matching list entries; None when identification could not run."""
    warm_atr: bytes | None
    """The ATR after a warm reset; None when not read."""
    protocol: str | None
    """The protocol negotiated with all offered protocols allowed ("T=0", "T=1")."""
    capabilities: ReaderCapabilities | None
    """What is known of the reader (CCID descriptor), None when not read."""
    compat: CompatReport | None
    """The compatibility report; None when the reader's capabilities are unknown."""
    latency: LatencyStats | None
    """Round-trip figures; None when not measured."""
    environment_failure: bool
    """True when a stage failed because the environment lacks something (exit 3)."""

    def exit_code(self, *, strict: bool = False) -> int:
        """3 environment failure; 1 fail (or warn with ``strict``); else 0."""
        if self.environment_failure:
            return int(ExitCode.ENVIRONMENT)
        if self.verdict is Verdict.FAIL or (strict and self.verdict is Verdict.WARN):
            return int(ExitCode.FAILED)
        return int(ExitCode.OK)

    def to_json(self) -> dict[str, object]:
        """The JSON contract of ``cardcheck check --json`` (README)."""
        atr_json: dict[str, object] | None = None
        if self.atr is not None:
            from cardcheck.commands.atr_run import result_for

            atr_json = result_for(self.atr, self.identified)
        return {
            "verdict": self.verdict.value,
            "reader": self.reader,
            "checks": [c.to_json() for c in self.checks],
            "atr": atr_json,
            "warm_atr": _hex(self.warm_atr),
            "protocol": self.protocol,
            "latency": None if self.latency is None else self.latency.to_json(),
            "reader_capabilities": None
            if self.capabilities is None
            else self.capabilities.to_json(),
            "compatibility": None if self.compat is None else self.compat.to_json(),
        }


class _Stop(Exception):
    """Raised inside the runner when the remaining stages cannot run."""


class _Runner:
    def __init__(
        self, pcsc_factory: Callable[[], PcscContext], options: CheckOptions, progress: Progress
    ) -> None:
        self.pcsc_factory = pcsc_factory
        self.options = options
        self.progress = progress
        self.results: list[CheckResult] = []
        self.environment_failure = False
        self.reader: str | None = None
        self.atr: AtrInfo | None = None
        self.identified: tuple[Match, ...] | None = None
        self.warm_atr: bytes | None = None
        self.protocol: str | None = None
        self.capabilities: ReaderCapabilities | None = None
        self.compat: CompatReport | None = None
        self.latency: LatencyStats | None = None
        self.stuck: CardcheckError | None = None
        """A call on the reader that got no answer in time: further connects would wait too."""

    # -- bookkeeping -------------------------------------------------------------------
    def add(self, stage: str, status: CheckStatus, message: str, advice: str | None = None) -> None:
        result = CheckResult(stage, status, message, advice)
        self.results.append(result)
        self.progress(result)

    def stop_env(self, stage: str, err: CardcheckError) -> _Stop:
        """Fail ``stage`` with ``err`` (an environment problem) and stop."""
        self.environment_failure = self.environment_failure or isinstance(err, EnvironmentProblem)
        self.add(stage, CheckStatus.FAIL, err.message, err.hint)
        return _Stop()

    def skip_rest(self, why: str) -> None:
        done = {r.id for r in self.results}
        for stage in STAGES:
            if stage not in done:
                self.add(stage, CheckStatus.SKIP, f"not run: {why}")

    def report(self) -> CheckReport:
        return CheckReport(
            verdict=verdict_of(self.results),
            reader=self.reader,
            checks=tuple(self.results),
            atr=self.atr,
            identified=self.identified,
            warm_atr=self.warm_atr,
            protocol=self.protocol,
            capabilities=self.capabilities,
            compat=self.compat,
            latency=self.latency,
            environment_failure=self.environment_failure,
        )

    # -- the stages --------------------------------------------------------------------
    def run(self) -> CheckReport:
        try:
            pcsc = self.service()
        except _Stop:
            self.skip_rest("the PC/SC service is not reachable")
            return self.report()
        try:
            with pcsc:
                self.run_with(pcsc)
        except _Stop:
            pass
        self.skip_rest(self._first_failure())
        return self.report()

    def _first_failure(self) -> str:
        failed = next((r for r in self.results if r.status is CheckStatus.FAIL), None)
        return "an earlier stage failed" if failed is None else f"stage {failed.id} failed"

    def service(self) -> PcscContext:
        try:
            pcsc = self.pcsc_factory()
        except CardcheckError as err:
            raise self.stop_env("service", _doctor_names_cause(err)) from err
        self.add("service", CheckStatus.PASS, "the PC/SC service (pcscd) answers")
        return pcsc

    def run_with(self, pcsc: PcscContext) -> None:
        info = self.choose_reader(pcsc)
        self.decode_and_identify(info)
        self.reader_capabilities(pcsc, info.name)
        self.compatibility()
        with self.connect_protocols(pcsc, info.name) as card:
            self.warm_reset(card)
            self.measure_latency(card)

    def choose_reader(self, pcsc: PcscContext) -> ReaderInfo:
        try:
            states = pcsc.reader_states()
        except CardcheckError as err:
            raise self.stop_env("readers", err) from err
        if not states:
            from cardcheck.compat.sysfs import refused_readers

            refused = refused_readers()
            if refused:
                raise self.stop_env(
                    "readers",
                    EnvironmentProblem(
                        "PC/SC sees no reader: " + "; ".join(r.describe() for r in refused),
                        "update the reader's firmware or use another reader (at your own "
                        "risk, libccid accepts it with DRIVER_OPTION_USE_BOGUS_FIRMWARE, 0x04, "
                        "in ifdDriverOptions of its Info.plist), then restart pcscd",
                    ),
                )
            raise self.stop_env(
                "readers",
                _doctor_names_cause(
                    EnvironmentProblem(
                        "PC/SC sees no reader",
                        "plug the reader in and check `lsusb`; install its driver (libccid for "
                        "CCID readers); brltty may grab some USB serial readers: remove it if "
                        "you do not use a braille display; then restart pcscd",
                    )
                ),
            )
        names = ", ".join(s.name for s in states)
        if self.options.reader is not None:
            from cardcheck.errors import InputError
            from cardcheck.pcsc.model import match_reader

            chosen = match_reader([s.name for s in states], self.options.reader)
            if chosen is None:
                self.add(
                    "readers",
                    CheckStatus.FAIL,
                    f"no reader matches --reader {self.options.reader!r}",
                    f"readers seen: {names}",
                )
                raise InputError(
                    f"--reader {self.options.reader!r} matches none of the readers: {names}",
                    "give a reader's name or a part of it that only one name has "
                    "(`cardcheck readers` lists them)",
                    code="unknown-reader",
                )
            self.add("readers", CheckStatus.PASS, f"{len(states)} reader(s): {names}")
            target = next(s for s in states if s.name == chosen)
        else:
            self.add("readers", CheckStatus.PASS, f"{len(states)} reader(s): {names}")
            with_card = [s for s in states if s.card_present]
            target = with_card[0] if with_card else states[0]
        self.reader = target.name
        return self.card_stage(target)

    def card_stage(self, target: ReaderInfo) -> ReaderInfo:
        from cardcheck.pcsc.model import ReaderState as reader_state

        state = target.state
        if reader_state.EXCLUSIVE in state:
            stop = self.stop_env(
                "card",
                EnvironmentProblem(
                    f"another program holds the card in {target.name!r} exclusively",
                    "close the program using the card (gpg's scdaemon: `gpgconf --kill "
                    "scdaemon`; a browser or a card middleware) and run the check again",
                ),
            )
            if target.atr:
                # pcscd gives the ATR in the reader state: decode and identify it anyway.
                self.decode_and_identify(target)
            raise stop
        if reader_state.MUTE in state:
            self.add(
                "card",
                CheckStatus.FAIL,
                f"a card is in {target.name!r} but it does not answer the reset (mute)",
                "reinsert the card the right way round and clean its contacts; if it stays "
                "mute the reader may not give the voltage or clock this card needs (see "
                "cardcheck compat), or the card is broken",
            )
            raise _Stop()
        if not target.card_present or not target.atr:
            raise self.stop_env(
                "card",
                EnvironmentProblem(
                    f"no card in {target.name!r}",
                    "insert the card (chip first, contacts facing the reader's contacts) and "
                    "run the check again, or choose another reader with --reader",
                ),
            )
        busy = " (in use by another program too, shared)" if reader_state.INUSE in state else ""
        self.add("card", CheckStatus.PASS, f"card present in {target.name!r}{busy}")
        return target

    def decode_and_identify(self, info: ReaderInfo) -> None:
        from cardcheck.atr.decode import decode_atr

        assert info.atr is not None
        atr = decode_atr(info.atr)
        self.atr = atr
        errors = [f for f in atr.findings if f.severity is Severity.ERROR]
        warnings = [f for f in atr.findings if f.severity is Severity.WARNING]
        if errors:
            self.add(
                "atr",
                CheckStatus.FAIL,
                f"ATR {atr.hex} is invalid: {errors[0].message}",
                errors[0].advice
                or "run `cardcheck atr "
                + atr.hex
                + "` for the whole decoding; a damaged "
                "ATR often means bad contacts or a reader that mishandles the card",
            )
        elif warnings:
            self.add(
                "atr",
                CheckStatus.WARN,
                f"ATR {atr.hex}: {warnings[0].message}",
                warnings[0].advice or f"see `cardcheck atr {atr.hex}`",
            )
        else:
            protocols = ", ".join(f"T={t}" for t in atr.protocols)
            self.add("atr", CheckStatus.PASS, f"ATR {atr.hex} is valid ({protocols})")
        self.identify(atr)

    def identify(self, atr: AtrInfo) -> None:
        from cardcheck.db import open_database

        try:
            database = open_database(self.options.db_path)
        except CardcheckError as err:
            self.add("identify", CheckStatus.SKIP, f"no ATR list: {err.message}", err.hint)
            return
        self.identified = database.identify(atr.raw)
        if self.identified:
            first = self.identified[0].descriptions
            text = first[0] if first else self.identified[0].pattern
            more = (
                f" (+{len(self.identified) - 1} more entries)" if len(self.identified) > 1 else ""
            )
            self.add("identify", CheckStatus.PASS, f"known card: {text}{more}")
        else:
            self.add(
                "identify",
                CheckStatus.PASS,
                "unknown card: its ATR is not in the public list",
                "if you know what card it is, submit the ATR at https://smartcard-atr.apdu.fr/",
            )

    def reader_capabilities(self, pcsc: PcscContext, reader: str) -> None:
        from cardcheck.compat.sysfs import capabilities_for_channel_id
        from cardcheck.pcsc.errors import STUCK_CODES as STUCK
        from cardcheck.pcsc.errors import PcscError

        try:
            attributes = pcsc.reader_attributes(reader)
        except CardcheckError as err:
            if isinstance(err, PcscError) and err.code in STUCK:
                # Connecting would wait again: the protocol stage fails with this error (and
                # its hint, given once).
                self.stuck = err
                self.add("reader-capabilities", CheckStatus.SKIP, err.message)
                return
            self.add("reader-capabilities", CheckStatus.SKIP, err.message, err.hint)
            return
        caps = capabilities_for_channel_id(attributes.channel_id, name=reader)
        self.capabilities = caps
        if not caps.known:
            self.add(
                "reader-capabilities",
                CheckStatus.SKIP,
                f"capabilities unknown: {caps.unknown_reason}",
                "for a what-if against a real reader, use cardcheck compat with its descriptor",
            )
            return
        parts = []
        if caps.clock_khz:
            parts.append(f"clock {caps.clock_khz / 1000:g} MHz")
        if caps.max_data_rate_bps:
            parts.append(f"max {caps.max_data_rate_bps} bit/s")
        if caps.protocols:
            parts.append("protocols " + ", ".join(f"T={p}" for p in caps.protocols))
        if caps.voltages:
            parts.append("classes " + "".join(v.value for v in caps.voltages))
        if caps.exchange_level is not None:
            parts.append(f"{caps.exchange_level.value} level")
        status = CheckStatus.PASS
        advice = None
        if caps.driver_listed is False:
            status = CheckStatus.WARN
            advice = "the installed libccid does not list this reader: update libccid"
        self.add("reader-capabilities", status, "CCID descriptor: " + ", ".join(parts), advice)

    def compatibility(self) -> None:
        from cardcheck.compat.rules import Verdict as CompatVerdict
        from cardcheck.compat.rules import compatibility

        if self.atr is None or self.capabilities is None or not self.capabilities.known:
            self.add(
                "compatibility",
                CheckStatus.SKIP,
                "the reader's capabilities are unknown, so card and reader cannot be compared",
            )
            return
        report = compatibility(self.atr, self.capabilities)
        self.compat = report
        worst = next((f for f in report.findings if f.severity is not Severity.INFO), None)
        status = {
            CompatVerdict.PASS: CheckStatus.PASS,
            CompatVerdict.WARN: CheckStatus.WARN,
            CompatVerdict.FAIL: CheckStatus.FAIL,
        }[report.verdict]
        if worst is None:
            negotiated = [f.message for f in report.findings if f.code == "negotiated-speed"]
            message = negotiated[0] if negotiated else "card and reader fit"
            self.add("compatibility", status, message)
        else:
            self.add("compatibility", status, worst.message, worst.advice)

    def connect_protocols(self, pcsc: PcscContext, reader: str) -> CardConnection:
        from cardcheck.pcsc.errors import STUCK_CODES as STUCK
        from cardcheck.pcsc.errors import PcscError
        from cardcheck.pcsc.model import Protocol

        assert self.atr is not None
        if self.stuck is not None:
            raise self.stop_env("protocol", self.stuck)
        offered = [p for p in self.atr.protocols if p in (0, 1)]
        by_number = {0: Protocol.T0, 1: Protocol.T1}
        worked: list[str] = []
        failed: list[str] = []
        for number in offered:
            try:
                with pcsc.connect(reader, (by_number[number],)) as card:
                    worked.append(str(card.active_protocol or by_number[number]))
            except CardcheckError as err:
                if isinstance(err, PcscError) and err.code in STUCK:
                    raise self.stop_env("protocol", err) from err
                failed.append(f"T={number}: {err.message}")
        try:
            card = pcsc.connect(reader)
        except CardcheckError as err:
            raise self.stop_env("protocol", err) from err
        self.protocol = None if card.active_protocol is None else str(card.active_protocol)
        message = f"connected with {self.protocol or 'no protocol reported'}"
        if len(offered) > 1 or failed:
            message += "; each offered protocol alone: " + ", ".join(
                [f"{p} works" for p in worked] + failed
            )
        if failed:
            self.add(
                "protocol",
                CheckStatus.WARN,
                message,
                "a protocol the card offers cannot be used with this reader: applications "
                "that insist on it will fail (see cardcheck compat)",
            )
        else:
            self.add("protocol", CheckStatus.PASS, message)
        return card

    def warm_reset(self, card: CardConnection) -> None:
        """Cold reset (power off and on), then warm reset: compare the two ATRs.

        The cold reset first makes the comparison independent of earlier resets (pcscd keeps
        the ATR of the last one). When the ATRs differ, a last cold reset leaves the card as
        a fresh insertion would.
        """
        from cardcheck.pcsc.model import ResetKind

        try:
            cold = card.reconnect(ResetKind.COLD)
            warm = card.reconnect(ResetKind.WARM)
        except CardcheckError as err:
            raise self.stop_env("warm-reset", err) from err
        self.warm_atr = warm
        if warm == cold:
            self.add("warm-reset", CheckStatus.PASS, "the ATR after a warm reset is the same")
            return
        self.add(
            "warm-reset",
            CheckStatus.WARN,
            f"the ATR changes on a warm reset: cold {_hex(cold)}, warm {_hex(warm)}",
            "some cards answer a second ATR on purpose (e.g. to offer a faster mode); "
            "if applications fail after a reset, compare both with cardcheck atr",
        )
        try:
            card.reconnect(ResetKind.COLD)
        except CardcheckError as err:
            raise self.stop_env("latency", err) from err

    def measure_latency(self, card: CardConnection) -> None:
        apdu = self.options.apdu
        samples: list[float] = []
        words: list[str] = []
        stop_at = time.monotonic() + self.options.latency_budget
        for _ in range(self.options.count):
            if samples and time.monotonic() >= stop_at:
                break
            start = time.perf_counter()
            try:
                _data, sw1, sw2 = card.transmit(apdu)
            except CardcheckError as err:
                raise self.stop_env("latency", err) from err
            # The adapter times the PC/SC call itself (its worker thread's hand-over excluded).
            seconds = card.last_seconds
            elapsed = time.perf_counter() - start if seconds is None else seconds
            samples.append(elapsed * 1000.0)
            words.append(f"{sw1:02X}{sw2:02X}")
        stats = latency_stats(_hex(apdu) or "", samples, words)
        self.latency = stats
        message = (
            f"{stats.count} round trips of {stats.apdu}: min {stats.min_ms:.2f} ms, median "
            f"{stats.median_ms:.2f} ms, p95 {stats.p95_ms:.2f} ms, max {stats.max_ms:.2f} ms; "
            f"status words {', '.join(stats.status_words)}"
        )
        if stats.count < self.options.count:
            self.add(
                "latency",
                CheckStatus.WARN,
                f"stopped after {self.options.latency_budget:g} s: {message}",
                f"the card answers slowly: only {stats.count} of {self.options.count} round "
                "trips fit in the time the latency stage may take; a card this slow makes "
                "applications time out (reinsert it, try another reader)",
            )
            return
        self.add("latency", CheckStatus.PASS, message)


def _doctor_names_cause(err: CardcheckError) -> CardcheckError:
    """``err`` with the cause `cardcheck doctor` finds (no service, no reader) in its text.

    The first problem of the diagnosis goes into the message, its cause and fix into the
    hint (before ``err``'s own hint); without one, ``err`` is returned as it is.
    """
    from cardcheck.doctor.collect import collect
    from cardcheck.doctor.diagnose import diagnose

    try:
        problems = diagnose(collect()).problems
    except (CardcheckError, OSError):
        return err
    if not problems:
        return err
    first = problems[0]
    fixes = "\n".join(f"fix: {step}" for step in first.fix)
    general = "" if err.hint is None else f"\n{err.hint}"
    return EnvironmentProblem(
        f"{err.message}: {first.summary}",
        f"cause: {first.cause}\n{fixes}{general}\n(every link: cardcheck doctor; code "
        f"{first.code})",
        code=err.code,
    )


Progress = Callable[[CheckResult], None]
"""Called with each stage's result as soon as it is known (for progress on stderr)."""


def run_check(
    options: CheckOptions,
    *,
    progress: Progress | None = None,
    pcsc_factory: Callable[[], PcscContext] | None = None,
) -> CheckReport:
    """Run every stage and return the report; never raises for PC/SC problems."""
    if pcsc_factory is None:
        from cardcheck.pcsc.adapter import open_context

        pcsc_factory = open_context
    runner = _Runner(pcsc_factory, options, progress or (lambda _r: None))
    return runner.run()
