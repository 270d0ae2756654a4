"""Shared fixtures: importable step functions for workers, and a store per test."""

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# A shell without job control starts background commands with SIGINT ignored, and ignored
# signals stay ignored in every child: the Ctrl-C tests would then test nothing (and fail).
# Python's own handler here means the processes the tests start get the default again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def crystallize_home(tmp_path, monkeypatch):
    """Every test's default store lives in its own tmp folder, never in the checkout."""
    home = tmp_path / "crystallize-home"
    monkeypatch.setenv("CRYSTALLIZE_HOME", str(home))
    return home
