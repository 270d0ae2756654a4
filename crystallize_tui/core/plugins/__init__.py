"""The plugins Crystallize ships, and the base class for your own."""

from .artifacts import ArtifactPlugin, ArtifactWriter
from .base import Plugin, RunInfo
from .logs import LoggingPlugin
from .parallel import ParallelExecution
from .seed import SeedPlugin

__all__ = [
    "ArtifactPlugin",
    "ArtifactWriter",
    "LoggingPlugin",
    "ParallelExecution",
    "Plugin",
    "RunInfo",
    "SeedPlugin",
]
