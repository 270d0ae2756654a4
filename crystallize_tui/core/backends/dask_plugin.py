"""DaskExecution: an experiment's replicates on Dask by default (YAML ``plugins: {dask: ...}``)."""

from __future__ import annotations

from typing import Any

from ..plugins.parallel import ParallelExecution
from .options import DEFAULT_WORKERS, execution_of


class DaskExecution(ParallelExecution):
    """Run the experiment's replicates on Dask unless a run says otherwise: the scheduler
    at ``address`` ("tcp://host:8786"), else a LocalCluster of ``n_workers`` processes
    started for the run. The same as ``execution={"backend": "dask", ...}`` or YAML
    ``run: {backend: dask, address: ...}``; settings are checked here, not at the run."""

    def __init__(self, address: str | None = None, n_workers: int | None = None, *,
                 timeout: float | None = None, grace: float = 2.0) -> None:
        chosen: dict[str, Any] = {"backend": "dask", "workers": DEFAULT_WORKERS if n_workers is None else n_workers,
                                  "grace": grace}
        if address is not None:
            chosen["address"] = address
        if timeout is not None:
            chosen["timeout"] = timeout
        self._chosen = execution_of(chosen, "DaskExecution")
        # What ParallelExecution's readers look at (one worker thread per Dask process).
        self.max_workers = chosen["workers"]
        self.kind = "process"
        self.grace = grace
        self.start_method = None
        self.address = address

    def execution(self) -> dict[str, Any]:
        return dict(self._chosen)

    def __repr__(self) -> str:
        where = self.address or f"LocalCluster x{self.max_workers}"
        return f"DaskExecution({where})"
