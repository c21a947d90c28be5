"""kfkd.denormals: subnormal floats flushed to zero inside the context and
the thread's floating-point environment put back afterwards (that training
runs inside it: tests/test_resume.py, which has a compiled net at hand)."""
import numpy as np
import pytest

from kfkd.denormals import flushed_denormals, supported

#: A float32 subnormal (below 1.18e-38).
TINY = np.float32(1e-39)


def _kept():
    """True when a subnormal survives float32 arithmetic here and now."""
    return bool((np.ones(1, np.float32) * TINY)[0] != 0)


pytestmark = pytest.mark.skipif(not supported(),
                                reason="MXCSR not reachable (glibc x86-64)")


def test_subnormals_are_flushed_inside_and_kept_after():
    assert _kept()
    with flushed_denormals() as flushed:
        assert flushed and not _kept()
        # DAZ: a subnormal operand reads as zero too
        assert (np.full(1, TINY, np.float32) * np.float32(1e30))[0] == 0
    assert _kept()


def test_environment_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with flushed_denormals():
            raise RuntimeError("inside")
    assert _kept()


def test_the_benchmark_names_a_bad_net_or_data_folder(kfkd_fails, tmp_path):
    """``kfkd benchmark-subnormals`` (experiments/benchmark_denormals.py):
    one line naming the option, before any data loads or net compiles."""
    kfkd_fails(["benchmark-subnormals", "--net", "nope"],
               names=["--net", "nope"])
    missing = tmp_path / "no-data"
    kfkd_fails(["benchmark-subnormals", "--data-dir", missing],
               names=[str(missing)], untouched=[missing])
