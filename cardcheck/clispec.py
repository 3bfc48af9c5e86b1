"""Every command of cardcheck, its arguments, options and help, declared once.

Three things are made from these declarations and from nothing else: the typer commands
(:mod:`cardcheck.cli`, used for usage errors and anything else the light path hands over), the
typer-free start-up path (:mod:`cardcheck.fastpath`) that runs the plain forms, and the help
text both print (:mod:`cardcheck.helptext`). A command's work is done by a typer-free function
(``target``) that both paths call with the declared names as keywords.

Numbers given to an option are read and checked on both paths by the option's validator in
:mod:`cardcheck.options` (the one implementation of numeric options: NaN, infinities and values
out of its range are usage errors, exit 2, with its message); the declared limits are that
validator's range. Pure and import-light.
"""

from __future__ import annotations

from cardcheck import options as validators
from cardcheck.values import Value

DEFAULT_CLOCK_MHZ = 3.5712
"""The clock most readers drive (9600 bit/s at 372/1); ``atr --clock`` when not given."""


class Option(Value):
    """One option: its parameter name, flags, kind of value, metavar, help, default and limits."""

    name: str
    """The parameter's name (the keyword of the command function)."""
    flags: tuple[str, ...]
    """``("--file", "-f")``."""
    kind: str
    """``flag`` (no value), ``str``, ``path``, ``float`` or ``int``."""
    metavar: str | None
    """Shown for the value in the help, None for a flag."""
    help: str
    """The help text."""
    low: float | None = None
    """The smallest value allowed (numbers), None for no limit."""
    high: float | None = None
    """The largest value allowed (numbers), None for no limit."""
    default: object = None
    """The value when the option is not given (False for a flag); shown in the help unless
    None or False."""
    check: str | None = None
    """Numbers: the name of the validator in :mod:`cardcheck.options` that reads and checks
    the value (its range is ``low`` to ``high``)."""


class Argument(Value):
    """A positional argument: one value, or all the remaining ones (``many``)."""

    name: str
    """The parameter's name."""
    metavar: str
    """Shown in the usage line and the help."""
    help: str
    """The help text."""
    many: bool = False
    """True: every remaining argument, as a list (None when there is none)."""
    required: bool = False
    """Always needed (shown as ``[required]``; typer reports it missing)."""
    missing: str | None = None
    """For an argument that is not ``required``: the usage error when it is not given and
    ``unless`` is not given either."""
    unless: str | None = None
    """The option that can stand in for this argument (``atr --file``)."""


class Command(Value):
    """A command: its words after ``cardcheck``, help, arguments, options and the function run."""

    path: tuple[str, ...]
    """``("db", "search")``."""
    help: str
    """The help: paragraphs separated by blank lines, the first is the summary."""
    arguments: tuple[Argument, ...]
    options: tuple[Option, ...]
    target: str
    """``module:function`` of the typer-free function doing the work, called with the declared
    names as keywords; it returns the exit code (None for 0)."""


class Group(Value):
    """``cardcheck`` itself or ``cardcheck db``: a help and its commands."""

    path: tuple[str, ...]
    help: str
    options: tuple[Option, ...]
    commands: tuple[Command | Group, ...]


HELP = Option("help", ("-h", "--help"), "flag", None, "Show this message and exit.", default=False)
"""The help option of every command and group."""


def read_number(option: Option, value: object) -> object:
    """``value`` (the option's text, or a number) read and checked by the option's validator
    in :mod:`cardcheck.options`; raises :class:`cardcheck.options.OptionValueError` with what
    is wrong and what is allowed (NaN and infinities are never a count, a clock or a duration).

    The one check of numeric options on both paths (the typer path calls it as the option's
    parser, the start-up path hands a refused value to typer for its usage error).
    """
    assert option.check is not None, option.name
    validate = getattr(validators, option.check)
    return validate(value)


def number_problem(option: Option, value: object) -> str | None:
    """What is wrong with the number ``value`` given to ``option`` (the message of its
    validator), or None."""
    try:
        read_number(option, value)
    except validators.OptionValueError as exc:
        return str(exc)
    return None


def _number(
    name: str,
    flags: tuple[str, ...],
    kind: str,
    metavar: str,
    help: str,
    check: str,
    limits: tuple[float, float],
    default: object = None,
) -> Option:
    """A numeric option checked by ``cardcheck.options.<check>``, whose range is ``limits``."""
    low, high = limits
    return Option(name, flags, kind, metavar, help, low, high, default, check)


