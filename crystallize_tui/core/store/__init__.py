"""The SQLite run store: history, resume and export of every run."""

from .recorder import RunRecorder
from .store import RunRecord, Store, default_store_path, workspace_root

__all__ = ["RunRecord", "RunRecorder", "Store", "default_store_path", "workspace_root"]
