"""The ``flannot`` command line (SPEC §8).

Each sub-command lives in its own module here and exposes ``register(app)``.
Exit status: 0 ok, 1 a failure was found (validation, scoring), 2 bad input or
usage. Errors are one line on stderr: ``flannot: error: <what>: <why>``; a
traceback only with ``--debug``.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

import click
import typer

from flannot.errors import FlannotError, safe_name

try:  # typer >= 0.2x raises its vendored copy of click's exceptions, not click's own
    from typer import _click as _typer_click

    _CLICK: tuple[Any, ...] = (click.exceptions, _typer_click.exceptions)
except ImportError:  # older typer: plain click
    _CLICK = (click.exceptions,)


def _classes(name: str) -> tuple[Any, ...]:
    found = {getattr(m, name, None) for m in (*_CLICK, typer.exceptions)}
    return tuple(c for c in found if isinstance(c, type))


_EXIT = _classes("Exit")
_ABORT = _classes("Abort")
_NO_ARGS_HELP = _classes("NoArgsIsHelpError")
_USAGE = _classes("UsageError")
_CLICK_ERROR = _classes("ClickException")

# modules under flannot.cli that contribute commands, in help order
COMMAND_MODULES = [
    "info",
    "demo",
    "sample",
    "set_cmd",
    "validate",
    "measure",
    "score",
    "report",
    "deidentify",
    "export",
    "sim",
    "pacs",
]

_state = {"debug": False}


def _build_app(modules: list[str] | None = None) -> typer.Typer:
    """The app with the commands of ``modules`` (default: every command module)."""
    app = typer.Typer(
        name="flannot",
        help="Annotate, measure and teach on lumbar-spine fluoroscopy DICOM.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    ) -> None:
        _state["debug"] = debug

    for name in COMMAND_MODULES if modules is None else modules:
        try:
            module = importlib.import_module(f"flannot.cli.{name}")
        except ModuleNotFoundError as exc:  # command not built yet
            if exc.name != f"flannot.cli.{name}":
                raise
            continue
        module.register(app)
    return app


def _command(args: list[str]) -> Any:
    """The click command to run ``args``: built from the named sub-command's module
    alone when there is one (start-up imports only what that command needs), else
    from every command module (``flannot --help``, an unknown command)."""
    first = next((a for a in args if not a.startswith("-")), None)
    module = next((m for m in (first, f"{first}_cmd") if m in COMMAND_MODULES), None)
    if module is not None:
        command = typer.main.get_command(_build_app([module]))
        if first in getattr(command, "commands", {}):
            return command
    return typer.main.get_command(_build_app())


def error(message: str, code: int = 2) -> typer.Exit:
    """Print ``flannot: error: <message>`` on stderr and return an Exit to raise."""
    print(f"flannot: error: {' '.join(str(message).split())}", file=sys.stderr)
    return typer.Exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``flannot`` console script; returns the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    _state["debug"] = "--debug" in args
    if _state["debug"]:  # accepted anywhere on the line, as users type it
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        with warnings.catch_warnings():
            if not _state["debug"]:
                # pydicom validates values lazily, on first access anywhere: its warnings
                # about a malformed value never print on top of the one line (the
                # library's own code quiets them where it reads; this is the net)
                warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
            result = _command(args).main(args=args, prog_name="flannot", standalone_mode=False)
    except _EXIT as exc:
        return exc.exit_code
    except _ABORT:
        print("flannot: error: aborted", file=sys.stderr)
        return 130
    except _NO_ARGS_HELP as exc:  # bare `flannot` / `flannot set`: the help, as click does
        print(exc.format_message(), file=sys.stderr)
        return 2
    except _USAGE as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        print(f"flannot: error: {' '.join(exc.format_message().split())}{hint}", file=sys.stderr)
        return 2
    except _CLICK_ERROR as exc:
        print(f"flannot: error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        return exc.exit_code if exc.exit_code else 2
    except FlannotError as exc:
        if _state["debug"]:
            raise
        print(f"flannot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flannot: error: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # an unwritable/missing output path, a full disk: bad input
        if _state["debug"]:
            raise
        where = f"{safe_name(exc.filename)}: " if exc.filename else ""
        why = exc.strerror or str(exc)
        print(f"flannot: error: {where}{' '.join(why.split())}", file=sys.stderr)
        return 2
    except Exception as exc:  # never a bare traceback for users
        if _state["debug"]:
            raise
        print(
            f"flannot: error: internal error: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 2
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
