"""TUI benchmarks: key latency while a run streams, log ingest, memory, start-up (--quick, --json)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

TARGET_P99_MS = 50.0
TARGET_STARTUP_S = 1.5
TARGET_RATE = 20_000
TARGET_RATIO = 0.9  # a run with the app attached, against the same run unwatched

# One print and one ctx.emit per loop: two events. A rate of 0 streams as fast as it can.
STREAM_STEP = '''"""Streams print lines and ctx.emit events at a paced rate."""
import time


def stream(config, ctx):
    rate, total = config["rate"], config["events"]
    start = time.perf_counter()
    i = 0
    while i < total:
        # A bound on time too: should the benchmark fail before it cancels, the run
        # still ends (and stops printing) by itself.
        if not i & 1023 and time.perf_counter() - start > 120:
            break
        # Sleep in small slices when ahead of schedule: the run thread then releases the
        # GIL the way a step waiting on I/O or a model would.
        if rate and i >= (time.perf_counter() - start) * rate:
            time.sleep(0.0005)
            continue
        print(f"line {i}")
        ctx.emit("tick", i=i + 1)
        i += 2
    ctx.metrics.add("events", i)
'''

STREAM_YAML = """name: {name}
description: streams {events} events at {rate} events/s
pipeline: [stream:stream]
datasource: {{rate: {rate}, events: {events}, tag: a}}
replicates: {replicates}
treatments:
  other: {{tag: b}}
