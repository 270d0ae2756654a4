"""quick_experiment with an ``async def`` function: awaited, and what it returns recorded."""

import asyncio

from crystallize_tui import Store, quick_experiment

CONFIGS = {"baseline": {"p": 0.5}, "biased": {"p": 0.8}}


def play(config, ctx):
    wins = sum(ctx.rng.random() < config["p"] for _ in range(20))
    return {"wins": wins, "rate": wins / 20}


async def play_async(config, ctx):
    await asyncio.sleep(0)  # gives the loop a turn, as real async code would
    return play(config, ctx)


async def one_number(config):
    await asyncio.sleep(0)
    return config["p"] * 2


async def records_itself(config, ctx):
    for epoch in range(3):
        await asyncio.sleep(0)
        ctx.metrics.add("loss", config["p"] / (epoch + 1))


def test_an_async_function_gives_the_same_metrics_as_its_sync_twin():
    sync = quick_experiment(play, CONFIGS, replicates=6, seed=4)
    got = quick_experiment(play_async, CONFIGS, replicates=6, seed=4)
    assert got == sync
    assert len(got["biased"]["wins"]) == 6 and None not in got["biased"]["wins"]


def test_an_async_function_returning_one_number_records_result():
    out = quick_experiment(one_number, CONFIGS, replicates=3)
    assert out == {"baseline": {"result": [1.0] * 3}, "biased": {"result": [1.6] * 3}}


def test_an_async_function_recording_with_ctx_keeps_the_last_value():
    out = quick_experiment(records_itself, CONFIGS, replicates=2)
    assert out["baseline"]["loss"] == [0.5 / 3] * 2


def test_an_async_quick_experiment_is_stored_with_its_metrics(tmp_path):
    db = tmp_path / "quick.db"
    quick_experiment(play_async, CONFIGS, replicates=4, seed=4, name="async_look", store=db)
    store = Store(db)
    (run,) = store.runs("async_look")
    assert run.status == "completed"
    reps = store.replicates(run.run_id)
    assert len(reps) == 8 and all(r.status == "ok" and "wins" in r.metrics for r in reps)
