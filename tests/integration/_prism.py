"""Run Stoplight Prism (`prism mock`) against an LSO spec and collect its validation verdicts.

Findings about the pinned Prism (see package.json) that shape this harness:

* Base path: `prism mock` ignores the path of the spec's `servers` URL and serves every
  operation at the root, e.g. `GET {url}/serviceOrder`; a request carrying the
  `/mefApi/<rp>/<api>/<version>/` prefix gets 404 `NO_PATH_MATCHED_ERROR`. So a client's
  base URL for a Prism server is `PrismServer.base_url` (the root), not root + server path.
* Content types: the specs declare `application/json;charset=utf-8`. Prism answers with
  exactly that `Content-Type`, and accepts request bodies sent as either
  `application/json;charset=utf-8` or plain `application/json` (other types get a
  "Supported content types" violation).
* Violations: Prism validates every request (and its own response) and, for each violation,
  logs `[VALIDATOR] <badge> <level> Violation: <location joined by '.'> <message>` and sets an
  `sl-violations` response header holding the same violations as JSON. An invalid request is
  still answered: with the spec's 422/400 response if one is declared, else a 422
  problem+json. Query parameter names appear lower-cased in locations.
* `--errors` only turns *response* violations (a mock that does not match its own spec) into
  a 500 problem+json (`#VIOLATIONS`, details in its `validation` member). Prism then logs
  only `Request terminated with error: ...#VIOLATIONS`, not the `Violation:` lines, so the
  harness records one `response` violation without details, and request violations of that
  same exchange are lost.
* The CLI has no JSON log output (its pino JSON stream is rendered through `signale` inside
  the process), so this harness parses the `Violation:` log lines: the only source that sees
  every request without a proxy in front of Prism. They carry severity, location and
  message, but not the validator's keyword code (the `sl-violations` header has it).
* Log lines are written asynchronously after the response has been sent, so `violations()`
  first sends a marker request and waits until Prism has logged it: log order matches
  request order, hence every earlier request's violations have been read by then.
* Dynamic mode with `--seed` re-seeds per request: the same request yields the same body every
  time, and different seeds yield different bodies. Static mode returns the spec's examples,
  or, where the spec has none (the MEF specs), a deterministic sample built from the schema.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "PrismError",
    "PrismFactory",
    "PrismServer",
    "emitted_specs",
    "prism_executable",
    "spec_server_path",
    "start_prism",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
SYNC_TIMEOUT = 15.0
_MARKER_PREFIX = "/__lso_prism_harness_sync__/"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LISTENING = re.compile(r"Prism is listening on (?P<url>http://\S+)")
# `[HTTP SERVER] post /serviceOrder <badge>  info      Request received`
_RECEIVED = re.compile(r"\[HTTP SERVER\] (?P<method>[a-z]+) (?P<path>\S+) .*Request received\s*$")
# `[VALIDATOR] <badge>  error     Violation: request.query.limit Request query parameter ...`;
# the location may be empty, which leaves two spaces after the colon.
_VIOLATION = re.compile(
    r"\[VALIDATOR\]\s+\S+\s+(?P<level>[a-z]+)\s+Violation: (?P<location>\S*) (?P<message>.*)$"
)
_TERMINATED = re.compile(
    r"\[HTTP SERVER\] (?P<method>[a-z]+) (?P<path>\S+) .*Request terminated with error: "
    r"(?P<error>.*)$"
)


class PrismError(RuntimeError):
    """Prism could not be started or did not answer as expected."""


def prism_executable() -> Path:
    """The Prism CLI installed by `npm ci` from the repository's package-lock.json."""
    return REPO_ROOT / "node_modules" / ".bin" / "prism"