def value_range(option: Option) -> str | None:
    """``0.001<=x<=1000.0``, ``x>=1``: the limits of a numeric option as the help shows them."""
    number = int if option.kind == "int" else float
    low = None if option.low is None else number(option.low)
    high = None if option.high is None else number(option.high)
    if low is not None and high is not None:
        return f"{low}<=x<={high}"
    if low is not None:
        return f"x>={low}"
    if high is not None:
        return f"x<={high}"
    return None


def _json(help: str) -> Option:
    return Option("json_output", ("--json",), "flag", None, help, default=False)


DB_HELP = "ATR list to identify cards with (default: the chain, see cardcheck db info)."
"""Help of the ``--db PATH`` option of every command that identifies cards."""

DB = Option("db", ("--db",), "path", "PATH", DB_HELP)
"""``--db PATH`` of the commands that identify cards."""

LIST_DB = Option(
    "db",
    ("--db",),
    "path",
    "PATH",
    "Use this smartcard_list.txt instead of looking along the chain (also: CARDCHECK_DB).",
)
"""``--db PATH`` of ``cardcheck db info|search``."""

ATR = Command(
    ("atr",),
    "Decode an ATR: structure, protocols, speed and timing, historical bytes, problems, and "
    "which card it is (public ATR list and your local additions).\n\n"
    "Exit codes: 0 every ATR is valid; 1 an ATR has an error, or a --file line is not hex; "
    "2 text that is not hex on the command line, or an unreadable file; 3 no ATR list "
    "(use --no-db, install pcsc-tools or run cardcheck db update).",
    (
        Argument(
            "atr",
            "ATR...",
            "The ATR in hex, e.g. 3B 02 14 50 (spaces, colons or no separators).",
            many=True,
            missing="Missing argument 'ATR...': give an ATR, or --file PATH.",
            unless="file",
        ),
    ),
    (
        Option(
            "file",
            ("--file", "-f"),
            "str",
            "PATH|-",
            "Read ATRs from a file, one per line (# comments, blank lines skipped); "
            "- for standard input.",
        ),
        _json("One JSON object per ATR, one per line (JSON Lines)."),
        _number(
            "clock",
            ("--clock",),
            "float",
            "MHz",
            "Reader clock for the timing section, in MHz [default: "
            f"{DEFAULT_CLOCK_MHZ}]; with --json, a timing key at that clock.",
            "clock_mhz",
            validators.CLOCK_MHZ_RANGE,
        ),
        DB,
        Option(
            "no_db",
            ("--no-db",),
            "flag",
            None,
            "Decode only: do not identify the card.",
            default=False,
        ),
        _number(
            "jobs",
            ("--jobs",),
            "int",
            "N",
            "Processes for a long --file with --json [default: one per core, "
            "for at least 1500 lines each; never more than the cores or the lines]. "
            "The output is the same.",
            "jobs",
            validators.JOBS_RANGE,
        ),
    ),
    "cardcheck.commands.atr:atr",
)

COMPAT = Command(
    ("compat",),
    "Will this card work in that reader? Protocol, voltage, speed and clock, offline.\n\n"
    "Predicts what pcscd and libccid will negotiate (who does the PPS, the bit rate, the "
    "protocol) and says what to change when it will not work.\n\n"
    "Exit codes: 0 pass or warn; 1 fail; 2 bad ATR, unreadable or bad descriptor file, or no "
    "reader given.",
    (
        Argument(
            "atr",
            "ATR...",
            "The card's ATR in hex, e.g. 3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13.",
            many=True,
            missing="Missing argument 'ATR...': give the card's ATR in hex.",
        ),
    ),
    (
        Option(
            "descriptor",
            ("--descriptor", "-d"),
            "str",
            "FILE",
            "The reader's 54-byte CCID class descriptor (binary or hex text), or a whole "
            "USB descriptor blob such as sysfs `descriptors`; - for standard input.",
        ),
        _number(
            "clock",
            ("--clock",),
            "float",
            "MHz",
            "The reader's card clock in MHz (overrides the descriptor).",
            "clock_mhz",
            validators.CLOCK_MHZ_RANGE,
        ),
        _number(
            "max_rate",
            ("--max-rate",),
            "int",
            "BPS",
            "The reader's maximum data rate in bit/s (overrides the descriptor).",
            "max_rate_bps",
            validators.MAX_RATE_RANGE,
        ),
        Option(
            "voltages",
            ("--voltages",),
            "str",
            "5,3,1.8",
            "Voltages the reader supplies (overrides the descriptor).",
        ),
        Option(
            "protocols",
            ("--protocols",),
            "str",
            "0,1",
            "Protocols the reader supports (overrides the descriptor).",
        ),
        Option(
            "data_rates",
            ("--data-rates",),
            "str",
            "BPS,...",
            "The reader's data rate table (GET_DATA_RATES, as libccid's `parse` lists "
            "it); 'none' for a reader without one.",
        ),
        _json("One JSON object: verdict, findings, reader, speed."),
    ),
    "cardcheck.commands.compat:compat",
)

