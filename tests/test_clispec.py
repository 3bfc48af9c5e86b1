"""One declaration per command (cardcheck.clispec): the typer commands, the typer-free
functions and the help are all made from it, so they cannot drift apart."""

from __future__ import annotations

import inspect
import math
from importlib import import_module

import pytest
import typer.main

from cardcheck import clispec, fastpath
from cardcheck.cli import app, run
from cardcheck.clispec import Command, Group

COMMANDS = [
    spec
    for spec in (*clispec.CARDCHECK.commands, *clispec.DB_GROUP.commands)
    if isinstance(spec, Command)
]
IDS = [" ".join(spec.path) for spec in COMMANDS]


def typer_command(spec: Command) -> object:
    command: object = typer.main.get_command(app)
    for word in spec.path:
        command = command.commands[word]  # type: ignore[attr-defined]
    return command


@pytest.mark.parametrize("spec", COMMANDS, ids=IDS)
def test_typer_parameters_are_exactly_the_declared_ones(spec: Command) -> None:
    params = {p.name: p for p in typer_command(spec).params}  # type: ignore[attr-defined]
    declared = [a.name for a in spec.arguments] + [o.name for o in spec.options]
    assert sorted(params) == sorted(declared)
    for option in spec.options:
        param = params[option.name]
        assert sorted(param.opts + param.secondary_opts) == sorted(option.flags), option.name
        assert param.help == option.help
        assert param.metavar == option.metavar
        assert param.is_flag == (option.kind == "flag")
        assert option.kind != "flag" or option.default is False, option.name
        assert param.default == option.default, option.name
        numeric = option.kind in ("int", "float")
        assert (option.check is not None) == numeric, option.name
        # a numeric option is read by its validator in cardcheck.options (typer's parser)
        assert (getattr(param.type, "func", None) is not None) == numeric, option.name
    for argument in spec.arguments:
        param = params[argument.name]
        assert param.metavar == argument.metavar
        assert param.help == argument.help
        assert param.required == argument.required
        assert (param.nargs == -1) == argument.many


@pytest.mark.parametrize("spec", COMMANDS, ids=IDS)
def test_typer_free_function_takes_the_declared_names(spec: Command) -> None:
    module, name = spec.target.split(":")
    signature = inspect.signature(getattr(import_module(module), name))
    declared = [a.name for a in spec.arguments] + [o.name for o in spec.options]
    assert sorted(signature.parameters) == sorted(declared)
    for option in spec.options:
        assert signature.parameters[option.name].default == option.default, option.name


def test_every_command_is_declared_and_reachable() -> None:
    group = typer.main.get_command(app)
    assert list(group.commands) == [c.path[-1] for c in clispec.CARDCHECK.commands]  # type: ignore[attr-defined]
    for spec in COMMANDS:
        assert clispec.lookup(spec.path) is spec
    assert isinstance(clispec.lookup(["db"]), Group)
    assert clispec.lookup(["nope"]) is None


def _bad_numbers(option: clispec.Option) -> list[str]:
    bad = ["nan", "inf", "-inf"] if option.kind == "float" else ["1.5", "x"]
    if option.low is not None:
        bad.append(str(option.low - 1 if option.kind == "int" else option.low / 2 - 1))
    if option.high is not None:
        bad.append(str(int(option.high) + 1 if option.kind == "int" else option.high * 2))
    return bad


NUMERIC = [
    (spec, option)
    for spec in COMMANDS
    for option in spec.options
    if option.kind in ("int", "float")
]


@pytest.mark.parametrize(
    ("spec", "option"), NUMERIC, ids=[f"{' '.join(s.path)} {o.flags[0]}" for s, o in NUMERIC]
)
def test_bad_numbers_are_usage_errors_on_both_paths(
    spec: Command, option: clispec.Option, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["3B", "00"] if spec.arguments and spec.arguments[0].many else []
    arguments += ["x"] * sum(1 for a in spec.arguments if a.required)
    for value in _bad_numbers(option):
        argv = [*spec.path, *arguments, option.flags[0], value]
        assert fastpath.try_fast(argv) is None, argv  # handed to typer
        assert run(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"Invalid value for '{option.flags[0]}'" in err, (argv, err)


def test_number_problem() -> None:
    # the messages of cardcheck.options, the one implementation of numeric options
    clock = clispec.option_of(clispec.ATR, "clock")
    assert clispec.number_problem(clock, 4.0) is None
    assert clispec.number_problem(clock, "4.8") is None
    assert clispec.number_problem(clock, math.nan) == (
        "'nan' is not a finite number; the clock is 0.001 to 1000 MHz"
    )
    assert clispec.number_problem(clock, "inf") == (
        "'inf' is not a finite number; the clock is 0.001 to 1000 MHz"
    )
    assert clispec.number_problem(clock, 0.0) == "0 is out of range; the clock is 0.001 to 1000 MHz"
    jobs = clispec.option_of(clispec.ATR, "jobs")
    assert clispec.number_problem(jobs, 0) == "0 is out of range; --jobs is 1 to 1024 processes"
    assert clispec.number_problem(jobs, 1024) is None
    assert clispec.number_problem(jobs, "1.5") is not None
    timeout = clispec.option_of(clispec.WATCH, "timeout")
    assert clispec.number_problem(timeout, 0) is None
    assert clispec.number_problem(timeout, 31_536_000) is None
    assert clispec.number_problem(timeout, 31_536_001) is not None


def test_declared_limits_are_the_validators_ranges() -> None:
    from cardcheck import options

    for spec, option in NUMERIC:
        assert option.check is not None
        low, high = option.low, option.high
        assert low is not None and high is not None, option.name
        assert clispec.number_problem(option, low) is None, (spec.path, option.name)
        assert clispec.number_problem(option, high) is None, (spec.path, option.name)
        below = low - 1 if option.kind == "int" else low - abs(low) / 2 - 0.001
        above = high + 1 if option.kind == "int" else high * 2
        assert clispec.number_problem(option, below) is not None, (spec.path, option.name)
        assert clispec.number_problem(option, above) is not None, (spec.path, option.name)
        with pytest.raises(options.OptionValueError):
            clispec.read_number(option, "nan")


def test_atr_default_clock_is_the_decoder_default() -> None:
    from cardcheck.commands.atr_run import DEFAULT_CLOCK_MHZ

    assert clispec.DEFAULT_CLOCK_MHZ == DEFAULT_CLOCK_MHZ
