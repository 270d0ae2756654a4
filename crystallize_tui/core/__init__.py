"""The engine: experiments, treatments, replicates, events, plugins and execution.

Nothing here imports textual; the TUI talks to runs only through events and the store.
"""
