"""Shared fixtures: importable step functions for workers, and a store per test."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def crystallize_home(tmp_path, monkeypatch):
    """Every test's default store lives in its own tmp folder, never in the checkout."""
    home = tmp_path / "crystallize-home"
    monkeypatch.setenv("CRYSTALLIZE_HOME", str(home))
    return home
