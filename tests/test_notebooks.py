"""The four notebooks run headless (nbclient) with the ``smoke`` budget.

01 (data) and 04 (occlusion, the reference model) compute their figures.
02 (training, ablations) and 03 (search) would train the same smoke runs
and search the same tiny study that ``smoke_figures`` (conftest, checked
by tests/test_figures.py) already made with the same kfkd.report calls:
they run with ``KFKD_REDRAW=1`` on a copy of that data, PNGs removed, so
that each still draws every figure and table it shows (about 2 minutes
of training and two search workers saved)."""
import glob
import importlib.util
import json
import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(REPO, "notebooks")
NAMES = ["01_data_exploration.ipynb", "02_training_and_ablations.ipynb",
         "03_grid_search.ipynb", "04_occlusion.ipynb"]

#: Files each notebook must have written into KFKD_FIGURES_DIR.
WRITES = {
    "01_data_exploration.ipynb": ["samples/sample_faces.png",
                                  "samples/labels.json",
                                  "augment/augmentation.png",
                                  "augment/exposure.png"],
    "02_training_and_ablations.ipynb": ["training/training_curves.png",
                                        "training/summary.csv",
                                        "ablations/ablation_curves.png",
                                        "ablations.md"],
    "03_grid_search.ipynb": ["search/results.csv", "search/study.json"],
    "04_occlusion.ipynb": ["occlusion/overview_edge_free.png",
                           "occlusion/compare_censors.png",
                           "occlusion/occlusion_edge_free.json"],
}


#: Notebooks redrawn from ``smoke_figures``: {name: groups they need}.
REDRAWN = {"02_training_and_ablations.ipynb": ["training", "ablations"],
           "03_grid_search.ipynb": ["search"]}


def _copy_groups(src, dst, groups):
    """Copy the data of ``groups`` from the figures folder ``src`` to
    ``dst``, without their PNGs (the notebook must draw them again)."""
    for group in groups:
        shutil.copytree(os.path.join(src, group), os.path.join(dst, group),
                        ignore=shutil.ignore_patterns("*.png"))


def _builder():
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", os.path.join(NOTEBOOK_DIR, "build_notebooks.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_match_their_builder():
    """The committed notebooks are what notebooks/build_notebooks.py
    writes, without outputs."""
    assert sorted(os.path.basename(p) for p in glob.glob(
        os.path.join(NOTEBOOK_DIR, "*.ipynb"))) == NAMES
    builder = _builder()
    assert sorted(builder.NOTEBOOKS) == NAMES
    for name in NAMES:
        nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
        nbformat.validate(nb)
        assert [c.source for c in nb.cells] == [
            c.source for c in builder.NOTEBOOKS[name]]
        assert all(not c.get("outputs") for c in nb.cells
                   if c.cell_type == "code")
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "from kfkd import report" in code     # thin: calls kfkd


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path, monkeypatch, data_dir,
                       reference_model, request):
    out = tmp_path / "figures"
    if name in REDRAWN:
        made = request.getfixturevalue("smoke_figures")[0]
        _copy_groups(made, str(out), REDRAWN[name])
        monkeypatch.setenv("KFKD_REDRAW", "1")
    else:
        monkeypatch.delenv("KFKD_REDRAW", raising=False)
    monkeypatch.setenv("KFKD_BUDGET", "smoke")
    monkeypatch.setenv("KFKD_FIGURES_DIR", str(out))
    monkeypatch.setenv("KFKD_STUDY_DIR", str(tmp_path / "no-study"))
    monkeypatch.setenv("KFKD_DATA_DIR", os.path.abspath(data_dir))
    monkeypatch.setenv("KFKD_MODEL", reference_model.folder)
    monkeypatch.setenv("PYTHONPATH", REPO)
    nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": NOTEBOOK_DIR}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code"
               for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    for rel in WRITES[name]:
        assert (out / rel).is_file(), rel
    if name == "03_grid_search.ipynb":
        study = json.loads((out / "search" / "study.json").read_text())
        assert study["source"] == "ran" and study["space"] == "tiny"
        assert study["n_complete"] >= 1
        assert len(glob.glob(str(out / "search" / "surfaces_*.png"))) >= 1
    if name == "02_training_and_ablations.ipynb":
        table = (out / "ablations.md").read_text()
        shown = "\n".join(o.get("data", {}).get("text/markdown", "")
                          for o in outputs)
        assert table.split("\n\n")[0] in shown       # the table is displayed
