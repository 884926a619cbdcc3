"""A short run of tools/load_test.py (50,000 samples through integr8.MnistMlp in a fresh
process): resident memory stays flat and sampled batches equal their single-threaded run.
Also shows each gate of the script can fire (--self-test), and checks in-process that run()
keeps no reference to its input and gives the same bytes for every thread count.

No timing thresholds: only memory growth and equality are asserted. The full one-million
sample run is `python3 tools/load_test.py` (see its docstring).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

core = pytest.importorskip(
    "integr8._core",
    reason="integr8._core is not built: run `pip install .` from the repository root")

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "load_test.py"


def _load_test(tmp_path, *arguments):
    out = tmp_path / "load.json"
    completed = subprocess.run([sys.executable, str(SCRIPT), "--json", str(out), *arguments],
                               capture_output=True, text=True, timeout=600)
    result = json.loads(out.read_text()) if out.exists() else None
    return completed, result


def test_fifty_thousand_samples_keep_memory_flat_and_match_one_thread(tmp_path):
    completed, result = _load_test(tmp_path, "--samples", "50000", "--batch", "5000",
                                   "--check-every", "5")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert result["ok"] and result["failures"] == []
    assert result["samples"] == 50000 and result["batches"] == 10
    assert result["checked_batches"] == 2 and result["mismatched_batches"] == 0
    growth = result["vm_rss_end_mib"] - result["vm_rss_start_mib"]
    assert growth <= result["rss_allowed_growth_mib"]
    assert result["peak_rss_end_mib"] - result["peak_rss_start_mib"] <= \
        result["rss_allowed_growth_mib"]
    if result["source"] == "mnist":  # the bundled MLP is ~98% accurate on MNIST
        assert result["accuracy"] > 0.95
    assert "load test: 50,000 samples through integr8.MnistMlp" in completed.stdout


@pytest.mark.parametrize("self_test, failure", [
    ("leak", "VmRSS grew by"),
    ("mismatch", "checked batches differ from threads=1"),
])
def test_each_gate_of_the_load_test_can_fail(tmp_path, self_test, failure):
    # leak: 4 MiB kept per batch, 4 batches exceed the 10 MiB tolerance.
    completed, result = _load_test(tmp_path, "--samples", "4000", "--batch", "1000",
                                   "--warmup", "1", "--check-every", "1", "--source", "random",
                                   "--self-test", self_test)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert not result["ok"] and any(failure in text for text in result["failures"])
    assert "FAILED: " in completed.stdout


def test_run_keeps_no_reference_and_ignores_thread_count():
    model = core.MnistMlp()
    batch = np.random.default_rng(7).integers(-128, 128, (2000, 784), dtype=np.int8)
    references = sys.getrefcount(batch)
    results = [model.run(batch, threads=threads) for threads in (1, 2, 3, 7, None)]
    results.append(model.run(batch.reshape(2000, 28, 28, 1)))
    assert sys.getrefcount(batch) == references
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
    out = model.run(batch[:10])
    assert sys.getrefcount(out) == 2  # `out` and getrefcount's argument: nothing else holds it
