"""Widgets of the run and debug screens."""
