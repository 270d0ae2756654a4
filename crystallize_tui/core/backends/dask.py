"""The Dask backend: replicates on a Dask cluster, a local one it starts or one at an address.

The run process stays the only writer of the store: workers get the plan and the
experiment folders' modules once (a WorkerPlugin, dask_worker.RunSetup), run chunks of
replicates, send their events through Dask's structured-event channel
(``Worker.log_event`` -> ``Client.subscribe_topic``) and return results to this process,
which publishes and records them. ``distributed`` is imported only when a run uses Dask.
"""

from __future__ import annotations

import importlib.util
import math
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from ..cancel import CancelToken
from ..errors import ConfigError
from ..plan import RunPlan
from ..result import ReplicateResult
from ..worker_stderr import stderr_with_fd
from .base import Backend, Publish

MISSING = ("backend 'dask' needs the Dask extra, which is not installed: "
           "pip install 'crystallize-tui[dask]'")
DEFAULT_TIMEOUT = 10.0  # seconds to reach a scheduler at an address
DEFAULT_GRACE = 2.0
# The scheduler of a LocalCluster the run starts. A task whose worker dies is not retried
# by Dask: this backend retries it (once, alone). A worker holds only the task it runs
# (no task queued on it), so its death blames no bystander. Workers are not daemons, so
# a step may start processes of its own, as in a local run.
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.daemon": False,
}


def installed() -> bool:
    """Whether ``distributed`` can be imported (found, not imported: that takes a second)."""
    try:
        return importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):  # ValueError: blocked by a None in sys.modules
        return False


def _number(value: Any, what: str, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= minimum:
        raise ConfigError(f"backend 'dask': {what} must be a number of seconds >= {minimum:g}, "
                          f"got {value!r}")
    return float(value)


class DaskBackend(Backend):
    """Replicates on Dask. No ``address``: a LocalCluster of ``workers`` processes (one
    thread each) started and closed by the run. An ``address`` ("tcp://host:8786"): that
    scheduler's workers, reached within ``timeout`` seconds; its cluster is left running.
    ``grace``: how long a cancel waits for running replicates to reach a cancellation point."""

    name = "dask"
    SETTINGS: ClassVar[tuple[str, ...]] = ("workers", "address", "timeout", "grace")

    def __init__(self, *, workers: int = 4, address: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, grace: float = DEFAULT_GRACE) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"backend 'dask': workers must be a whole number >= 1, got {workers!r}")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ConfigError(f"backend 'dask': address must be a scheduler address like "
                              f"tcp://host:8786, got {address!r}")
        super().__init__(workers=workers)
        self.address = address.strip() if address else None
        self.timeout = _number(timeout, "timeout", 0.1)
        self.grace = _number(grace, "grace", 0)
        if not installed():
            raise ConfigError(MISSING)
        self._client: Any = None  # opened by connect(), used by the next run

    def connect(self) -> None:
        """Open the Client of a scheduler at an address (a local cluster starts with the
        run), so an unreachable one is a ConfigError before the run is recorded."""
        if self.address and self._client is None:
            self._client = self._reach()

    def describe(self) -> str:
        return f"dask {self.address}" if self.address else f"dask x{self.workers}"

    def run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        """Run the plan's tasks on the cluster, yielding results as chunks finish."""
        if not len(plan.tasks):
            return
        from .dask_run import DaskRun

        with self.client() as client:
            yield from DaskRun(client, plan, token, publish, self.grace).results()

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A Client of this backend's cluster, closed afterwards (with the cluster if it
        was started here)."""
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(MISSING) from None
        cluster = None
        if self.address:
            client, self._client = self._client or self._reach(), None
        else:
            import logging

            # stderr_with_fd: the worker processes start from a terminal UI too.
            with dask.config.set(LOCAL_CONFIG), stderr_with_fd():
                cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    # a worker's death is the replicate's record, not a log line
                    silence_logs=logging.CRITICAL, dashboard_address=None,
                    # no dashboard; its HTTP server (always started) on any free port
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
            try:
                client = Client(cluster, set_as_default=False)
            except BaseException:
                cluster.close()
                raise
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


    def _reach(self) -> Any:
        """A Client of the scheduler at ``self.address``, or a one-line ConfigError."""
        from distributed import Client

        _refused(self.address or "", self.timeout)
        try:
            return Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError):
            raise ConfigError(f"cannot reach the Dask scheduler at {self.address} within "
                              f"{self.timeout:g} s") from None
        except Exception as exc:  # something answered, not as a scheduler (its reply misread)
            raise ConfigError(f"cannot reach the Dask scheduler at {self.address}: what answers "
                              f"there is not one ({type(exc).__name__})") from None


def _refused(address: str, timeout: float) -> None:
    """A ConfigError at once if nothing listens at a tcp:// address: Dask's Client would
    retry a refused connection for the whole timeout before saying so."""
    if not address.startswith("tcp://"):
        return
    host, _, port = address[len("tcp://"):].rpartition(":")
    if not port.isdigit():
        return  # Dask's default port, or a form Dask reads: left to the Client
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout).close()
    except ConnectionRefusedError:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: connection refused "
                          f"(no scheduler listens there)") from None
    except OSError:
        pass  # a timeout or a name that does not resolve: the Client says so, with the timeout


def chunk_size(mean_duration: float | None, remaining: int, slots: int,
               target: float = 0.25, smallest: float = 0.05, largest: int = 2000) -> int:
    """How many replicates one Dask task runs: enough to last about ``target`` seconds
    (so trivial replicates do not pay a round trip each), and no more than a share of
    what is left that keeps every worker slot busy to the end (slow replicates one per
    task), unless that share would last under ``smallest`` seconds: a round trip costs
    more than the balance it buys. Unknown duration: one."""
    if mean_duration is None or remaining <= 0:
        return 1
    if mean_duration <= 0:
        return min(largest, remaining)
    share = max(math.ceil(remaining / (2 * max(1, slots))), math.ceil(smallest / mean_duration))
    return max(1, min(int(target / mean_duration), share, largest))


def echo_output(event: Any) -> None:
    """Write a worker's captured print() line to this process's terminal, as a local run does."""
    stream = sys.stderr if event.stream == "stderr" else sys.stdout
    try:
        stream.write(event.text + "\n")
    except (BrokenPipeError, ValueError):
        pass
