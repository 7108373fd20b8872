"""How Typer shows help and errors: its texts (usage, panel titles, "missing option", "no such
option" …) in the language in use, and flags without a type after them.

Typer looks some texts up with ``gettext`` under names bound when its modules were imported
(:func:`install` rebinds them to leaktrace's catalogues; ``scripts/catalogues.py`` extracts
them from the pinned Typer into the ``typer`` domain). The Click it vendors writes its texts in
English; those a person meets are matched here (``ERRORS``) and put in the catalogues.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import typer.core
import typer.rich_utils
from rich.columns import Columns
from rich.text import Text
from typer._click import core as click_core
from typer._click import exceptions as click_exceptions
from typer._click import formatting as click_formatting

from leaktrace.i18n import N_, _, ngettext

# Typer's texts that it translates once, when rich_utils is imported: name -> message id.
_RICH_CONSTANTS = {
    "DEPRECATED_STRING": "(deprecated) ",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}

# The vendored Click's error texts (English f-strings) and their message ids: the first
# pattern that matches the whole text gives the translation; its named groups fill the
# message's {fields}.
ERRORS = (
    (
        re.compile(r"Invalid value for (?P<hint>.+?): (?P<message>.*)", re.S),
        N_("Invalid value for {hint}: {message}"),
    ),
    (re.compile(r"Invalid value: (?P<message>.*)", re.S), N_("Invalid value: {message}")),
    (
        re.compile(r"Missing option (?P<hint>.+?)\.(?P<rest>.*)", re.S),
        N_("Missing option {hint}.{rest}"),
    ),
    (
        re.compile(r"Missing argument (?P<hint>.+?)\.(?P<rest>.*)", re.S),
        N_("Missing argument {hint}.{rest}"),
    ),
    (
        re.compile(
            r"No such option: (?P<name>\S+)(?: \(Possible options: (?P<options>.+)\))?", re.S
        ),
        N_("No such option: {name}"),
    ),
    (
        re.compile(r"Got unexpected extra arguments? \((?P<args>.+)\)", re.S),
        N_("Got unexpected extra arguments ({args})"),
    ),
    (re.compile(r"No such command '(?P<name>.+)'\.", re.S), N_("No such command {name!r}.")),
    (
        re.compile(r"Option '(?P<name>.+)' requires an argument\.", re.S),
        N_("Option {name!r} requires an argument."),
    ),
)
_POSSIBLE = N_("(Possible options: {options})")


def click_error(text: str) -> str:
    """A Click error text in the language in use (as it is when no pattern knows it)."""
    for pattern, message in ERRORS:
        m = pattern.fullmatch(text)
        if m:
            parts = {k: v or "" for k, v in m.groupdict().items()}
            out = _(message).format(**parts)
            if parts.get("options"):
                out += " " + _(_POSSIBLE).format(options=parts["options"])
            return out
    return text


def _flag_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    """A flag (``--json``) takes no value: no ``<bool>`` after it in the help."""
    return None if self.is_flag else _typed(self, ctx)


def _usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
    _write_usage(self, prog, args, _("Usage:") + " " if prefix is None else prefix)


def _help_option(self: Any, ctx: Any) -> Any:
    option = _get_help_option(self, ctx)
    if option is not None:
        option.help = _("Show this message and exit.")
    return option


def _folding_help(**kwargs: Any) -> Any:
    """An option's help as one text that wraps without an ellipsis: Chinese has no spaces to
    break at, and Rich cuts a too-long run of characters in Typer's columns of help pieces."""
    pieces = _parameter_help(**kwargs).renderables
    if not all(isinstance(p, Text) for p in pieces):
        return Columns(pieces)
    return Text(" ", overflow="fold").join(pieces)


def _format_error(self: click_exceptions.ClickException) -> None:
    english: Callable[[], str] = self.format_message
    self.format_message = lambda: click_error(english())  # type: ignore[method-assign]
    _rich_format_error(self)


_typed: Any = typer.core.TyperOption.display_type_rich
_write_usage: Any = click_formatting.HelpFormatter.write_usage
_get_help_option: Any = click_core.Command.get_help_option
_rich_format_error: Any = typer.rich_utils.rich_format_error
_parameter_help: Any = typer.rich_utils._get_parameter_help


def install() -> None:
    """Make Typer's texts follow the language in use (call once the language is set; calling
    again is harmless)."""
    for module in (typer.core, typer.rich_utils):
        module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    for name, message in _RICH_CONSTANTS.items():
        setattr(typer.rich_utils, name, _(message))
    typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]
    click_formatting.HelpFormatter.write_usage = _usage  # type: ignore[method-assign]
    click_core.Command.get_help_option = _help_option  # type: ignore[method-assign]
    typer.rich_utils.rich_format_error = _format_error
    typer.rich_utils._get_parameter_help = _folding_help