def spec_server_path(spec_path: Path) -> str:
    """Path part of the spec's first `servers` URL, e.g. `/mefApi/allegro/.../v1/`.

    Prism does not serve under this path (see module docstring); it is what a real seller
    exposes, which the SDK's own base-URL handling can be checked against.
    """
    text = spec_path.read_text(encoding="utf-8")
    match = re.search(r"^servers:\s*\n\s*-\s*url:\s*[\"']?(?P<url>[^\"'\s]+)", text, re.MULTILINE)
    if match is None:
        raise PrismError(f"{spec_path} declares no servers URL")
    url = match.group("url")
    # Strip `scheme://{host}`; the host is a template variable in every MEF spec.
    without_scheme = url.split("://", 1)[-1]
    slash = without_scheme.find("/")
    return "/" if slash < 0 else without_scheme[slash:]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrismServer:
    """One `prism mock` process, its captured output and the violations it reported."""

    def __init__(self, spec_path: Path, argv: Sequence[str]) -> None:
        self.spec_path = spec_path
        self.argv = list(argv)
        self.url = ""
        self.startup_seconds = 0.0
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._violations: list[dict[str, Any]] = []
        self._errors: list[dict[str, Any]] = []
        self._current: tuple[str, str] = ("", "")
        self._listening = threading.Event()
        self._seen_markers: set[str] = set()
        self._marker_seen = threading.Condition(self._lock)
        env = dict(os.environ)
        # Plain text output keeps the log lines parseable whatever the caller's terminal.
        env["FORCE_COLOR"] = "0"
        env["NO_COLOR"] = "1"
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._reader = threading.Thread(
            target=self._read_output, name=f"prism-log-{spec_path.name}", daemon=True
        )
        self._reader.start()

    # -- lifecycle -------------------------------------------------------------------------

    def _wait_listening(self, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        while not self._listening.wait(0.05):
            if self._proc.poll() is not None:
                self._reader.join(timeout=5)
                raise PrismError(
                    f"prism exited with code {self._proc.returncode} before listening "
                    f"({' '.join(self.argv)}):\n{self.output()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise PrismError(
                    f"prism did not listen within {timeout:.0f}s ({' '.join(self.argv)}):\n"
                    f"{self.output()}"
                )
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Terminate the process (idempotent)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    # -- addresses -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Base URL a client uses for this spec: Prism serves the spec's paths at its root."""
        return self.url + "/"

    def base_url_for(self, spec_path: Path) -> str:
        """`base_url` for `spec_path`, which must be the spec this server mocks."""
        if spec_path.resolve() != self.spec_path.resolve():
            raise ValueError(f"this Prism server mocks {self.spec_path}, not {spec_path}")
        return self.base_url

    # -- verdicts --------------------------------------------------------------------------

    def violations(self) -> list[dict[str, Any]]:
        """Request violations since start or the last `reset()`, oldest first.

        Each is `{"method", "path", "location", "severity", "message"}`; `location` is Prism's
        dotted location (e.g. `request.query.limit`, `request.body`), `severity` is `error`,
        `warning` or `info`. `method`/`path` come from the request Prism logged last, which is
        exact for sequential requests; concurrent ones may be attributed to a neighbour.
        """
        return [v for v in self.all_violations() if v["location"].startswith("request")]

    def response_violations(self) -> list[dict[str, Any]]:
        """Violations of Prism's own responses against the spec (mock data not matching it)."""
        return [v for v in self.all_violations() if v["location"].startswith("response")]

    def all_violations(self) -> list[dict[str, Any]]:
        self.sync()
        with self._lock:
            return [dict(v) for v in self._violations]

    def request_errors(self) -> list[dict[str, Any]]:
        """Requests Prism refused outright (no route/method matched, not acceptable, ...)."""
        self.sync()
        with self._lock:
            return [dict(e) for e in self._errors]

    def reset(self) -> None:
        """Forget everything reported so far."""
        self.sync()
        with self._lock:
            self._violations.clear()
            self._errors.clear()

    def output(self) -> str:
        """Everything Prism printed so far."""
        with self._lock:
            return "\n".join(self._lines)

    def sync(self, timeout: float = SYNC_TIMEOUT) -> None:
        """Block until Prism's log holds every request answered before this call."""
        if not self.running:
            return
        marker = uuid.uuid4().hex
        # No proxy: the marker must reach this loopback server whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.url + _MARKER_PREFIX + marker, timeout=timeout):
                pass
        except urllib.error.HTTPError:
            pass  # Prism answers the unknown path with 404, as intended.
        except OSError as exc:
            raise PrismError(f"prism at {self.url} did not answer: {exc}") from exc
        deadline = time.monotonic() + timeout
        with self._marker_seen:
            while marker not in self._seen_markers:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.running:
                    raise PrismError(f"prism did not log request {marker} within {timeout}s")
                self._marker_seen.wait(remaining)
            self._seen_markers.discard(marker)

    # -- log parsing -----------------------------------------------------------------------

    def _read_output(self) -> None:
        stream = self._proc.stdout
        if stream is None:
            return
        for raw in stream:
            self._handle_line(_ANSI.sub("", raw.rstrip("\n")))

    def _handle_line(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            if not self._listening.is_set():
                listening = _LISTENING.search(line)
                if listening is not None:
                    self.url = listening.group("url").rstrip("/")
                    self._listening.set()
                return
            received = _RECEIVED.search(line)
            if received is not None:
                path = received.group("path")
                if path.startswith(_MARKER_PREFIX):
                    self._seen_markers.add(path[len(_MARKER_PREFIX) :])
                    self._marker_seen.notify_all()
                    return
                self._current = (received.group("method").upper(), path)
                return
            violation = _VIOLATION.search(line)
            if violation is not None:
                method, path = self._current
                self._violations.append(
                    {
                        "method": method,
                        "path": path,
                        "location": violation.group("location"),
                        "severity": violation.group("level"),
                        "message": violation.group("message"),
                    }
                )
                return
            terminated = _TERMINATED.search(line)
            if terminated is not None and not terminated.group("path").startswith(_MARKER_PREFIX):
                method, path = terminated.group("method").upper(), terminated.group("path")
                error = terminated.group("error")
                self._errors.append({"method": method, "path": path, "error": error})
                if "#VIOLATIONS" in error:
                    self._violations.append(
                        {
                            "method": method,
                            "path": path,
                            "location": "response",
                            "severity": "error",
                            "message": error,
                        }
                    )

    def __enter__(self) -> PrismServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PrismServer({self.spec_path.name!r}, url={self.url!r}, running={self.running})"


class PrismFactory(Protocol):
    def __call__(
        self,
        spec: str | Path,
        *,
        dynamic: bool = False,
        seed: int | None = None,
        fill_properties: bool | None = None,
    ) -> PrismServer:
        """A running Prism for `spec` (relative to the specs dir, or a path), violations reset."""
        ...


def start_prism(
    spec_path: Path,
    *,
    dynamic: bool = False,
    seed: int | None = None,
    errors: bool = True,
    port: int = 0,
    fill_properties: bool | None = None,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> PrismServer:
    """Start `prism mock` for `spec_path` on loopback and wait until it listens.

    `port=0` picks a free port. `fill_properties=False` stops dynamic mode from inventing
    properties the schema does not name (`None` keeps Prism's default).
    """
    executable = prism_executable()
    if not executable.exists():
        raise PrismError(f"{executable} is missing: run `npm ci` (or `make install`) first")
    if not spec_path.is_file():
        raise PrismError(f"spec not found: {spec_path}")
    # A free port can be taken between probing and Prism binding it; retry in that case.
    attempts = 3 if port == 0 else 1
    last: PrismError | None = None
    for _ in range(attempts):
        argv = [
            str(executable),
            "mock",
            str(spec_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port or _free_port()),
        ]
        if errors:
            argv.append("--errors")
        if dynamic:
            argv.append("--dynamic")
        if seed is not None:
            argv += ["--seed", str(seed)]
        if fill_properties is not None:
            argv.append(f"--json-schema-faker-fillProperties={str(fill_properties).lower()}")
        server = PrismServer(spec_path, argv)
        try:
            server._wait_listening(startup_timeout)
        except PrismError as exc:
            server.stop()
            last = exc
            if "EADDRINUSE" in server.output():
                continue
            raise
        return server
    assert last is not None
    raise last


def emitted_specs(specs_dir: Path, temp_root: Path) -> Path:
    """Every patched, bundled API definition as `<dir>/<module>.yaml`, as Prism serves them.

    These are the documents `python -m codegen --emit-specs` writes: the upstream specs with
    the project's patches and spelt-out discriminator mappings, so Prism only invents `@type`
    values the models accept. They are written once under `temp_root` (the session's base
    temporary directory), whichever test module asks first.
    """
    from codegen.__main__ import emit_specs  # type: ignore[import-untyped]
    from codegen._spec import SpecSource  # type: ignore[import-untyped]

    target = temp_root / "patched-specs"
    done = target / ".complete"
    if not done.exists():
        emit_specs(SpecSource(str(specs_dir)), target)
        done.touch()
    return target
