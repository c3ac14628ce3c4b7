"""The operation index: complete, and each listed method does what the record says."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import respx
import yaml

import lso_client
from codegen._spec import DEFAULT_SOURCE, REPO_ROOT, SpecSource, load_manifest
from codegen.patches import load_patched
from lso_client import AllegroClient, InterludeClient, LegatoClient, OperationRecord

CLIENTS = {"allegro": AllegroClient, "interlude": InterludeClient, "legato": LegatoClient}
SELLER = "https://seller.example"
RECORDS = lso_client.operations()


def _spec_operations() -> set[tuple[str, str, str, str]]:
    """(module, operationId, METHOD, path) of every management operation in the manifest."""
    source = SpecSource(DEFAULT_SOURCE)
    found = set()
    for entry in load_manifest().apis:
        if entry.role != "management":
            continue
        doc = load_patched(source, entry)
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    found.add((entry.module, op["operationId"], method.upper(), path))
    return found


@pytest.mark.slow
def test_every_operation_of_every_spec_is_reachable_at_each_of_its_reference_points() -> None:
    expected = _spec_operations()
    manifest = {entry.module: entry for entry in load_manifest().apis}
    for module, operation_id, method, path in expected:
        for rp in manifest[module].reference_points:
            matches = RECORDS.where(reference_point=rp, module=module, operation_id=operation_id)
            assert matches, f"{operation_id} of {module} is not reachable at {rp}"
            assert {(r.http_method, r.path) for r in matches} == {(method, path)}
    listed = {(r.module, r.operation_id, r.http_method, r.path) for r in RECORDS}
    assert listed == expected
    # Reported in the closing note of the coverage work.
    print(f"{len(expected)} operations, {len(RECORDS)} index records")


def _call(record: OperationRecord, client: Any) -> Any:
    op = next(
        o
        for o in lso_client._operations.operations_of(record.module).values()
        if o.operation_id == record.operation_id
    )
    args: list[Any] = [f"{p.name}-1" for p in op.parameters if p.location == "path"]
    if record.request_model is not None:
        args.append(record.request_model.model_construct())
    return record.bind(client)(*args)


def _respond(record: OperationRecord) -> httpx.Response:
    op = lso_client._operations.operations_of(record.module)[record.operation_id]
    if op.response_model is None:
        return httpx.Response(op.success_status)
    body: Any = [] if op.response_is_list else {"id": "x"}
    return httpx.Response(op.success_status, json=body)


@pytest.mark.parametrize(
    "record", RECORDS, ids=lambda r: f"{r.reference_point}-{r.method.removeprefix('client.')}"
)
def test_each_listed_method_sends_its_http_method_to_its_path(record: OperationRecord) -> None:
    base = SELLER + record.base_path.rstrip("/")
    template = re.sub(r"\{(\w+)\}", lambda m: f"{m.group(1)}-1", record.path)
    with respx.mock(assert_all_called=False) as router:
        route = router.route(method=record.http_method, url=base + template).mock(
            side_effect=lambda request: _respond(record)
        )
        other = router.route().mock(return_value=httpx.Response(418))
        with CLIENTS[record.reference_point](SELLER, strict=False, max_retries=0) as client:
            try:
                _call(record, client)
            except lso_client.APIStatusError as exc:
                pytest.fail(f"{record.method} sent {exc.request.method} {exc.request.url}")
    assert route.call_count == 1, other.calls
    assert other.call_count == 0


def test_index_reads_as_a_table_and_filters() -> None:
    table = lso_client.operations(reference_point="legato", family="service_ordering")
    assert {r.version for r in table} == {"5.0.0"}
    text = repr(table)
    assert text.splitlines()[0].split() == [
        "reference_point",
        "family",
        "version",
        "operation_id",
        "http_method",
        "path",
        "method",
    ]
    assert "client.service_orders.create" in text
    assert "<table>" in table._repr_html_()
    other = lso_client.operations(reference_point="interlude", operation_id="createPerformanceJob")
    assert {r.method for r in other} == {
        "client.performance_jobs.create",
        "client.performance_monitoring_v2.performance_jobs.create",
    }


def test_model_lookup_by_reference_point_family_and_schema_name() -> None:
    allegro = lso_client.model("allegro", "service_ordering", "ServiceOrder_Create")
    legato = lso_client.model("legato", "service_ordering", "ServiceOrder_Create")
    assert allegro.__module__.endswith("service_ordering_v1")
    assert legato.__module__.endswith("service_ordering_v5")
    event = lso_client.model("allegro", "service_ordering", "ServiceOrderStateChangeEvent")
    assert event.__module__.endswith("service_ordering_notification_v1")
    v2 = lso_client.model("legato", "performance_monitoring", "PerformanceJob", version="2")
    assert v2.__module__.endswith("performance_monitoring_v2")
    with pytest.raises(LookupError):
        lso_client.model("allegro", "service_catalog", "ServiceSpecification")
    with pytest.raises(LookupError):
        lso_client.model("allegro", "service_ordering", "NoSuchSchema")


def test_records_name_models_that_exist() -> None:
    for record in RECORDS.where(reference_point="allegro"):
        if record.request_model_name:
            assert record.request_model is not None
        if record.response_model_name:
            assert record.response_model is not None


def test_every_family_has_a_yaml_entry() -> None:
    families = yaml.safe_load(
        (REPO_ROOT / "codegen" / "resources.yaml").read_text(encoding="utf-8")
    )
    assert {e.family for e in load_manifest().apis} == set(families)
