"""Terminal rendering at the edges: rich tables shared by the CLI and the TUI (core/ and stats/ stay free of it)."""
