"""Logistic regression trained by full-batch gradient descent on a synthetic dataset."""

from __future__ import annotations

from typing import Any

import numpy as np

from crystallize_tui import pipeline_step


def make_dataset(
    rng: np.random.Generator,
    n_train: int,
    n_test: int,
    features: int,
    informative: int,
    noise: float,
) -> tuple[np.ndarray, ...]:
    """Labels from a sparse linear rule plus noise; few training rows so overfitting is real."""
    true_w = np.zeros(features)
    true_w[:informative] = rng.normal(0.0, 2.0, informative)
    x = rng.normal(size=(n_train + n_test, features))
    y = (x @ true_w + rng.normal(0.0, noise, len(x)) > 0).astype(float)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def log_loss(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy; logaddexp keeps it finite for confident wrong predictions."""
    z = x @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


@pipeline_step()
def train(config: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Fit on this replicate's dataset; record training loss per epoch, then held-out accuracy and loss."""
    # Same seed in every condition, so replicate k trains on the same data everywhere and
    # conditions can be compared pair by pair.
    x, y, x_test, y_test = make_dataset(
        ctx.np_rng,
        config["n_train"],
        config["n_test"],
        config["features"],
        config["informative"],
        config["noise"],
    )
    w, b = np.zeros(x.shape[1]), 0.0
    lr, l2 = config["learning_rate"], config["l2"]
    for _ in range(config["epochs"]):
        ctx.check_cancelled()
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        w -= lr * (x.T @ (p - y) / len(y) + l2 * w)  # the bias is not penalised
        b -= lr * float(np.mean(p - y))
        ctx.metrics.add("loss", log_loss(w, b, x, y))
    accuracy = float(np.mean(((x_test @ w + b) > 0) == (y_test > 0.5)))
    ctx.metrics.add("accuracy", accuracy)
    ctx.metrics.add("test_loss", log_loss(w, b, x_test, y_test))
    return {"weights": w.tolist(), "bias": b}
