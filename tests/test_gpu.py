"""Theano's GPU backend: pygpu from .venv, the one-line diagnosis, GPU workers.

The last test needs a CUDA GPU that Theano can activate; elsewhere it is
skipped with the reason :func:`kfkd.devices.gpu_problem` gives.
"""
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from kfkd import devices
from kfkd.errors import DeviceUnavailableError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_PYGPU = "/usr/lib/python3/dist-packages/pygpu"
GPU_PROBLEM = devices.gpu_problem("cuda0")


@pytest.mark.skipif(not os.path.isdir(DEBIAN_PYGPU),
                    reason="Debian's python3-pygpu is not installed (set-up "
                    "installs it only as root with apt)")
def test_pygpu_imports_from_the_venv_without_debians_numpy():
    code = ("import numpy, pygpu, pygpu.gpuarray; print(pygpu.__version__); "
            "print(pygpu.gpuarray.api_version()[0]); print(numpy.__file__); "
            "print(numpy.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.split()
    version, api, numpy_file, numpy_version = out
    assert version.startswith("0.7.") and api == "2"
    assert numpy_file.startswith(sys.prefix), numpy_file  # the venv's numpy
    assert numpy_version == np.__version__


def _fake_pygpu(version="0.7.6", api=2, init_error=None):
    def init(device):
        if init_error:
            raise RuntimeError(init_error)
    return types.SimpleNamespace(
        __version__=version, init=init,
        gpuarray=types.SimpleNamespace(api_version=lambda: (api, 0)))


def _importer(module):
    def import_module(name):
        if module is None:
            raise ImportError("No module named 'pygpu'")
        return module
    return import_module


def _libraries(*present):
    return lambda name: "lib%s.so" % name if name in present else None


@pytest.mark.parametrize("pygpu, libs, expected", [
    (None, ("cuda", "nvrtc", "cublas"), "pygpu"),
    (_fake_pygpu(version="0.6.9"), ("cuda", "nvrtc", "cublas"), "0.7.x"),
    (_fake_pygpu(api=1), ("cuda", "nvrtc", "cublas"), "API 1"),
    (_fake_pygpu(), (), "NVIDIA driver (libcuda.so)"),
    (_fake_pygpu(), ("cuda",), "NVRTC"),
    (_fake_pygpu(), ("cuda", "nvrtc"), "cuBLAS"),
    (_fake_pygpu(init_error="no device 0"), ("cuda", "nvrtc", "cublas"),
     "visible cuda0 device"),
], ids=["no-pygpu", "old-pygpu", "wrong-api", "no-driver", "no-nvrtc",
        "no-cublas", "no-device"])
def test_gpu_problem_names_the_first_missing_piece(pygpu, libs, expected,
                                                    tmp_path):
    (tmp_path / "gpuarray").mkdir()
    (tmp_path / "gpuarray" / "types.h").write_text("")
    problem = devices.gpu_problem("cuda0", find_library=_libraries(*libs),
                                  import_module=_importer(pygpu),
                                  include_dir=str(tmp_path))
    assert expected in problem


def test_gpu_problem_names_missing_headers(tmp_path):
    problem = devices.gpu_problem(
        "cuda0", find_library=_libraries("cuda", "nvrtc", "cublas"),
        import_module=_importer(_fake_pygpu()), include_dir=str(tmp_path))
    assert "libgpuarray-dev" in problem


def test_gpu_problem_none_when_everything_is_there(tmp_path):
    (tmp_path / "gpuarray").mkdir()
    (tmp_path / "gpuarray" / "types.h").write_text("")
    assert devices.gpu_problem(
        "cuda1", find_library=_libraries("cuda", "nvrtc", "cublas"),
        import_module=_importer(_fake_pygpu()),
        include_dir=str(tmp_path)) is None


@pytest.mark.skipif(GPU_PROBLEM is None, reason="this machine has a GPU")
def test_check_devices_says_in_one_line_what_this_machine_lacks():
    with pytest.raises(DeviceUnavailableError) as e:
        devices.check_devices(["cuda0", "cuda0"])
    message = str(e.value)
    assert "\n" not in message and message.startswith("device cuda0:")
    assert GPU_PROBLEM in message
    devices.check_devices(["cpu", "cpu"])  # CPU slots need nothing


@pytest.mark.skipif(GPU_PROBLEM is None, reason="needs a machine without GPU")
def test_cli_search_on_cuda0_fails_before_any_worker(kfkd_fails, tmp_path):
    out = tmp_path / "runs"
    kfkd_fails(["search", "--devices", "cuda0", "--out", out],
               names=["cuda0", GPU_PROBLEM], untouched=[out])


def test_gpu_worker_environment():
    from kfkd.search import worker_env

    env = worker_env("cuda1", 1, environ={"THEANO_FLAGS": "device=cpu,"
                                          "floatX=float64"})
    flags = env["THEANO_FLAGS"].split(",")
    assert flags[-2:] == ["device=cuda1", "floatX=float32"]
    assert "device=cpu" not in flags
    assert env["OMP_NUM_THREADS"] == "1"


def _predict_in_subprocess(model_dir, images_path, device, out_path):
    env = dict(os.environ, THEANO_FLAGS="device=%s,floatX=float32" % device)
    code = ("import numpy as np, sys; from kfkd.model import load_model; "
            "m = load_model(sys.argv[1]); "
            "np.save(sys.argv[3], m.predict(np.load(sys.argv[2])))")
    subprocess.run([sys.executable, "-c", code, model_dir, images_path,
                    out_path], env=env, cwd=REPO, check=True)
    return np.load(out_path)


@pytest.mark.gpu
@pytest.mark.skipif(GPU_PROBLEM is not None,
                    reason="no GPU Theano can use: missing %s" % GPU_PROBLEM)
def test_breeze_trains_one_epoch_on_cuda0_and_predicts_as_the_cpu(
        tmp_path, split):
    model_dir = str(tmp_path / "breeze-gpu")
    env = dict(os.environ, THEANO_FLAGS="device=cuda0,floatX=float32")
    subprocess.run([sys.executable, "-m", "kfkd", "train", "--net", "breeze",
                    "--epochs", "1", "--limit", "400", "--out", model_dir,
                    "--quiet"], env=env, cwd=REPO, check=True)
    images_path = str(tmp_path / "val.npy")
    np.save(images_path, split[1].images[:128])
    on_gpu = _predict_in_subprocess(model_dir, images_path, "cuda0",
                                    str(tmp_path / "gpu.npy"))
    on_cpu = _predict_in_subprocess(model_dir, images_path, "cpu",
                                    str(tmp_path / "cpu.npy"))
    # float32 sums in another order on another device: 1e-3 px, the issue's
    # bound, is ~1e5 float32 ulps of a 96 px coordinate
    np.testing.assert_allclose(on_gpu, on_cpu, atol=1e-3)
