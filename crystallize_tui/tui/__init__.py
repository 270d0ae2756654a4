"""The Textual terminal UI: browse experiments, launch and watch runs, debug, compare."""
