"""The comparison table of the published systems (kfkd.systems): read from
run folders written here (JSON only, no Theano)."""
import json

import pytest

from kfkd import systems
from kfkd.errors import UsageError


def _run(folder, name, rmse, log=None, limit=None):
    (folder / name).mkdir()
    (folder / name / "model.json").write_text(json.dumps({
        "n_params": 1234, "training": {"missing": "drop", "split": {
            "method": "grouped", "limit": limit}}}))
    (folder / name / "metrics.json").write_text(json.dumps({
        "val_rmse_px": rmse, "epochs": 3, "best_epoch": 2, "seconds": 90.0}))
    if log is not None:
        (folder / (name + ".log")).write_text(log)


def test_rows_and_table_from_run_folders(tmp_path):
    _run(tmp_path, "vgglite", 2.345, "x\n\tUser time (seconds): 100.5\n"
         "\tSystem time (seconds): 19.5\n")
    _run(tmp_path, "net1", 3.0, limit=100)
    rows = systems.comparison_rows(str(tmp_path))
    assert [r["system"] for r in rows] == ["net1", "vgglite"]  # SYSTEMS order
    assert rows[1]["cpu_minutes"] == pytest.approx(2.0)
    assert rows[0]["cpu_minutes"] is None
    assert (rows[1]["train_minutes"], rows[1]["missing"], rows[1]["split"]) \
        == (1.5, "drop", "grouped split")
    table = systems.markdown_table(rows).splitlines()
    assert len(table) == 4 and "**2.35** (grouped split)" in table[3]
    assert "| 1,234 | drop | 3 (2) | 1.5 | 2.0 |" in table[3]
    assert "**3.00** (grouped split, first 100 faces)" in table[2]


def test_missing_runs_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        systems.comparison_rows(str(tmp_path / "nope"))
    with pytest.raises(UsageError, match="not a model folder"):
        systems.comparison_rows(str(tmp_path), ["breeze"])


def test_commands_carry_each_recipe_and_the_budget():
    lines = systems.commands("runs/s", 10, ["vgglite", "net1"], "ffill")
    assert "--net vgglite --schedule vgglite --missing ffill " \
        "--max-minutes 10.0" in lines[0]
    assert "--update nesterov" in lines[1] and lines[1].endswith(
        "> runs/s/net1.log 2>&1")


def test_figure_data_keeps_the_table_and_its_rows(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    _run(runs, "breeze", 1.9)
    _run(runs, "leakybn", 4.2, limit=100)
    rows = systems.comparison_rows(str(runs))
    md, table = systems.write_figure_data(rows, str(tmp_path / "fig"),
                                          ["runs/s"] * 2)
    assert open(md).read() == systems.markdown_table(rows) + "\n"
    import csv
    read = list(csv.DictReader(open(table)))
    assert [(r["system"], float(r["val_rmse_px"]), r["runs"]) for r in read] \
        == [("breeze", 1.9, "runs/s"), ("leakybn", 4.2, "runs/s")]
    assert list(read[0]) == list(systems.CSV_COLUMNS)
