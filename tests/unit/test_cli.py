"""The `lso` command line, run in-process (typer's CliRunner) against the mock seller and,
for the answers it cannot give, the faulty seller; both over loopback."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _faulty import FaultySeller, Reply, Request
from _job_bodies import fm_job_body, pm_job_body, pm_profile_body
from typer.testing import CliRunner

from lso_client import AllegroClient
from lso_client.cli._app import app
from lso_client.cli._errors import (
    EXIT_API_ERROR,
    EXIT_AUTH,
    EXIT_NOT_FOUND,
    EXIT_TIMEOUT,
    EXIT_USAGE,
)
from lso_client.cli._registry import families, family_name
from lso_client.testing import MockSeller, example_service_order

Run = Callable[..., Any]


@pytest.fixture
def lso(mock_seller: MockSeller, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `lso ARGS` against the mock seller (through LSO_BASE_URL); returns the result."""
    monkeypatch.delenv("LSO_TOKEN", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        environment = {"LSO_BASE_URL": mock_seller.url, **(env or {})}
        return runner.invoke(app, list(args), input=input, env=environment)

    return run


def _body_file(tmp_path: Path, body: Any, name: str = "body.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def _error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lso: error: ")
    return str(lines[0])


# --------------------------------------------------------------------------- names


def test_family_names_follow_one_rule() -> None:
    assert family_name("service_orders") == "orders"
    assert family_name("services") == "services"
    assert family_name("service_specifications") == "specifications"
    assert family_name("performance_jobs") == "pm-jobs"
    assert family_name("cancel_fault_management_jobs") == "cancel-fm-jobs"
    assert family_name("service_ordering_hub") == "ordering-hub"
    assert family_name("performance_jobs", "2") == "pm-jobs-v2"
    allegro = families("allegro")
    assert set(allegro["orders"].verbs) == {"list", "get", "create", "wait"}
    assert {"cancel", "suspend", "resume", "wait"} <= set(allegro["pm-jobs"].verbs)
    assert {"update", "delete"} <= set(allegro["pm-profiles"].verbs)
    assert "pm-jobs-v2" in families("legato") and "pm-jobs-v2" not in allegro
    assert "specifications" in families("legato")


def test_help_lists_reference_points_families_and_verbs(lso: Run) -> None:
    assert {"allegro", "interlude", "legato", "listen", "mock-seller"} <= set(
        lso("--help").stdout.split()
    )
    assert "pm-jobs" in lso("allegro", "--help").stdout
    verbs = lso("allegro", "pm-jobs", "--help").stdout
    assert all(verb in verbs for verb in ("list", "get", "create", "cancel", "wait"))


# --------------------------------------------------------------------------- verbs


def test_create_get_and_list_in_every_format(lso: Run, tmp_path: Path) -> None:
    body = _body_file(tmp_path, example_service_order())
    created = lso("allegro", "orders", "create", "-f", body)
    assert created.exit_code == 0, created.stderr
    order = json.loads(created.stdout)
    from_stdin = lso(
        "allegro", "orders", "create", "-f", "-", "-o", "jsonl", input=Path(body).read_text()
    )
    assert from_stdin.exit_code == 0
    second = json.loads(from_stdin.stdout)

    got = lso("allegro", "orders", "get", order["id"])
    assert got.exit_code == 0 and json.loads(got.stdout)["id"] == order["id"]

    listed = lso("allegro", "orders", "list", "-o", "json")
    assert {o["id"] for o in json.loads(listed.stdout)} == {order["id"], second["id"]}
    lines = lso("allegro", "orders", "list", "-o", "jsonl", "--max-items", "1").stdout
    assert len(lines.splitlines()) == 1
    rows = list(csv.DictReader(io.StringIO(lso("allegro", "orders", "list", "-o", "csv").stdout)))
    assert {r["id"] for r in rows} == {order["id"], second["id"]}
    assert rows[0]["serviceOrderItem.0.action"] == "add"  # nested fields flattened
    table = lso("allegro", "orders", "list").stdout
    assert "state" in table and "2 items" in table
    one = lso("allegro", "orders", "get", order["id"], "-o", "table").stdout
    assert "externalId" in one


def test_list_filters_are_options(lso: Run, tmp_path: Path) -> None:
    lso("allegro", "orders", "create", "-f", _body_file(tmp_path, example_service_order()))
    failing = example_service_order(external_id="mock:failed")
    failed = json.loads(
        lso("allegro", "orders", "create", "-f", _body_file(tmp_path, failing)).stdout
    )
    done = lso("allegro", "orders", "wait", failed["id"], "--poll-interval", "0.01")
    assert done.exit_code == EXIT_TIMEOUT  # ended `failed`: not a success
    assert "ended failed" in _error_line(done)
    listed = lso("allegro", "orders", "list", "--state", "failed", "-o", "json")
    assert [o["id"] for o in json.loads(listed.stdout)] == [failed["id"]]


def test_create_and_wait(lso: Run, tmp_path: Path) -> None:
    body = _body_file(tmp_path, example_service_order())
    result = lso("allegro", "orders", "create", "-f", body, "--wait", "--poll-interval", "0.01")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "completed"


def test_update_and_delete(lso: Run, tmp_path: Path) -> None:
    profile = json.loads(
        lso(
            "allegro", "pm-profiles", "create", "-f", _body_file(tmp_path, pm_profile_body())
        ).stdout
    )
    patch = _body_file(tmp_path, {"description": "changed"}, "patch.json")
    updated = lso("allegro", "pm-profiles", "update", profile["id"], "-f", patch)
    assert updated.exit_code == 0 and json.loads(updated.stdout)["description"] == "changed"
    again = lso("allegro", "pm-profiles", "patch", profile["id"], "-f", patch)
    assert again.exit_code == 0
    deleted = lso("allegro", "pm-profiles", "delete", profile["id"])
    assert deleted.exit_code == 0 and deleted.stdout == ""
    assert lso("allegro", "pm-profiles", "get", profile["id"]).exit_code == EXIT_NOT_FOUND


def test_cancel_by_id_and_wait_for_the_cancel_request(
    lso: Run, mock_seller: MockSeller, tmp_path: Path
) -> None:
    mock_seller.api("performance_monitoring", "allegro").max_periods = 1000  # runs on
    job = json.loads(
        lso(
            "allegro", "pm-jobs", "create", "-f", _body_file(tmp_path, pm_job_body(later=True))
        ).stdout
    )
    cancel = lso("allegro", "pm-jobs", "cancel", job["id"])
    assert cancel.exit_code == 0, cancel.stderr
    request = json.loads(cancel.stdout)
    assert request["performanceJob"]["performanceJobId"] == job["id"]
    waited = lso("allegro", "cancel-pm-jobs", "wait", request["id"], "--poll-interval", "0.01")
    assert waited.exit_code == 0 and json.loads(waited.stdout)["state"] == "completed"
    done = lso("allegro", "pm-jobs", "wait", job["id"], "--poll-interval", "0.01")
    assert json.loads(done.stdout)["state"] == "cancelled"
    assert done.exit_code == EXIT_TIMEOUT  # a cancelled job is not a success


def test_suspend_and_resume_by_path_id(lso: Run, mock_seller: MockSeller) -> None:
    mock_seller.api("performance_monitoring", "allegro").max_periods = 1000  # runs on
    mock_seller.step_delay = 0.2  # and slowly: still running when suspended
    with AllegroClient(mock_seller.url) as client:
        job = client.performance_jobs.create(pm_job_body(later=True))
        client.performance_jobs.wait(job.id, until=["inProgress"], timeout=30, poll_interval=0.01)
        suspended = lso("allegro", "pm-jobs", "suspend", job.id)
        assert suspended.exit_code == 0, suspended.stderr
        assert client.performance_jobs.retrieve(job.id).state == "suspended"
        assert lso("allegro", "pm-jobs", "resume", job.id).exit_code == 0
        assert client.performance_jobs.retrieve(job.id).state != "suspended"


def test_report_measurements_as_csv(lso: Run, mock_seller: MockSeller, tmp_path: Path) -> None:
    with AllegroClient(mock_seller.url) as client:
        pm_job = client.performance_jobs.create(pm_job_body(periods=1))
        fm_job = client.fault_management_jobs.create(fm_job_body())
    for family, job in (("pm-reports", pm_job), ("fm-reports", fm_job)):
        ready = lso(
            "allegro", family, "wait-for-job", job.id, "--poll-interval", "0.01", "-o", "json"
        )
        assert ready.exit_code == 0, ready.stderr
        report = json.loads(ready.stdout)[0]
        exported = lso("allegro", family, "get", report["id"], "-o", "csv")
        assert exported.exit_code == 0, exported.stderr
        rows = list(csv.DictReader(io.StringIO(exported.stdout)))
        assert rows, family
        assert all(r["reportId"] == report["id"] for r in rows)
        assert all(r["measurementTime.measurementStartDate"] for r in rows)
        assert "@type" in rows[0]  # the measurement's own fields follow


# --------------------------------------------------------------------------- errors


def test_not_found_is_one_line_and_exit_3(lso: Run) -> None:
    result = lso("allegro", "orders", "get", "no-such-order")
    assert result.exit_code == EXIT_NOT_FOUND
    assert "No service order with id no-such-order" in _error_line(result)
    detailed = lso("-v", "allegro", "orders", "get", "no-such-order")
    assert detailed.exit_code == EXIT_NOT_FOUND
    assert "status: 404" in detailed.stderr and "Traceback" in detailed.stderr


def test_an_api_error_is_exit_1(lso: Run) -> None:
    result = lso("allegro", "orders", "list", "--state", "nonsense")
    assert result.exit_code == EXIT_API_ERROR
    assert "400" in _error_line(result)


def test_usage_errors_are_exit_2(lso: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = lso("allegro", "orders", "create", "-f", str(bad))
    assert result.exit_code == EXIT_USAGE and "not JSON" in _error_line(result)
    assert lso("allegro", "orders", "create").exit_code == EXIT_USAGE  # no body
    assert lso("allegro", "orders", "list", "--no-such-option").exit_code == EXIT_USAGE
    refused = lso("allegro", "orders", "create", "-f", _body_file(tmp_path, {"x": 1}))
    assert refused.exit_code == EXIT_USAGE  # the spec refuses it: nothing is sent
    both = lso("--profile", "p", "--base-url", "http://127.0.0.1:9", "allegro", "orders", "list")
    assert both.exit_code == EXIT_USAGE
    runner = CliRunner()
    monkeypatch.delenv("LSO_BASE_URL", raising=False)
    nowhere = runner.invoke(app, ["allegro", "orders", "list"])
    assert nowhere.exit_code == EXIT_USAGE and "--base-url" in _error_line(nowhere)


def test_a_wait_that_times_out_is_exit_5(lso: Run, tmp_path: Path) -> None:
    held = example_service_order(external_id="mock:held")
    order = json.loads(lso("allegro", "orders", "create", "-f", _body_file(tmp_path, held)).stdout)
    result = lso(
        "allegro", "orders", "wait", order["id"], "--timeout", "0.05", "--poll-interval", "0.01"
    )
    assert result.exit_code == EXIT_TIMEOUT
    assert "after 0.05 s" in _error_line(result)


def _unauthorised(request: Request) -> Reply:
    return Reply.json({"code": "missingCredentials", "reason": "bad token"}, status=401)


@pytest.mark.parametrize("verbose", [False, True])
def test_auth_errors_are_exit_4_and_never_print_the_token(
    faulty_seller: Callable[..., FaultySeller], verbose: bool
) -> None:
    seller = faulty_seller(_unauthorised)
    args = ["--base-url", seller.url, "--token", "s3cr3t-t0ken", "allegro", "orders", "list"]
    result = CliRunner().invoke(app, (["-v"] if verbose else []) + args)
    assert result.exit_code == EXIT_AUTH
    assert "401" in result.stderr
    assert "s3cr3t-t0ken" not in result.output
    assert seller.requests[0].headers["authorization"] == "Bearer s3cr3t-t0ken"
    from_env = CliRunner().invoke(
        app, ["--base-url", seller.url, "allegro", "orders", "list"], env={"LSO_TOKEN": "env-t0ken"}
    )
    assert from_env.exit_code == EXIT_AUTH and "env-t0ken" not in from_env.output
    assert seller.requests[-1].headers["authorization"] == "Bearer env-t0ken"


def test_hub_register_get_unregister_and_complex_query(lso: Run, tmp_path: Path) -> None:
    hub = _body_file(tmp_path, {"callback": "http://127.0.0.1:9/hooks"}, "hub.json")
    registered = lso("allegro", "ordering-hub", "register", "-f", hub)
    assert registered.exit_code == 0, registered.stderr
    hub_id = json.loads(registered.stdout)["id"]
    got = lso("allegro", "ordering-hub", "get", hub_id)
    assert json.loads(got.stdout)["callback"] == "http://127.0.0.1:9/hooks"
    gone = lso("allegro", "ordering-hub", "unregister", hub_id)
    assert gone.exit_code == 0 and gone.stdout == ""
    assert lso("allegro", "ordering-hub", "get", hub_id).exit_code == EXIT_NOT_FOUND

    job = json.loads(
        lso("allegro", "pm-jobs", "create", "-f", _body_file(tmp_path, pm_job_body())).stdout
    )
    query = _body_file(tmp_path, {"monitoredObject": {"@type": "ServiceRef", "serviceId": "evc-1"}})
    found = lso("allegro", "pm-jobs", "complex-query", "-f", query, "-o", "jsonl")
    assert found.exit_code == 0, found.stderr
    assert job["id"] in [json.loads(line)["id"] for line in found.stdout.splitlines()]


def _orders_seen(request: Request) -> Reply:
    return Reply.json([], headers={"X-Total-Count": "0"})


def test_profile_names_the_seller_and_its_token(
    faulty_seller: Callable[..., FaultySeller], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = faulty_seller(_orders_seen)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.acme]\nbase_url = "{seller.url}"\ntoken_env = "ACME_TOKEN"\n',
        encoding="utf-8",
    )
    for name in [k for k in os.environ if k.startswith("LSO_")]:
        monkeypatch.delenv(name)
    env = {"LSO_CONFIG": str(config), "ACME_TOKEN": "pr0file-t0ken"}
    runner = CliRunner()
    listed = runner.invoke(
        app, ["--profile", "acme", "allegro", "orders", "list", "-o", "json"], env=env
    )
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert seller.requests[-1].headers["authorization"] == "Bearer pr0file-t0ken"
    assert seller.requests[-1].path.startswith("/mefApi/allegro/serviceOrderingManagement/v1/")

    unknown = runner.invoke(app, ["--profile", "nope", "allegro", "orders", "list"], env=env)
    assert unknown.exit_code == EXIT_USAGE
    assert "nope" in _error_line(unknown)
    assert "pr0file-t0ken" not in unknown.output + listed.output


# --------------------------------------------------------------------------- hostile data

_HOSTILE = [
    {"id": "[/x]", "state": "completed"},
    {"id": "ord-[red]1[/red]", "state": "completed", "externalId": "\x1b]0;pwned\x07\x1b[2J"},
]


def _hostile_orders(request: Request) -> Reply:
    if request.path.rstrip("/").endswith("serviceOrder"):
        return Reply.json(_HOSTILE, headers={"X-Total-Count": str(len(_HOSTILE))})
    return Reply.json({**_HOSTILE[1], "[b]note": "[/x]"})


def test_tables_show_the_sellers_values_as_plain_text(
    faulty_seller: Callable[..., FaultySeller],
) -> None:
    seller = faulty_seller(_hostile_orders)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    base = ["--base-url", seller.url, "allegro", "orders"]
    for args in (["list"], ["get", "ord-1", "-o", "table"]):
        result = runner.invoke(app, base + args, env=env)
        assert result.exit_code == 0, result.stderr
        shown = result.stdout
        assert "ord-[red]1[/red]" in shown  # markup is text, not styling
        assert "\x1b" not in shown and "\x07" not in shown  # nothing a terminal acts on
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in shown  # but visible, escaped
    listed = runner.invoke(app, [*base, "list"], env=env).stdout
    assert "[/x]" in listed  # a closing tag that opens nothing is no error either
    one = runner.invoke(app, [*base, "get", "ord-1", "-o", "table"], env=env).stdout
    assert "[b]note" in one and "[/x]" in one


def test_numbers_out_of_range_and_an_unusable_out_file_are_usage_errors(
    lso: Run, tmp_path: Path
) -> None:
    negative = lso("allegro", "orders", "list", "--max-items", "-1", "-o", "jsonl")
    assert negative.exit_code == EXIT_USAGE and "--max-items" in _error_line(negative)
    zero = lso("allegro", "orders", "list", "--limit", "0", "-o", "jsonl")
    assert zero.exit_code == EXIT_USAGE and "--limit" in _error_line(zero)
    none = lso("allegro", "pm-reports", "wait-for-job", "job-1", "--count", "0")
    assert none.exit_code == EXIT_USAGE and "--count" in _error_line(none)
    nowhere = tmp_path / "no-such-dir" / "events.jsonl"
    listen = lso("listen", "--out", str(nowhere))
    assert listen.exit_code == EXIT_USAGE and str(nowhere) in _error_line(listen)
