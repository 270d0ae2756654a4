"""Watching a run from any view (TUI, CLI): plain data and strings, no textual and no rich."""
