"""The `lso <reference point> <family> <verb>` commands, one generic mechanism for all.

Each verb's command is built from its operation in the catalog: path parameters are
arguments, query parameters options, a request body `-f FILE`. The reference point's
families are built when that reference point is named on the command line.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .._operations import REFERENCE_POINTS
from .._waiting import state_of
from . import _output, _progress
from ._errors import (
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    UsageError,
    WaitFailedError,
    exit_code,
    report,
)
from ._registry import Family, Verb, families

__all__ = [
    "CLIENT_CLASSES",
    "Settings",
    "reference_point_app",
    "run_guarded",
    "use_settings",
]

CLIENT_CLASSES = {
    "allegro": "AllegroClient",
    "interlude": "InterludeClient",
    "legato": "LegatoClient",
}
# Final states a wait counts as success; any other final state exits with code 5.
SUCCESS_STATES = frozenset({"completed", "accepted"})
# Verbs whose body refers to one object: `ID` builds that body (`cancel ID`).
_REF_VERBS = frozenset({"cancel", "suspend", "resume"})


class OutputFormat(str, Enum):
    """How results are printed."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


@dataclass
class Settings:
    """The global options, shared by every command."""

    profile: str | None = None
    base_url: str | None = None
    token: str | None = None
    verbose: bool = False


_current = Settings()


def use_settings(found: Settings) -> None:
    """Set the global options of the command being run (by the root callback)."""
    global _current
    _current = found


def settings() -> Settings:
    """The global options of the running command."""
    return _current


def make_client(reference_point: str) -> Any:
    """A client of `reference_point` from the global options: a profile, else a base URL
    and token (options, else `LSO_BASE_URL` and `LSO_TOKEN`)."""
    import os

    import lso_client

    cls = getattr(lso_client, CLIENT_CLASSES[reference_point])
    found = settings()
    if found.profile is not None:
        if found.base_url is not None or found.token is not None:
            raise UsageError("give --profile or --base-url/--token, not both")
        from_profile = getattr(cls, "from_profile", None)
        if from_profile is None:
            raise UsageError("this lso-client has no seller profiles")
        return from_profile(found.profile)
    base_url = found.base_url or os.environ.get("LSO_BASE_URL")
    if not base_url:
        raise UsageError("no seller: give --base-url (or LSO_BASE_URL) or --profile")
    token = found.token if found.token is not None else os.environ.get("LSO_TOKEN") or None
    return cls(base_url, token=token)


def _tolerant_stdout() -> None:
    """Write what stdout's encoding cannot hold (a latin-1 terminal, a lone surrogate in
    the seller's data) as backslash escapes rather than fail the command."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if callable(reconfigure):
        reconfigure(errors="backslashreplace")


def _quiet_stdout() -> None:
    """The reader of stdout went away (`lso ... | head`): what is still buffered, and
    Python's flush at exit, go to the null device instead of failing again."""
    import os

    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)


