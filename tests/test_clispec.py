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
        assert (param.callback is not None) == numeric, option.name
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
    clock = clispec.option_of(clispec.ATR, "clock")
    assert clispec.number_problem(clock, 4.0) is None
    assert clispec.number_problem(clock, math.nan) == "nan is not a number."
    assert clispec.number_problem(clock, math.inf) == "inf is not a finite number."
    assert clispec.number_problem(clock, 0.0) == "0.0 is not in the range 0.001<=x<=1000.0."
    jobs = clispec.option_of(clispec.ATR, "jobs")
    assert clispec.number_problem(jobs, 0) == "0 is not in the range x>=1."
    assert clispec.number_problem(jobs, 10**6) is None


def test_atr_default_clock_is_the_decoder_default() -> None:
    from cardcheck.commands.atr_run import DEFAULT_CLOCK_MHZ

    assert clispec.DEFAULT_CLOCK_MHZ == DEFAULT_CLOCK_MHZ