READERS = Command(
    ("readers",),
    "List the smart-card readers, their state, and the card in each (ATR, protocol, "
    "identity).\n\n"
    "Reads states without disturbing other programs: it connects in shared mode only, and not "
    "at all to a card another program holds exclusively. Exit 3 when the PC/SC service is not "
    "running or sees no reader, and (after the list) when a reader did not answer within a few "
    "seconds: a card in another program's transaction, or an unresponsive reader or card.",
    (),
    (_json('Print JSON: {"readers": [...]} (documented keys).'), DB),
    "cardcheck.commands.readers:readers",
)

WATCH = Command(
    ("watch",),
    "Watch readers: first the current state of each, then every insertion, removal, mute "
    "card, use by a program, and reader plugged in or out, as it happens.\n\n"
    "Each event has an ISO 8601 time stamp with milliseconds. Ctrl-C ends it (exit 0); "
    "--timeout and --count end it for scripts. Exit 2 for a bad --timeout or a --reader that "
    "matches several readers; exit 3 when the PC/SC service is not running or stops "
    "answering.",
    (),
    (
        _json("One JSON object per event and line (JSON Lines), flushed."),
        Option(
            "reader",
            ("--reader",),
            "str",
            "NAME",
            "Only this reader: its exact name, or a prefix or part of it that only one "
            "reader has (several: exit 2); none yet: wait for it to be plugged in.",
        ),
        _number(
            "timeout",
            ("--timeout",),
            "float",
            "S",
            "Stop after S seconds (0 to 31536000).",
            "watch_timeout",
            validators.WATCH_TIMEOUT_RANGE,
        ),
        _number(
            "count",
            ("--count",),
            "int",
            "N",
            "Stop after N events (initial states count).",
            "watch_count",
            validators.WATCH_COUNT_RANGE,
        ),
        DB,
    ),
    "cardcheck.commands.watch:watch",
)

CHECK = Command(
    ("check",),
    "Check a reader and its card end to end, with a verdict and advice per stage.\n\n"
    "Stages: service, readers, card, atr, identify, reader-capabilities, compatibility, "
    "protocol, warm-reset, latency. Progress goes to stderr.\n\n"
    "Exit codes: 0 pass or warn (1 for warn with --strict); 1 fail; 2 usage (an APDU not on "
    "the read-only allowlist, a --reader that matches no reader or several); 3 environment "
    "(no PC/SC service, no reader, no card, card removed, or a reader or card that did not "
    "answer within a few seconds, e.g. held in another program's transaction).",
    (),
    (
        Option(
            "reader",
            ("--reader",),
            "str",
            "NAME",
            "Check this reader: its exact name, or a prefix or part of it that only one "
            "reader has (else exit 2); default: the first reader holding a card.",
        ),
        _json("One JSON object (documented keys)."),
        Option(
            "apdu",
            ("--apdu",),
            "str",
            "HEX",
            "Read-only command to time instead of SELECT MF (00 A4 00 00 02 3F 00); only "
            "SELECT, READ BINARY, READ RECORD, GET DATA and GET RESPONSE of class 00-0F are "
            "sent, anything else is refused (exit 2).",
        ),
        _number(
            "count",
            ("--count",),
            "int",
            "N",
            "Latency round trips.",
            "check_count",
            validators.CHECK_COUNT_RANGE,
            default=20,
        ),
        Option("strict", ("--strict",), "flag", None, "Exit 1 on warnings too.", default=False),
        DB,
    ),
    "cardcheck.commands.check:check",
)

DB_INFO = Command(
    ("db", "info"),
    "Which ATR list is in use and why, its date, entries, index; the files skipped and why.",
    (),
    (_json("Print JSON (documented keys)."), LIST_DB),
    "cardcheck.commands.db:info",
)

