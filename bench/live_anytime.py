"""Cost of one live statistics refresh while a run goes: the anytime-valid rows, fed only the
replicates new since the last look, against recomputing the fixed-n comparison over them all.

Run: ``python bench/live_anytime.py``. A run of 2 conditions x 2 metrics (one continuous, one
0/1) at N replicates done; a refresh brings 20 new replicates per condition. The floor is the
fixed-n recomputation (what the run screen did before, measured in the same run); the ratio
says how much of it a refresh now costs. Best of ``--repeat`` runs, CPU seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui.core import events as ev  # noqa: E402
from crystallize_tui.watch.live_stats import LiveStatistics  # noqa: E402

NEW = 20  # replicates per condition per refresh


def events(k0: int, k1: int, rng: random.Random) -> list[ev.ReplicateFinished]:
    out = []
    for k in range(k0, k1):
        for cond, shift in (("baseline", 0.0), ("fast", 0.1)):
            out.append(ev.ReplicateFinished("r", cond, k, 0.0, k, 0.0,
                                            {"x": rng.gauss(shift, 1), "won": rng.random() < 0.5 + shift}))
    return out


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.process_time()
        fn()
        times.append(time.process_time() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import crystallize_tui.stats  # noqa: F401 - imports are not the refresh's cost

    print(f"{'replicates':>10} {'fixed-n recompute':>18} {'anytime refresh':>16} {'ratio':>7}")
    for n in (500, 2000, 8000):
        rng = random.Random(n)
        done = events(0, n, rng)
        new = events(n, n + NEW, rng)
        live = LiveStatistics("exp", ["baseline", "fast"], 1)
        live.add(done)

        def fixed(live=live, done=done, new=new) -> None:  # noqa: ANN001
            live.compute(done + new)

        def anytime(live=live, new=new) -> None:  # noqa: ANN001
            fresh = LiveStatistics("exp", ["baseline", "fast"], 1)
            fresh.anytime_stats = _copy(live.anytime_stats)  # the state a run screen holds
            began = time.process_time()
            fresh.anytime_stats.add_events(new)
            fresh.anytime()
            anytime.cost = min(getattr(anytime, "cost", 1e9), time.process_time() - began)

        floor = best(fixed, args.repeat)
        for _ in range(args.repeat):
            anytime()
        cost = anytime.cost
        print(f"{n:>10} {floor * 1e3:>15.1f} ms {cost * 1e3:>13.2f} ms {cost / floor:>7.3f}")


def _copy(stats):  # noqa: ANN001, ANN202 - the feed's state before this refresh
    import copy

    return copy.deepcopy(stats)


if __name__ == "__main__":
    main()
