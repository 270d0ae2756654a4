"""`crystallize cache` (what the step cache holds) and `crystallize cache clear [STEP]`."""

from __future__ import annotations

import time
from typing import Any

from ..core.cache import StepCache, step_folder_name
from ..core.cache_step import HIT_PREFIX, cache_dir_for, hits_summary
from ..core.errors import ConfigError
from .common import EXIT_OK, Workspace


def size_text(size: float) -> str:
    """"512 B", "3.4 MB", "1.0 GB"."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def hits_line(run_id: str, store_path: Any) -> str | None:
    """The run summary's "cache: N steps skipped (saved S)" line, when it had cache hits.
    Free for workspaces without a cache: the store is not read then."""
    if store_path is None or not cache_dir_for(store_path).is_dir():
        return None
    from ..core.store import Store

    try:
        return hits_summary(Store(store_path).output_lines_starting(run_id, HIT_PREFIX))
    except Exception:  # noqa: BLE001 - a summary line is never worth failing the report
        return None


def cmd_cache(args: Any, ws: Workspace) -> int:
    cache = StepCache(cache_dir_for(ws.store_path))
    if args.action == "clear":
        return _clear(cache, args.step)
    if args.step is not None:
        raise ConfigError(f"cache: unexpected {args.step!r}; did you mean `crystallize cache clear "
                          f"{args.step}`?")
    rows = cache.usage()
    total = sum(r.size for r in rows)
    print(f"cache {cache.root}: {sum(r.entries for r in rows)} entries, {size_text(total)} "
          f"of {size_text(cache.limit)} (limit: $CRYSTALLIZE_CACHE_LIMIT)")
    width = max((len(r.step) for r in rows), default=4)
    for r in rows:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.last_used))
        print(f"  {r.step:<{width}}  {r.entries:>6} entries  {size_text(r.size):>9}  last used {used}")
    return EXIT_OK


def _clear(cache: StepCache, step: str | None) -> int:
    if step is None:
        print(f"removed {cache.clear()} cache entries from {cache.root}")
        return EXIT_OK
    from ..core.folders_refs import did_you_mean

    steps = [r.step for r in cache.usage()]
    if step_folder_name(step) not in steps:
        raise ConfigError(f"cache clear: no cached step {step!r}{did_you_mean(step, steps)}; "
                          f"cached steps: {', '.join(sorted(steps)) or 'none'}")
    print(f"removed {cache.clear(step)} cache entries of {step}")
    return EXIT_OK
