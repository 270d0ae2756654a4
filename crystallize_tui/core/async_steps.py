"""Running a replicate's ``async def`` steps: one event loop per replicate."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from . import capture as capture_mod


class AsyncSteps:
    """The event loop of one replicate's ``async def`` steps.

    Made at the first coroutine step and closed when the replicate ends, so objects bound
    to a loop (client sessions, locks) can pass from one step to the next, as in a
    synchronous pipeline. A replicate never shares its loop with another one.
    """

    __slots__ = ("loop",)

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro: Any) -> Any:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        if loop_running_here():
            # This thread already runs a loop (a notebook, an async caller): a second
            # loop cannot run on top of it, so the coroutine runs on a helper thread
            # that writes its print output to the same replicate.
            return _run_on_helper_thread(self.loop, coro)
        capture_mod.share_with_tasks()
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        loop = self.loop
        if loop is None:
            return
        self.loop = None
        try:
            # Tasks a step started and left running are cancelled, as asyncio.run does.
            left = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in left:
                task.cancel()
            if left and not loop_running_here():
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            if not loop_running_here():
                loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception:  # cleanup of user tasks must not change the replicate's outcome
            pass
        finally:
            loop.close()


def loop_running_here() -> bool:
    """True when this thread runs an event loop (a notebook, an async caller)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_on_helper_thread(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    capture = capture_mod.current()
    outcome: dict[str, Any] = {}

    def main() -> None:
        if capture is not None:
            capture_mod.begin(capture)
            capture_mod.share_with_tasks()
        try:
            outcome["value"] = loop.run_until_complete(coro)
        except BaseException as exc:  # handed back to the replicate's own thread
            outcome["error"] = exc

    helper = threading.Thread(target=main, name="crystallize-async-step", daemon=True)
    helper.start()
    helper.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
