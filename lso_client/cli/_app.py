"""The `lso` application: global options, the reference points, `listen`, `mock-seller`."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from .._operations import REFERENCE_POINTS
from ._commands import Settings, reference_point_app, run_guarded, use_settings

__all__ = ["app"]

app = typer.Typer(
    name="lso",
    help=(
        "The MEF LSO APIs (Allegro, Interlude, Legato) from the command line: "
        "lso [--profile P | --base-url U --token T] <reference point> <family> <verb> ..."
    ),
    epilog=(
        "Exit codes: 0 success; 1 an error of the seller, the network or the SDK; "
        "2 usage; 3 not found; 4 authentication or permission; "
        "5 a wait that timed out or did not end completed or accepted; 130 interrupted; "
        "141 stdout closed by its reader (| head)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _StderrHandler(logging.Handler):
    """Log records as `lso: <level>: <message>` on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = " ".join(self.format(record).split())
            print(f"lso: {record.levelname.lower()}: {text}", file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never fail the command
            self.handleError(record)


def _configure_logging(verbose: bool) -> None:
    """The SDK's warnings (with `-v` its debug lines too) on stderr, one line each."""
    logger = logging.getLogger("lso_client")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    level = logging.DEBUG if verbose else logging.WARNING
    logger.addHandler(_StderrHandler(level))
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)


@app.callback()
def _global(
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="A seller profile (see docs/real-seller.md)."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="The seller's base URL (else $LSO_BASE_URL)."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="A bearer token (else $LSO_TOKEN); never printed."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Full error detail and debug logs.")
    ] = False,
) -> None:
    """Global options."""
    use_settings(Settings(profile=profile, base_url=base_url, token=token, verbose=verbose))
    _configure_logging(verbose)


for _rp in REFERENCE_POINTS:
    app.add_typer(reference_point_app(_rp), name=_rp)


@contextmanager
def _until_stopped(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event set by SIGTERM (`stop`, or a new one); Ctrl-C raises KeyboardInterrupt as
    usual. Either one is the normal way to stop a server command (exit 0)."""
    stop = stop if stop is not None else threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if in_main else None
    try:
        yield stop
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _serve_until_stopped(stop: threading.Event | None = None) -> None:
    """Serve until Ctrl-C, SIGTERM or `stop` is set."""
    with _until_stopped(stop) as stop:
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


@app.command("mock-seller")
def mock_seller(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free one).")] = 0,
    step_delay: Annotated[
        float, typer.Option("--step-delay", help="Seconds between the seller's scripted steps.")
    ] = 0.5,
    notification_token: Annotated[
        str | None,
        typer.Option(
            "--notification-token", help="The bearer token its notifications carry; never printed."
        ),
    ] = None,
) -> None:
    """Run the embedded mock seller on loopback; print its URL; stop on Ctrl-C or SIGTERM."""

    def action() -> None:
        from ..testing import MockSeller

        seller = MockSeller(step_delay=step_delay, notification_token=notification_token)
        seller.start(port=port)
        try:
            print(seller.url, flush=True)
            print(
                f"lso: mock seller at {seller.url} (LSO_BASE_URL={seller.url}); Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )
            _serve_until_stopped()
        finally:
            seller.stop()

    run_guarded(action)


@app.command()
def listen(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free one).")] = 0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="LSO_LISTENER_TOKEN",
            show_envvar=True,
            help="The bearer token sellers must send; never printed.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also append each event to this JSON lines file.")
    ] = None,
) -> None:
    """Receive notifications: print each event as a JSON line (and append it to --out)
    until Ctrl-C or SIGTERM. Register `<url>` (printed on stderr) as a hub callback."""

    def action() -> None:
        from ..notifications import Notification, NotificationListener

        listener = NotificationListener(authenticate=token, inbox="memory")
        lock = threading.Lock()
        sink = _append_to(out) if out is not None else None
        stdout_closed = threading.Event()
        stop = threading.Event()  # SIGTERM, or stdout closed

        @listener.on()
        def show(notification: Notification) -> None:
            line = json.dumps(_event_record(notification))
            with lock:
                # The file first: an event still reaches it when stdout's reader has gone.
                if sink is not None:
                    sink.write(line + "\n")
                    sink.flush()
                if stdout_closed.is_set():
                    return
                try:
                    print(line, flush=True)
                except BrokenPipeError:
                    # Its reader has gone (`| head`): the command ends as every other does.
                    stdout_closed.set()
                    stop.set()

        listener.start(host=host, port=port)
        try:
            print(f"lso: listening at {listener.url}; Ctrl-C stops", file=sys.stderr, flush=True)
            _serve_until_stopped(stop)
        finally:
            listener.stop()
            if sink is not None:
                sink.close()
        if stdout_closed.is_set():
            raise BrokenPipeError

    run_guarded(action)


def _append_to(path: Path) -> Any:
    """`listen --out`'s file, opened to append; one that cannot be is a usage error."""
    from ._errors import UsageError

    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot open --out {path}: {exc.strerror}") from None


def _event_record(notification: Any) -> Any:
    """The notification as the seller sent it (its envelope), by wire names."""
    payload = notification.payload
    to_dict = getattr(payload, "to_dict", None)
    return to_dict() if callable(to_dict) else payload
