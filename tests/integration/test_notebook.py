"""`examples/notebook.ipynb` runs top to bottom in a Jupyter kernel of this interpreter
(nbclient, ipykernel), against the mock seller it starts, and shows what it promises:
orders as a DataFrame, a PM job's reports as a frame, a plot of frame delay per
interval, a model's fields as a table. It is stored without outputs."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"

# Appended for the test only: what the plot drew, next to the frame it was drawn from.
_PROBE = """
import json
import sys
print(json.dumps({
    "executable": sys.executable,
    "plotted": [float(y) for y in ax.get_lines()[0].get_ydata()],
    "frame": frame["oneWayFrameDelayMs"].tolist(),
    "x": [str(x) for x in frame["start"]],
}))
"""


def _cells(notebook: Any) -> dict[str, Any]:
    return {cell.metadata["tags"][0]: cell for cell in notebook.cells if cell.metadata.get("tags")}


def _text(cell: Any) -> str:
    for output in cell.outputs:
        if output.output_type == "execute_result":
            return str(output.data["text/plain"])
    raise AssertionError(f"no result in {cell.source!r}")


def _html(cell: Any) -> str:
    for output in cell.outputs:
        if "data" in output and "text/html" in output.data:
            return str(output.data["text/html"])
    raise AssertionError(f"no HTML in {cell.source!r}")


def _stdout(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_the_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.fixture(scope="module")
def executed() -> dict[str, Any]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE, metadata={"tags": ["probe"]}))
    # The kernel runs this interpreter (the spec's `python` is replaced by it) and imports
    # lso_client from this tree.
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", path)
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(ROOT)}},
        )
        client.execute()
    return _cells(notebook)


def test_orders_become_a_data_frame(executed: dict[str, Any]) -> None:
    page = _html(executed["orders"])
    assert page.count("<tr>") == 6  # the first page: a header and five orders
    assert ast.literal_eval(_text(executed["orders-states"])) == {"completed": 12, "failed": 3}
    head = _html(executed["orders-frame"])
    for column in ("id", "state", "orderDate", "externalId"):
        assert f"<th>{column}</th>" in head
    assert head.count("<tr") == 1 + 5 and head.count("+00:00</td>") == 5
    order = _text(executed["order"])
    assert order.startswith("ServiceOrder(id='") and len(order) <= 400
    assert "<details open>" in _html(executed["order"])


def test_the_pm_report_frame_and_its_plot(executed: dict[str, Any]) -> None:
    assert ast.literal_eval(_text(executed["pm-job"])) == ["completed"] * 3
    table = _html(executed["pm-frame"])
    for column in ("start", "end", "oneWayFrameDelayMs", "frameDelayVariationMs"):
        assert f"<th>{column}</th>" in table
    assert table.count("<tr") == 1 + 9  # three reports of three 5-minute intervals
    images = [o for o in executed["plot"].outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    drawn = json.loads(_stdout(executed["probe"]))
    assert drawn["executable"] == sys.executable
    assert drawn["plotted"] == drawn["frame"] and len(drawn["frame"]) == 9
    assert all(1.0 <= delay <= 25.0 for delay in drawn["frame"])  # the mock's range
    assert drawn["x"] == sorted(drawn["x"]) and drawn["x"][0].endswith("+00:00")


def test_a_model_shows_as_its_field_table(executed: dict[str, Any]) -> None:
    table = _html(executed["model"])
    assert "from lso_client.types.performance_monitoring_v5 import PerformanceJobCreate" in table
    assert "<td>performanceProfile</td>" in table and "<td>yes</td>" in table
    printed = _stdout(executed["describe"]).splitlines()
    assert printed[0].endswith("import ServiceOrderCreate: 9 fields")
    assert printed[1].split() == ["name", "wire_name", "type", "required"]
