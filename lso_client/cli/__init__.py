"""`lso`: the LSO APIs from the command line (`pip install 'lso-client[cli]'`).

    lso [--profile P | --base-url U --token T] [-v] <allegro|interlude|legato> <family> <verb> ...
    lso listen --port 8080 [--token T] [--out events.jsonl]
    lso mock-seller [--port N]

Families and verbs come from the SDK's operation catalog (see docs/cli.md). Exit codes:
0 success; 1 an error of the seller, the network or the SDK; 2 usage (bad arguments, an
unreadable or refused request body, a profile that cannot be used); 3 not found (404);
4 authentication or permission (401, 403, a token that could not be obtained); 5 a wait
that timed out or ended in a state other than completed or accepted (and request
timeouts); 130 interrupted (Ctrl-C); 141 stdout closed by its reader (`| head`).
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Run the `lso` command line (the console script's entry point)."""
    import sys

    from .._errors import MissingExtraError
    from .._extras import require

    try:
        require("cli", "typer")
        require("cli", "rich")
    except MissingExtraError as exc:
        print(f"lso: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    from ._app import app

    app(prog_name="lso")
