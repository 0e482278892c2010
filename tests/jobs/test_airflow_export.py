"""The exported Airflow DAG, read as Python source (Airflow is not installed here): one
BashOperator per step calling `stockpilot pipeline run --steps STEP`, chained in order."""

from __future__ import annotations

import ast
import importlib.util
import itertools
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.jobs.pipeline_steps import STEPS


def task_graph(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]], str]:
    """(tasks by variable: task_id and bash_command, edges as task ids, the DAG's schedule)."""
    tree = ast.parse(source)
    tasks: dict[str, dict[str, str]] = {}
    schedule = ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and getattr(
                node.value.func, "id", "") == "BashOperator":
            kw = {k.arg: k.value for k in node.value.keywords}
            tasks[node.targets[0].id] = {  # type: ignore[attr-defined]
                "task_id": ast.literal_eval(kw["task_id"]),
                "bash_command": ast.literal_eval(kw["bash_command"])}
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DAG":
            schedule = next(ast.literal_eval(k.value) for k in node.keywords
                            if k.arg == "schedule")
    edges: list[tuple[str, str]] = []

    def chain(node: ast.expr) -> str:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            left, right = chain(node.left), chain(node.right)
            edges.append((tasks[left]["task_id"], tasks[right]["task_id"]))
            return right
        return node.id  # type: ignore[attr-defined]

    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp):
            chain(node.value)
    return tasks, edges, schedule


def test_cli_writes_a_dag_with_one_task_per_step_in_pipeline_order(tmp_path):
    (tmp_path / "stockpilot.toml").write_text('[schedule]\npipeline = "30 1 * * *"\n')
    out = tmp_path / "dag.py"
    got = CliRunner().invoke(app, ["pipeline", "export", "airflow", "--out", str(out),
                                   "-w", str(tmp_path)])
    assert got.exit_code == 0, got.output
    tasks, edges, schedule = task_graph(out.read_text())
    assert [t["task_id"] for t in tasks.values()] == list(STEPS)
    assert all(t["bash_command"] == f"stockpilot pipeline run --steps {t['task_id']}"
               for t in tasks.values())
    assert edges == list(itertools.pairwise(STEPS))
    assert schedule == "30 1 * * *"  # from [schedule]


@pytest.mark.skipif(importlib.util.find_spec("airflow") is None, reason="Airflow not installed")
def test_airflow_imports_the_dag(tmp_path):  # pragma: no cover - runs where Airflow is
    from airflow.models import DagBag

    out = tmp_path / "dag.py"
    CliRunner().invoke(app, ["pipeline", "export", "airflow", "--out", str(out), "-w",
                             str(tmp_path)])
    bag = DagBag(str(Path(out).parent), include_examples=False)
    dag = bag.get_dag("stockpilot")
    assert not bag.import_errors and [t.task_id for t in dag.topological_sort()] == list(STEPS)
