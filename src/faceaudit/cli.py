"""The ``faceaudit`` command line: a thin layer over the Python API.

Each sub-command lives in ``faceaudit.commands.<name>`` and exposes ``register(app)``; this module
only assembles them and turns :class:`~faceaudit.errors.InputError` into one clear message and exit
status 2 (never a traceback), and Ctrl-C into exit status 130.
"""

from __future__ import annotations

import importlib
import sys

import typer

from faceaudit._version import __version__
from faceaudit.errors import InputError

COMMAND_MODULES = [
    "faceaudit.commands.errors",
    "faceaudit.commands.compare",
    "faceaudit.commands.demo",
    "faceaudit.commands.embed",
    "faceaudit.commands.synth",
    "faceaudit.commands.identify",
    "faceaudit.commands.scale",
    "faceaudit.commands.audit",
    "faceaudit.commands.capture",
    "faceaudit.commands.impact",
]

app = typer.Typer(
    name="faceaudit",
    help=(
        "Measure how often a face-recognition match is wrong: FMR/FNMR (ISO/IEC 19795-1), "
        "FPIR/FNIR (NIST FRTE 1:N), with confidence intervals, in a self-contained report."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"faceaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """faceaudit: audits of face-recognition error rates."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


#: Library parameter names whose command-line flag is not ``--`` + the name with dashes.
_FLAGS = {
    "fmr_targets": "--fmr-target",
    "fpir_targets": "--fpir-target",
    "thresholds": "--threshold",
    "model_options": "--model-option",
    "cache_dir": "--cache",
    "nonmated_hits": "--fpir",
    "n_nonmated": "--fpir",
    "mated_correct": "--fnir-rank1",
    "n_mated": "--fnir-rank1",
    "mated_wrong": "--wrong-top1",
    "condition_threshold": "--condition-threshold",
}


def _message(exc: InputError) -> str:
    """The error sentence; a parameter's is prefixed by the flag that set it."""
    from faceaudit.params import ParameterError, shown

    if isinstance(exc, ParameterError):
        flag = _FLAGS.get(exc.parameter, "--" + exc.parameter.replace("_", "-"))
        return f"{flag} {shown(exc.value)}: {exc.reason}"
    return str(exc)


_INTERRUPTED = (
    "interrupted: nothing was written (finished embeddings stay in the cache; rerun to resume)."
)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; input errors exit 2 with one sentence, Ctrl-C 130, SIGTERM 143."""
    import signal

    terminated = {"flag": False}

    def on_term(signum, frame):
        """SIGTERM ends a run like Ctrl-C: workers stopped, temporary output removed."""
        terminated["flag"] = True
        raise KeyboardInterrupt

    import warnings

    from faceaudit.commands import _common

    def show_warning(message, category, filename, lineno, file=None, line=None):
        """The library's warnings as one line on stderr, without the source location."""
        typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)

    shown_before, warnings.showwarning = warnings.showwarning, show_warning
    _common.COMMAND_LINE[:] = list(sys.argv[1:] if argv is None else argv)
    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread (e.g. a test runner's worker): leave signals alone
        previous = None
    try:
        # Outside standalone mode, Typer returns (rather than raises) the exit code of an
        # interrupted command (Ctrl-C: 130): pass it on.
        rc = app(args=argv, standalone_mode=False)
        if rc == 130:
            typer.echo(_INTERRUPTED, err=True)
            sys.exit(143 if terminated["flag"] else 130)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except InputError as exc:
        typer.secho(f"error: {_message(exc)}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo(_INTERRUPTED, err=True)
        sys.exit(143 if terminated["flag"] else 130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors arrive here in non-standalone mode
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    finally:
        warnings.showwarning = shown_before
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