def run_guarded(action: Callable[[], int | None]) -> None:
    """Run a command's `action`, turning errors and Ctrl-C into one line and an exit code;
    a stdout closed by its reader ends the command quietly with EXIT_PIPE."""
    try:
        _tolerant_stdout()
        code = action() or 0
        sys.stdout.flush()  # a closed stdout shows here, not in Python's flush at exit
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_PIPE
    except KeyboardInterrupt:
        print("lso: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except Exception as exc:
        report(exc, verbose=settings().verbose)
        code = exit_code(exc)
    if code:
        raise typer.Exit(code)


# --------------------------------------------------------------------------- arguments


def _read_body(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the body file {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the body file {path} is not JSON: {exc}") from None


def _option(name: str, annotation: Any, default: Any, *flags: str, help: str) -> inspect.Parameter:
    info = typer.Option(*flags, help=help, show_default=default is not None)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[annotation, info],
    )


def _argument(
    name: str,
    annotation: Any,
    help: str,
    default: Any = inspect.Parameter.empty,
    metavar: str | None = None,
) -> Any:
    info = typer.Argument(help=help, metavar=metavar or name.upper(), show_default=False)
    return inspect.Parameter(
        name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=default,
        annotation=Annotated[annotation, info],
    )


def _output_option(default: OutputFormat) -> inspect.Parameter:
    return _option("output", OutputFormat, default, "--output", "-o", help="Output format.")


def _command(params: list[inspect.Parameter], body: Callable[..., Any], doc: str) -> Any:
    def command(**kwargs: Any) -> None:
        run_guarded(lambda: body(**kwargs))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = doc
    return command


# --------------------------------------------------------------------------- commands


@contextmanager
def _resource(reference_point: str, family: Family) -> Iterator[Any]:
    with make_client(reference_point) as client:
        yield family.resource(client)


def _finished(result: Any, what: str) -> int | None:
    state = state_of(result)
    if state is not None and state not in SUCCESS_STATES:
        raise WaitFailedError(f"{what} ended {state}")
    return None


def _list_command(rp: str, family: Family, verb: Verb) -> Any:
    assert verb.operation is not None
    filters = [
        p
        for p in verb.operation.parameters
        if p.location == "query" and p.name not in ("offset", "limit")
    ]
    params = [
        _option(
            f"q_{p.python_name}",
            str if p.required else str | None,
            ... if p.required else None,
            "--" + p.python_name.replace("_", "-"),
            help=f"Filter `{p.name}`.",
        )
        for p in filters
    ]
    params += [
        _option("max_items", int | None, None, "--max-items", help="List at most this many."),
        _option("limit", int | None, None, "--limit", help="Items per page asked of the seller."),
        _output_option(OutputFormat.table),
    ]

    def body(**kw: Any) -> None:
        _at_least(kw["max_items"], 0, "--max-items")
        _at_least(kw["limit"], 1, "--limit")
        query = {p.python_name: kw[f"q_{p.python_name}"] for p in filters}
        query = {k: v for k, v in query.items() if v is not None}
        fmt = kw["output"].value
        streaming = fmt in ("json", "jsonl")
        with (
            _resource(rp, family) as resource,
            _progress.listing(family.name, streaming=streaming) as progress,
        ):
            page = getattr(resource, verb.method)(
                **query, max_items=kw["max_items"], limit=kw["limit"], progress=progress
            )
            if streaming:
                _output.write_items(iter(page), fmt, sys.stdout)
                return
            items = list(page)
        _output.write_items(iter(items), fmt, sys.stdout)

    return _command(params, body, f"List {family.name} (GET {verb.operation.path}).")


def _at_least(value: float | None, lowest: float, option: str) -> None:
    if value is not None and value < lowest:
        raise UsageError(f"{option} must be {lowest} or more, not {value}")


def _path_params(verb: Verb) -> list[str]:
    assert verb.operation is not None
    return [p.python_name for p in verb.operation.parameters if p.location == "path"]


def _operation_command(rp: str, family: Family, verb: Verb) -> Any:
    """Any other operation: path parameters as arguments, a body from `-f`."""
    op = verb.operation
    assert op is not None
    path = _path_params(verb)
    takes_ref = op.request_model is not None and verb.name in _REF_VERBS and not path
    params = [_argument(name, str, f"Path parameter `{name}`.") for name in path]
    if takes_ref:
        params.append(
            _argument("ref_id", str | None, "The object's id (builds the body).", None, "ID")
        )
    if op.request_model is not None:
        params.append(
            _option(
                "file",
                str | None,
                None,
                "--file",
                "-f",
                help=f"The request body ({op.request_model}) as a JSON file; - reads stdin.",
            )
        )
    waits = verb.name == "create" and "create_and_wait" in family.waits
    if waits:
        params += _wait_options(family, with_flag=True)
    quiet = op.response_model is None
    if not quiet:
        params.append(_output_option(OutputFormat.json))

    def body(**kw: Any) -> int | None:
        args: list[Any] = [kw[name] for name in path]
        if op.request_model is not None:
            args.append(_body_of(kw, family, op.request_model, takes_ref))
        with _resource(rp, family) as resource:
            result = getattr(resource, verb.method)(*args)
            if waits and kw["wait"]:
                with _progress.waiting(f"{family.name} {result.id}") as progress:
                    result = resource.wait(result.id, **_wait_kwargs(family, kw, progress))
                _output.write_one(result, kw["output"].value, sys.stdout)
                return _finished(result, f"{family.name} {result.id}")
        if quiet:
            print(f"{family.name} {verb.name}: done", file=sys.stderr)
        else:
            _output.write_one(result, kw["output"].value, sys.stdout)
        return None

    doc = f"{verb.name.capitalize()} ({op.method} {op.path}, operationId {op.operation_id})."
    return _command(params, body, doc)


def _body_of(kw: dict[str, Any], family: Family, request_model: str, takes_ref: bool) -> Any:
    file, ref_id = kw.get("file"), kw.get("ref_id")
    if file is not None and ref_id is not None:
        raise UsageError("give the object's ID or -f FILE, not both")
    if file is not None:
        return _read_body(file)
    if takes_ref and ref_id is not None:
        from .._operations import model_module
        from .._waiting import ref_body

        return ref_body(getattr(model_module(family.module), request_model), ref_id)
    raise UsageError(
        "a request body is needed: -f FILE" + (" or the object's ID" if takes_ref else "")
    )


def _wait_options(family: Family, *, with_flag: bool) -> list[inspect.Parameter]:
    params = []
    if with_flag:
        params.append(
            _option("wait", bool, False, "--wait", help="Wait until it reaches a final state.")
        )
    params += [
        _option("timeout", float, 3600.0, "--timeout", help="Seconds to wait at most."),
        _option(
            "poll_interval", float, 1.0, "--poll-interval", help="Seconds between first polls."
        ),
    ]
    if "cancel_on_interrupt" in family.waits:
        params.append(
            _option(
                "cancel_on_interrupt",
                bool,
                False,
                "--cancel-on-interrupt",
                help="On Ctrl-C, ask the seller to cancel it before exiting.",
            )
        )
    return params


def _wait_kwargs(family: Family, kw: dict[str, Any], progress: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "timeout": kw["timeout"],
        "poll_interval": kw["poll_interval"],
        "progress": progress,
    }
    if "cancel_on_interrupt" in family.waits:
        found["cancel_on_interrupt"] = kw["cancel_on_interrupt"]
    return found


def _wait_command(rp: str, family: Family, verb: Verb) -> Any:
    params = [_argument("id", str, "The id to wait for.")]
    params += _wait_options(family, with_flag=False)
    params.append(_output_option(OutputFormat.json))

    def body(**kw: Any) -> int | None:
        with (
            _resource(rp, family) as resource,
            _progress.waiting(f"{family.name} {kw['id']}") as progress,
        ):
            result = resource.wait(kw["id"], **_wait_kwargs(family, kw, progress))
        _output.write_one(result, kw["output"].value, sys.stdout)
        return _finished(result, f"{family.name} {kw['id']}")

    doc = (
        f"Wait until one of {family.name} reaches a final state; exit 5 if that state is "
        "not a success (completed, accepted) or the wait times out."
    )
    return _command(params, body, doc)


def _wait_for_job_command(rp: str, family: Family, verb: Verb) -> Any:
    params = [
        _argument("job_id", str, "The job whose products to wait for."),
        _option("count", int, 1, "--count", help="How many to wait for."),
        *_wait_options(family, with_flag=False),
        _output_option(OutputFormat.table),
    ]

    def body(**kw: Any) -> None:
        _at_least(kw["count"], 1, "--count")
        with (
            _resource(rp, family) as resource,
            _progress.waiting(f"{family.name} of job {kw['job_id']}") as progress,
        ):
            result = resource.wait_for_job(
                kw["job_id"],
                count=kw["count"],
                timeout=kw["timeout"],
                poll_interval=kw["poll_interval"],
                progress=progress,
            )
        _output.write_items(iter(result), kw["output"].value, sys.stdout)

    return _command(params, body, f"Wait until a job has COUNT {family.name} ready; list them.")


def _verb_command(rp: str, family: Family, verb: Verb) -> Any:
    if verb.name == "wait":
        return _wait_command(rp, family, verb)
    if verb.name == "wait-for-job":
        return _wait_for_job_command(rp, family, verb)
    assert verb.operation is not None
    if verb.operation.paginated:
        return _list_command(rp, family, verb)
    return _operation_command(rp, family, verb)


def family_app(rp: str, family: Family) -> typer.Typer:
    """The commands of one family at one reference point."""
    app = typer.Typer(
        help=f"{family.name}: client.{'.'.join(family.path)} ({family.module}).",
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def group() -> None:
        """A family of commands (a group even with one verb)."""

    for name in sorted(family.verbs):
        verb = family.verbs[name]
        app.command(name=name)(_verb_command(rp, family, verb))
        if name == "update":
            app.command(name="patch", hidden=True)(_verb_command(rp, family, verb))
    return app


def _lazy_group(rp: str) -> type[TyperGroup]:
    class ReferencePointGroup(TyperGroup):
        """The families of one reference point, each built when named."""

        def list_commands(self, ctx: Any) -> list[str]:
            return list(families(rp))

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            family = families(rp).get(cmd_name)
            if family is None:
                return None
            command = typer.main.get_command(family_app(rp, family))
            command.name = cmd_name
            return command

    return ReferencePointGroup


def reference_point_app(rp: str) -> typer.Typer:
    """`lso <rp> ...`: the families served at reference point `rp`."""
    return typer.Typer(
        cls=_lazy_group(rp),
        help=f"Operations at {rp.capitalize()}: lso {rp} <family> <verb>.",
        no_args_is_help=True,
    )


assert set(CLIENT_CLASSES) == set(REFERENCE_POINTS)