DB_SEARCH = Command(
    ("db", "search"),
    "Find entries whose description mentions TEXT (case-insensitive).",
    (
        Argument(
            "text",
            "TEXT",
            "Text to find in card descriptions, e.g. yubikey.",
            required=True,
        ),
    ),
    (_json("Print JSON (documented keys)."), LIST_DB),
    "cardcheck.commands.db:search",
)

DB_UPDATE = Command(
    ("db", "update"),
    "Download the public ATR list into cardcheck's cache, check it, and switch to it "
    "safely.\n\n"
    "The list in use is never changed unless the new one is complete; the previous copy is "
    "kept as smartcard_list.txt.bak. Exit code 4 when the update failed.",
    (),
    (
        Option(
            "url",
            ("--url",),
            "str",
            "URL",
            "Download from this URL (default: pcsc-tools' published list).",
        ),
        Option(
            "from_file",
            ("--from",),
            "path",
            "FILE",
            "Install this file instead of downloading.",
        ),
        Option(
            "force",
            ("--force",),
            "flag",
            None,
            "Install even a list much smaller than the one in use.",
            default=False,
        ),
        _number(
            "timeout",
            ("--timeout",),
            "float",
            "SECONDS",
            "Most seconds the whole update may take (connecting and downloading).",
            "timeout_seconds",
            validators.TIMEOUT_RANGE,
            default=30.0,
        ),
        _json("Print what was installed as JSON (errors still go to stderr)."),
    ),
    "cardcheck.commands.db:update",
)

DOCTOR = Command(
    ("doctor",),
    "Walk the chain service -> access -> USB devices -> readers and cards, and name the "
    "cause of each broken link with what to do.\n\n"
    "Reads files and PC/SC state only; the fixes are commands for you to run.\n\n"
    "Exit codes: 0 nothing wrong; 1 a problem found; 2 usage; 3 a link could not be looked "
    "at (another system than Linux, no sysfs, no pyscard).",
    (),
    (
        _json("One JSON object (documented keys)."),
        Option(
            "root",
            ("--root",),
            "path",
            "DIR",
            "Read sysfs, /proc, /etc, /run and /usr under DIR instead of / (a copied "
            "tree); the socket and PC/SC probes still look at this machine.",
            default="/",
        ),
        Option(
            "ccid_list",
            ("--ccid-list",),
            "path",
            "FILE",
            "CCID's supported_readers.txt, to tell unsupported or disabled readers "
            "(default: an installed copy, if any).",
        ),
    ),
    "cardcheck.commands.doctor:doctor",
)

VERSION = Option(
    "version", ("--version",), "flag", None, "Show cardcheck's version and exit.", default=False
)
"""``cardcheck --version``."""

DB_GROUP = Group(
    ("db",),
    "The ATR database: where it comes from, search it, update it.",
    (),
    (DB_INFO, DB_SEARCH, DB_UPDATE),
)

CARDCHECK = Group(
    (),
    "Smart-card reader diagnostics: decode ATRs, identify cards, check readers and clocks.\n\n"
    "cardcheck only powers, resets and reads the ATR of cards, reads reader attributes and "
    "sends a few documented read-only commands. Exit codes: 0 fine, 1 a check failed, "
    "2 usage or input error, 3 environment error (service, reader, card or database missing), "
    "4 an update failed and nothing changed.",
    (VERSION,),
    (ATR, CHECK, COMPAT, DOCTOR, READERS, WATCH, DB_GROUP),
)
"""``cardcheck`` and every command, in the order of its help."""


def version_text() -> str:
    """What ``cardcheck --version`` prints."""
    from cardcheck import __version__

    return f"cardcheck {__version__}\n"


def lookup(words: list[str] | tuple[str, ...]) -> Command | Group | None:
    """The command or group named by ``words`` after ``cardcheck`` (``["db", "info"]``)."""
    spec: Command | Group = CARDCHECK
    for word in words:
        if not isinstance(spec, Group):
            return None
        spec = next((c for c in spec.commands if c.path[-1] == word), None)  # type: ignore[assignment]
        if spec is None:
            return None
    return spec


def option_of(spec: Command, name: str) -> Option:
    """The option of ``spec`` whose parameter is ``name``."""
    return next(option for option in spec.options if option.name == name)


def argument_of(spec: Command, name: str) -> Argument:
    """The argument of ``spec`` whose parameter is ``name``."""
    return next(argument for argument in spec.arguments if argument.name == name)
