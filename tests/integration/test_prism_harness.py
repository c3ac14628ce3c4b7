"""The Prism harness itself, driven with plain httpx: routing, violations, mock modes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _prism import PrismError, PrismFactory, PrismServer, spec_server_path, start_prism

ALLEGRO_ORDERING = "allegro/serviceApi/order/serviceOrderingManagement.api.yaml"
LEGATO_ORDERING = "legato/serviceApi/order/serviceOrderingManagement.api.yaml"
ORDERING_SPECS = [ALLEGRO_ORDERING, LEGATO_ORDERING]
MEF_JSON = "application/json;charset=utf-8"

VALID_ORDER: dict[str, Any] = {
    "requestedCompletionDate": "2030-01-02T00:00:00Z",
    "requestedStartDate": "2030-01-01T00:00:00Z",
    "serviceOrderItem": [{"id": "1", "action": "add", "service": {}}],
}


def client_for(server: PrismServer) -> httpx.Client:
    # trust_env=False: loopback traffic must never be routed through an ambient proxy.
    return httpx.Client(base_url=server.base_url, trust_env=False, timeout=30)


@pytest.fixture
def http() -> Iterator[list[httpx.Client]]:
    clients: list[httpx.Client] = []
    yield clients
    for client in clients:
        client.close()


def connect(server: PrismServer, http: list[httpx.Client]) -> httpx.Client:
    client = client_for(server)
    http.append(client)
    return client


@pytest.mark.parametrize("spec", ORDERING_SPECS)
def test_valid_list_request_gets_200_and_no_violation(
    prism_factory: PrismFactory, http: list[httpx.Client], spec: str
) -> None:
    server = prism_factory(spec)
    response = connect(server, http).get("serviceOrder", params={"state": "completed"})

    assert response.status_code == 200
    assert response.headers["content-type"] == MEF_JSON
    assert isinstance(response.json(), list)
    assert server.violations() == []
    assert server.response_violations() == []
    assert server.request_errors() == []


@pytest.mark.parametrize("spec", ORDERING_SPECS)
def test_spec_paths_are_served_at_root_not_under_server_base_path(
    prism_factory: PrismFactory, specs_dir: Path, http: list[httpx.Client], spec: str
) -> None:
    server = prism_factory(spec)
    base_path = spec_server_path(specs_dir / spec)
    assert base_path.startswith("/mefApi/")
    assert server.base_url_for(specs_dir / spec) == server.url + "/"

    response = connect(server, http).get(base_path.lstrip("/") + "serviceOrder")

    assert response.status_code == 404
    errors = server.request_errors()
    assert [e["path"] for e in errors] == [base_path + "serviceOrder"]
    assert "NO_PATH_MATCHED" in errors[0]["error"]


@pytest.mark.parametrize("content_type", [MEF_JSON, "application/json"])
def test_valid_create_is_accepted_with_either_json_content_type(
    prism_factory: PrismFactory, http: list[httpx.Client], content_type: str
) -> None:
    server = prism_factory(ALLEGRO_ORDERING)
    response = connect(server, http).post(
        "serviceOrder", content=json.dumps(VALID_ORDER), headers={"content-type": content_type}
    )

    assert response.status_code == 201, server.violations()
    assert response.headers["content-type"] == MEF_JSON
    assert server.violations() == []


@pytest.mark.parametrize("spec", ORDERING_SPECS)
def test_empty_create_body_is_reported(
    prism_factory: PrismFactory, http: list[httpx.Client], spec: str
) -> None:
    server = prism_factory(spec)
    response = connect(server, http).post(
        "serviceOrder", content=b"{}", headers={"content-type": MEF_JSON}
    )

    # Prism still answers an invalid request, with the spec's 422 response.
    assert response.status_code == 422
    violations = server.violations()
    assert {v["location"] for v in violations} == {"request.body"}
    assert {v["method"] for v in violations} == {"POST"}
    assert {v["path"] for v in violations} == {"/serviceOrder"}
    assert all(v["severity"] == "error" for v in violations)
    missing = " ".join(v["message"] for v in violations)
    for required in ("requestedCompletionDate", "requestedStartDate", "serviceOrderItem"):
        assert f"'{required}'" in missing
    # Prism's header view of the same verdict agrees with what the harness parsed.
    header = json.loads(response.headers["sl-violations"])
    assert len(header) == len(violations)
    assert all(entry["location"] == ["request", "body"] for entry in header)


def test_bad_query_parameter_type_is_reported(
    prism_factory: PrismFactory, http: list[httpx.Client]
) -> None:
    server = prism_factory(ALLEGRO_ORDERING)
    response = connect(server, http).get("serviceOrder", params={"limit": "ten"})

    assert response.status_code == 422
    assert server.violations() == [
        {
            "method": "GET",
            "path": "/serviceOrder",
            "location": "request.query.limit",
            "severity": "error",
            "message": "Request query parameter limit must be integer",
        }
    ]


def test_unsupported_content_type_is_reported(
    prism_factory: PrismFactory, http: list[httpx.Client]
) -> None:
    server = prism_factory(ALLEGRO_ORDERING)
    connect(server, http).post(
        "serviceOrder", content=json.dumps(VALID_ORDER), headers={"content-type": "text/plain"}
    )

    violations = server.violations()
    assert len(violations) == 1
    assert violations[0]["location"] == "request"
    assert MEF_JSON in violations[0]["message"]


def test_reset_forgets_earlier_violations_and_cached_servers_start_clean(
    prism_factory: PrismFactory, http: list[httpx.Client]
) -> None:
    server = prism_factory(ALLEGRO_ORDERING)
    client = connect(server, http)
    client.get("serviceOrder", params={"offset": "x"})
    assert len(server.violations()) == 1

    server.reset()
    assert server.violations() == []

    client.get("serviceOrder", params={"offset": "x"})
    again = prism_factory(ALLEGRO_ORDERING)
    assert again is server
    assert again.violations() == []


def test_dynamic_mode_bodies_depend_on_the_seed_and_stay_valid(
    prism_factory: PrismFactory, http: list[httpx.Client]
) -> None:
    bodies: dict[int, list[Any]] = {}
    for seed in (1, 2):
        server = prism_factory(ALLEGRO_ORDERING, dynamic=True, seed=seed)
        client = connect(server, http)
        first = client.get("serviceOrder")
        second = client.get("serviceOrder")
        assert first.status_code == second.status_code == 200
        # Prism re-seeds per request: a seeded server answers identically every time.
        assert first.json() == second.json()
        assert server.violations() == []
        assert server.response_violations() == []
        bodies[seed] = first.json()

    assert bodies[1] != bodies[2]


def test_static_mode_is_deterministic_and_valid_without_examples(
    prism_factory: PrismFactory, http: list[httpx.Client]
) -> None:
    server = prism_factory(LEGATO_ORDERING)
    client = connect(server, http)
    first = client.get("serviceOrder/abc")
    second = client.get("serviceOrder/def")

    assert first.status_code == 200
    assert first.json() == second.json()
    assert {"id", "serviceOrderItem", "state"} <= first.json().keys()
    assert server.response_violations() == []


def _mini_spec(path: Path, example: dict[str, Any]) -> Path:
    # JSON is valid YAML, so the spec can be written without a YAML dependency.
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "harness", "version": "1"},
        "servers": [{"url": "https://{serverBase}/mefApi/test/v1/"}],
        "paths": {
            "/thing/{id}": {
                "get": {
                    "operationId": "getThing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                MEF_JSON: {
                                    "schema": {
                                        "type": "object",
                                        "required": ["id", "count"],
                                        "properties": {
                                            "id": {"type": "string"},
                                            "count": {"type": "integer"},
                                        },
                                    },
                                    "example": example,
                                }
                            },
                        }
                    },
                }
            }
        },
    }
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_static_mode_returns_the_spec_example(
    prism_factory: PrismFactory, http: list[httpx.Client], tmp_path: Path
) -> None:
    example = {"id": "thing-42", "count": 7}
    server = prism_factory(_mini_spec(tmp_path / "example.api.yaml", example))

    response = connect(server, http).get("thing/42")

    assert response.status_code == 200
    assert response.json() == example
    assert server.violations() == []
    assert server.response_violations() == []


def test_example_violating_its_schema_is_a_500_and_a_response_violation_with_errors(
    prism_factory: PrismFactory, http: list[httpx.Client], tmp_path: Path
) -> None:
    server = prism_factory(_mini_spec(tmp_path / "bad.api.yaml", {"id": "thing-42"}))

    response = connect(server, http).get("thing/42")

    # --errors turns a response that breaks the spec into a 500 problem+json.
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert server.violations() == []
    [violation] = server.response_violations()
    assert violation["location"] == "response"
    assert "#VIOLATIONS" in violation["message"]
    [detail] = response.json()["validation"]
    assert detail["location"] == ["response", "body"]
    assert "'count'" in detail["message"]


def test_example_violating_its_schema_is_detailed_without_errors(tmp_path: Path) -> None:
    spec = _mini_spec(tmp_path / "bad.api.yaml", {"id": "thing-42"})
    with start_prism(spec, errors=False) as server, client_for(server) as client:
        response = client.get("thing/42")

        assert response.status_code == 200
        assert response.json() == {"id": "thing-42"}
        assert server.violations() == []
        [violation] = server.response_violations()
        assert violation["location"] == "response.body"
        assert "'count'" in violation["message"]


def test_start_failure_reports_prism_output(tmp_path: Path) -> None:
    broken = tmp_path / "empty.api.yaml"
    broken.write_text('{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {}}')

    with pytest.raises(PrismError, match="exited with code") as excinfo:
        start_prism(broken, startup_timeout=60)
    assert "No operations found" in str(excinfo.value)
