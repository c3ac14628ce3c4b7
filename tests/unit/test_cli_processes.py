"""`lso` as a real process: in a pseudo-terminal (rich tables and progress, Ctrl-C),
`lso mock-seller` and `lso listen` started and stopped by pid, over loopback."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from _faulty import FaultySeller, Reply, Request
from _job_bodies import pm_job_body

from lso_client import AllegroClient
from lso_client.cli._errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_PIPE, EXIT_TIMEOUT
from lso_client.testing import MockSeller, example_service_order

ROOT = Path(__file__).resolve().parents[2]
# Bounds a test that would otherwise hang; never an assertion about speed.
PATIENCE = 60.0


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from lso_client.cli import main; main()", *args]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


class Terminal:
    """A process whose stdin, stdout and stderr are one pseudo-terminal, 120 columns."""

    def __init__(
        self, args: list[str], env: dict[str, str], stdout: IO[bytes] | None = None
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=stdout or slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.output = b""

    def read_until(self, marker: bytes) -> bytes:
        """Read until `marker` has appeared or the process has ended."""
        deadline = time.monotonic() + PATIENCE
        while marker not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the process ended and closed its side
                    break
                if not chunk:
                    break
                self.output += chunk
        return self.output

    def finish(self) -> int:
        self.read_until(b"\x00never")  # everything until the end
        code = self.process.wait(timeout=PATIENCE)
        os.close(self.master)
        return code


@pytest.fixture
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.01) as started:
        yield started


def test_a_listing_in_a_terminal_draws_a_table_and_progress(seller: MockSeller) -> None:
    with AllegroClient(seller.url) as client:
        for number in range(3):
            client.service_orders.create(example_service_order(external_id=f"BUY-{number}"))
    terminal = Terminal(
        _command("allegro", "orders", "list", "--limit", "1"), _env(LSO_BASE_URL=seller.url)
    )
    assert terminal.finish() == EXIT_OK
    text = terminal.output.decode()
    assert "listing orders" in text  # the progress, drawn on the terminal's stderr
    assert "┏" in text and "3 items" in text  # a rich table, boxes and all
    assert "\x1b[" in text  # styled: rich saw a terminal


def test_output_piped_from_a_terminal_session_stays_whole(
    seller: MockSeller, tmp_path: Path
) -> None:
    with AllegroClient(seller.url) as client:
        for number in range(5):
            client.service_orders.create(example_service_order(external_id=f"BUY-{number}"))
    piped = tmp_path / "orders.jsonl"
    with piped.open("wb") as out:
        terminal = Terminal(
            _command("allegro", "orders", "list", "--limit", "2", "-o", "jsonl"),
            _env(LSO_BASE_URL=seller.url),
            stdout=out,
        )
        assert terminal.finish() == EXIT_OK
    assert "listing orders" in terminal.output.decode()  # progress on the terminal
    lines = piped.read_text().splitlines()
    assert sorted(json.loads(line)["externalId"] for line in lines) == [
        f"BUY-{n}" for n in range(5)
    ]


def test_ctrl_c_during_a_wait_cancels_the_job_and_exits_130(seller: MockSeller) -> None:
    seller.api("performance_monitoring", "allegro").max_periods = 1000  # the job runs on
    seller.step_delay = 0.5  # and slowly: it is still running when Ctrl-C comes
    with AllegroClient(seller.url) as client:
        job = client.performance_jobs.create(pm_job_body(later=True))
        terminal = Terminal(
            _command(
                "allegro",
                "pm-jobs",
                "wait",
                job.id,
                "--cancel-on-interrupt",
                "--poll-interval",
                "0.05",
            ),
            _env(LSO_BASE_URL=seller.url),
        )
        terminal.read_until(b"(poll ")  # inside the wait: it has polled
        terminal.process.send_signal(signal.SIGINT)
        assert terminal.finish() == EXIT_INTERRUPTED
        text = terminal.output.decode()
        assert "lso: interrupted" in text
        assert "request" in text and "sent to the seller" in text
        cancels = [
            c
            for c in client.cancel_performance_jobs.list()
            if c.performance_job.performance_job_id == job.id
        ]
        assert len(cancels) == 1


def _first_line(stream: IO[bytes]) -> str:
    line = stream.readline().decode().strip()
    assert line, "the process ended without a word"
    return line


def _stop(process: subprocess.Popen[bytes], signum: int) -> int:
    process.send_signal(signum)
    return process.wait(timeout=PATIENCE)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_mock_seller_serves_until_stopped_by_pid(signum: int) -> None:
    process = subprocess.Popen(
        _command("mock-seller", "--step-delay", "0.01"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        url = _first_line(process.stdout)
        assert url.startswith("http://127.0.0.1:")
        with AllegroClient(url) as client:
            order = client.service_orders.create_and_wait(
                example_service_order(), wait_timeout=30, poll_interval=0.01
            )
        assert order.state == "completed"
    finally:
        code = _stop(process, signum)
    assert code == EXIT_OK
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def _order_event(url: str, n: str) -> tuple[str, dict[str, Any]]:
    """Where a listener at `url` takes service order state changes, and the n-th one."""
    target = (
        f"{url}/mefApi/allegro/serviceOrderingNotification/v1/listener/serviceOrderStateChangeEvent"
    )
    return target, {
        "eventId": f"ev-{n}",
        "eventTime": "2026-03-01T10:15:30.123Z",
        "eventType": "serviceOrderStateChangeEvent",
        "event": {"id": f"so-{n}", "href": f"/serviceOrder/so-{n}", "state": "completed"},
    }


def test_listen_prints_and_appends_each_event(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        _command("listen", "--port", "0", "--token", "hook-t0ken", "--out", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert process.stderr is not None and process.stdout is not None
        announced = _first_line(process.stderr)
        assert "hook-t0ken" not in announced
        url = announced.split("listening at ", 1)[1].split(";", 1)[0]
        target, event = _order_event(url, "1")
        refused = httpx.post(target, json=event, headers={"authorization": "Bearer wrong"})
        assert refused.status_code == 401
        sent = httpx.post(target, json=event, headers={"authorization": "Bearer hook-t0ken"})
        assert sent.status_code == 204
        printed = json.loads(_first_line(process.stdout))
    finally:
        code = _stop(process, signal.SIGINT)
    assert code == EXIT_OK
    assert printed["eventId"] == "ev-1" and printed["event"]["state"] == "completed"
    assert [json.loads(line) for line in out.read_text().splitlines()] == [printed]


def test_without_the_cli_extra_lso_says_what_to_install(tmp_path: Path) -> None:
    # A `typer` that cannot be imported stands for the extra not being installed.
    (tmp_path / "typer.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'typer'\", name='typer')\n"
    )
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    done = subprocess.run(
        _command("--help"), env=env, capture_output=True, text=True, timeout=PATIENCE
    )
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("lso: error: ") and "\n" not in line
    assert "pip install 'lso-client[cli]'" in line


def _order_in_a_hostile_state(request: Request) -> Reply:
    return Reply.json({"id": "[/y]", "state": "[/x]\x1b[2J"})


def test_a_waits_spinner_shows_states_and_ids_as_plain_text(
    faulty_seller: Callable[..., FaultySeller],
) -> None:
    seller = faulty_seller(_order_in_a_hostile_state)
    terminal = Terminal(
        _command(
            "--base-url",
            seller.url,
            "allegro",
            "orders",
            "wait",
            "[/y]",
            "--timeout",
            "1",
            "--poll-interval",
            "0.1",
            "-o",
            "jsonl",
        ),
        _env(),
    )
    code = terminal.finish()
    text = terminal.output.decode(errors="replace")
    assert "Traceback" not in text and "MarkupError" not in text
    assert code == EXIT_TIMEOUT  # the state is no final one: the wait runs out
    assert "waiting for orders [/y]: [/x]\\x1b[2J (poll" in text
    assert "\x1b[2J" not in text


def _orders(count: int) -> Callable[[Request], Reply]:
    items = [{"id": f"o{n}", "state": "completed", "externalId": "x" * 40} for n in range(count)]

    def answer(request: Request) -> Reply:
        return Reply.json(items, headers={"X-Total-Count": str(count)})

    return answer


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_a_reader_that_goes_away_ends_the_listing_quietly(
    faulty_seller: Callable[..., FaultySeller], fmt: str
) -> None:
    seller = faulty_seller(_orders(50))
    process = subprocess.Popen(
        _command("--base-url", seller.url, "allegro", "orders", "list", "-o", fmt),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before a byte is written (`| head -c 0`)
    errors = process.stderr.read().decode()
    assert process.wait(timeout=PATIENCE) == EXIT_PIPE
    assert [line for line in errors.splitlines() if "warning" not in line] == []


@pytest.mark.parametrize("fmt", ["csv", "table", "jsonl"])
def test_output_survives_a_stdout_that_is_not_utf8(
    faulty_seller: Callable[..., FaultySeller], fmt: str
) -> None:
    seller = faulty_seller(
        lambda request: Reply.json(
            [{"id": "x\U0001f600", "state": "completed"}], headers={"X-Total-Count": "1"}
        )
    )
    done = subprocess.run(
        _command("--base-url", seller.url, "allegro", "orders", "list", "-o", fmt),
        env=_env(PYTHONIOENCODING="latin-1"),
        capture_output=True,
        timeout=PATIENCE,
    )
    assert done.returncode == EXIT_OK, done.stderr.decode()
    out = done.stdout.decode("latin-1")
    # What latin-1 cannot hold is written escaped (JSON escapes it itself).
    assert ("x\\ud83d\\ude00" if fmt == "jsonl" else "x\\U0001f600") in out


def test_listen_ends_with_141_when_its_reader_goes_and_keeps_the_event_in_out(
    tmp_path: Path,
) -> None:
    out = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        _command("listen", "--port", "0", "--out", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert process.stderr is not None and process.stdout is not None
        url = _first_line(process.stderr).split("listening at ", 1)[1].split(";", 1)[0]
        process.stdout.close()  # `lso listen | head -0`: the reader has gone
        target, event = _order_event(url, "2")
        assert httpx.post(target, json=event).status_code == 204
        code = process.wait(timeout=PATIENCE)
    finally:
        if process.poll() is None:
            _stop(process, signal.SIGKILL)
    assert code == EXIT_PIPE
    assert process.stderr.read() == b""  # quiet: no traceback, no line
    assert [json.loads(line)["eventId"] for line in out.read_text().splitlines()] == ["ev-2"]
