"""Imported at start-up by the processes the snapshot tests' app starts (the fixture puts this
folder on PYTHONPATH): their replicate clock is frozen like the test process's, so durations
a debug process sends read 0.000s on any machine."""

from crystallize_tui.core import replicate

replicate._clock = lambda: 0.0