"""


def stream_workspace(base: Path, rate: int, mem_events: int, short_replicates: int) -> Path:
    """Streaming experiments: paced (load), unpaced (burst), many short replicates (many),
    and a bounded one for memory (mem)."""
    root = base / "stream"
    (root / ".bench").mkdir(parents=True)
    forever = 10**12  # the benchmark cancels these runs when it has measured enough
    specs = {"load": (rate, forever, 1), "burst": (0, forever, 1),
             # 2 conditions x 2 replicates: few replicate rows, many events each.
             "mem": (rate, mem_events // 4, 2),
             # Same rate, but a replicate finishes every 20 events: the replicate table
             # and the live statistics then work too.
             "many": (rate, 20, short_replicates)}
    for name, (r, events, replicates) in specs.items():
        folder = root / "experiments" / name
        folder.mkdir(parents=True)
        (folder / "stream.py").write_text(STREAM_STEP)
        text = STREAM_YAML.format(name=name, rate=r, events=events, replicates=replicates)
        if name == "many":
            text += "  third: {tag: c}\n"
        (folder / "experiment.yaml").write_text(text)
    return root


# -- report -------------------------------------------------------------------------------
def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def summarise_memory(mem: dict[str, Any]) -> None:
    """Growth per 10k events: least-squares slope over the second half of the run (the first
    half is warm-up: the output panel, the pending-line buffer and the store's event buffer
    fill to their bounds). A slope, not two end points: buffers flushing at replicate ends
    make single samples swing by a MiB."""
    s = mem["samples"]
    late = s[(len(s) - 1) // 2:]  # by index: a sample lands a little past its mark
    x = [r["events"] / 10_000 for r in late]
    mem["from_events"] = late[0]["events"]
    for key in ("traced", "rss"):
        mem[f"growth_per_10k_{key}"] = statistics.linear_regression(x, [r[key] for r in late]).slope


def report(f: dict[str, Any]) -> None:
    rate, kl = f["rate"], f["key_latency"]
    load, many = kl["load"], kl["many"]
    print(f"{os.cpu_count()} cores; 1-minute load average {f['loadavg_before']:.2f} before, "
          f"{f['loadavg_after']:.2f} after (other processes skew the latency tails)")
    print("Key latency: f (output filter) on the run screen, ms from key sent to action run")
    print(f"{'while':44} {'presses':>7} {'p50':>6} {'p99':>6} {'max':>6} "
          f"{'events/s':>9} {'headless':>9} {'ratio':>5}")
    rows = [("no run (the same screen, run over)", load["idle"], None),
            (f"run paced at {rate:,} events/s", load["loaded"], load),
            ("run unpaced (as fast as it goes)", kl["burst"]["loaded"], kl["burst"]),
            ("paced, a replicate ends every 20 events", many["loaded"], many)]
    for label, p, d in rows:
        tail = ""
        if d is not None:
            ui, hl = d["events_per_s_ui"], d["headless"]["events_per_s"]
            tail = f" {ui:9,.0f} {hl:9,.0f} {ui / hl:5.2f}"
        print(f"{label:44} {p['n']:7} {p['p50_ms']:6.1f} {p['p99_ms']:6.1f} {p['max_ms']:6.1f}{tail}")
    ok = load["loaded"]["p99_ms"] < TARGET_P99_MS and load["events_per_s_ui"] > 0.95 * rate
    # Short replicates cannot reach the rate even headless (per-replicate work and a store
    # commit each); there the UI must keep the run at >= 0.9 of its unwatched rate.
    unwatched = many["headless"]["unwatched_replicates_per_s"]
    ratio_many = many["replicates_per_s_ui"] / unwatched
    ok_many = many["loaded"]["p99_ms"] < TARGET_P99_MS and ratio_many >= TARGET_RATIO
    print(f"target p99 < {TARGET_P99_MS:.0f} ms at {rate:,} events/s: {mark(ok)} "
          f"(few long replicates); with short replicates: {mark(ok_many)} "
          f"(p99 {many['loaded']['p99_ms']:.0f} ms, run at {ratio_many:.2f} of its unwatched "
          f"rate; target {TARGET_RATIO})")
    print(f"short replicates: {many['replicates_per_s_ui']:,.0f} replicates/s with the UI, "
          f"{many['headless']['replicates_per_s']:,.0f} headless (channel drained, no app), "
          f"{unwatched:,.0f} unwatched (crystallize run, no channel)")
    for name in ("load", "burst", "many"):
        d = kl[name]
        print(f"{name}: cross-thread UI calls {d['cross_thread_calls_per_s']:.0f}/s for "
              f"{d['events_per_s_ui']:,.0f} events/s; output lines kept {d['output_lines_kept']:,}")
    print(f"(headless skips writing frames to the terminal: {load['terminal_frame_ms']:.2f} ms "
          "per full 160x48 frame of the run screen)")
    print()
    print("Widget ingest, batches of 1000 lines each rendered: lines/s")
    for kind, v in f["ingest"].items():
        print(f"  {kind:16} {v:10,.0f}   ({rate / v:.0%} of the UI thread at {rate:,} lines/s)")
    print("Replicate table: ms to add 70 finished replicates (one drain at 1,000/s) and render")
    print("  " + ", ".join(f"{rows:,} rows: {ms:.1f}" for rows, ms in f["replicate_table_ms"].items()))
    print()
    mem = f["memory"]
    s = mem["samples"]
    print(f"Memory: app run of {s[-1]['events']:,} events in {mem['seconds']:.1f} s "
          f"({mem['status']}, tracemalloc on), output panel kept {mem['output_lines_kept']:,} lines")
    print(f"{'events':>10} {'traced MiB':>11} {'RSS MiB':>9}")
    for row in s:
        print(f"{row['events']:10,} {row['traced'] / 2**20:11.2f} {row['rss'] / 2**20:9.1f}")
    print(f"growth per 10k events (slope, {mem['from_events']:,} -> {s[-1]['events']:,}): traced "
          f"{mem['growth_per_10k_traced'] / 1024:+.0f} KiB, RSS {mem['growth_per_10k_rss'] / 1024:+.0f} KiB")
    print()
    st = f["startup"]
    print(f"Start-up with {f['experiments']} experiments, best of {f['repeat']}: seconds")
    print(f"  app entry -> home tree holds all (in process)    {st['in_process_s']:6.3f}")
    print(f"  fresh process -> home tree holds all             {st['fresh_process_s']:6.3f}")
    print(f"  python -c 'import crystallize_tui'               {st['import_crystallize_tui_s']:6.3f}")
    print(f"  python -c 'import crystallize_tui.tui.app'       {st['import_tui_app_s']:6.3f}")
    print(f"  crystallize --help                               {st['crystallize_help_s']:6.3f}")
    print(f"  import crystallize_tui.stats after the app       {st['stats_import_s']:6.3f}"
          "  (first live statistics refresh, on the UI thread)")
    print(f"target start-up < {TARGET_STARTUP_S} s: {mark(st['fresh_process_s'] < TARGET_STARTUP_S)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer presses, shorter runs")
    parser.add_argument("--rate", type=int, default=TARGET_RATE, help="paced events/s")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--experiments", type=int, default=50, help="for the start-up figures")
    parser.add_argument("--many-replicates", type=int, default=None,
                        help="replicates per condition of the short-replicate run (default "
                             "300, 500 without --quick: ~30 presses; 2000 gives ~200, a p99 "
                             "that is not just the maximum)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as base:
        figures = measure(args, Path(base))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report(figures)


def measure(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    import tui_live as live
    import tui_startup
    import tui_widgets as widgets

    # The first live statistics refresh imports scipy on the UI thread (timed on its own
    # in the start-up section); importing it now keeps that one-off stall out of every
    # scenario's percentiles, whichever runs first.
    import crystallize_tui.stats  # noqa: F401

    quick = args.quick
    presses = 60 if quick else 200
    window = 1.5 if quick else 3.0
    mem_events = 40_000 if quick else 100_000
    repeat = 1 if quick else 3
    root = stream_workspace(base, args.rate, mem_events,
                            args.many_replicates or (300 if quick else 500))
    # Latency percentiles react to anything else using the 2 cores: record how busy they were.
    f: dict[str, Any] = {"rate": args.rate, "experiments": args.experiments, "repeat": repeat,
                         "presses": presses, "key_latency": {}, "loadavg_before": os.getloadavg()[0]}
    # Each headless rate right before its UI twin: both see about the same machine load.
    for name, n, idle, w in (("load", presses, presses, window),
                             ("burst", presses // 2, 0, window), ("many", None, 0, None)):
        headless = live.headless_rate(root, name, w)
        f["key_latency"][name] = live.key_latency(root, name, n, idle, 0.0 if n is None else 1.0)
        f["key_latency"][name]["headless"] = headless
    f["ingest"] = widgets.ingest(5_000 if quick else 10_000, 1000, repeat)
    f["replicate_table_ms"] = widgets.replicate_table([0, 1000, 10_000] if quick
                                                      else [0, 1000, 3000, 10_000])
    f["memory"] = live.memory(root, "mem", [mem_events * k // 10 for k in range(1, 11)])
    summarise_memory(f["memory"])
    f["startup"] = tui_startup.startup(base, args.experiments, repeat)
    f["loadavg_after"] = os.getloadavg()[0]
    return f


if __name__ == "__main__":
    main()
