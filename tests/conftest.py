"""Shared fixtures: make ``tests/steps.py`` importable in worker processes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
