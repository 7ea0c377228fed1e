"""The transparent side of advocacy potential: the heuristic scores used without
scikit-learn, and the pure-Python evaluation (ROC AUC, Brier score, reliability
by decile) that judges the model and the heuristic alike.

Nothing here imports scikit-learn or numpy: it runs on any installation.
Formulas and worked examples: ``docs/metrics-potential.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from advokit.plugins.scoring.potential import Features

__all__ = [
    "AT_RISK_WEIGHTS",
    "POTENTIAL_WEIGHTS",
    "CalibrationBin",
    "at_risk_components",
    "auc",
    "brier",
    "heuristic_score",
    "potential_components",
    "reliability",
]

#: default weights of the potential heuristic's components (they need not add up to 1)
POTENTIAL_WEIGHTS = MappingProxyType(
    {"nps": 0.4, "frequency": 0.3, "recency": 0.15, "engagement": 0.15}
)
#: default weights of the at-risk heuristic's components
AT_RISK_WEIGHTS = MappingProxyType(
    {"inactivity": 0.3, "purchase_gap": 0.3, "frequency_drop": 0.2, "lukewarm": 0.2}
)


def _saturating(x: float, half: float) -> float:
    """``x / (x + half)``: 0 at 0, 0.5 at ``half``, towards 1 beyond."""
    return x / (x + half) if x > 0 else 0.0


def potential_components(f: Features) -> dict[str, float]:
    """The potential heuristic's components, each 0-1:

    * ``nps``: the latest NPS answer / 10 (0.5 without an answer);
    * ``frequency``: purchases in the last 90 days, ``n / (n + 2)``;
    * ``recency``: ``1 / (1 + days since the last action / 30)`` (0 without one);
    * ``engagement``: actions of any kind, ``n / (n + 10)``.
    """
    return {
        "nps": 0.5 if f.nps is None else f.nps / 10,
        "frequency": _saturating(f.recent_purchases, 2),
        "recency": 0.0 if f.days_since_last is None else 1 / (1 + f.days_since_last / 30),
        "engagement": _saturating(f.actions, 10),
    }


def at_risk_components(f: Features) -> dict[str, float]:
    """The at-risk heuristic's components, each 0-1 (higher: more at risk):

    * ``inactivity``: days since the last action, ``d / (d + 30)``;
    * ``purchase_gap``: days since the last purchase, ``d / (d + 60)`` (1 without one);
    * ``frequency_drop``: ``max(0, prior - recent) / prior`` with ``recent`` the
      purchases of the last 90 days and ``prior`` those of the 90 days before;
    * ``lukewarm``: 1 for a latest answer of 9, 0 for a 10.
    """
    inactive = f.days_since_last if f.days_since_last is not None else f.tenure_days
    prior = f.prior_purchases
    return {
        "inactivity": _saturating(inactive, 30),
        "purchase_gap": 1.0
        if f.days_since_purchase is None
        else _saturating(f.days_since_purchase, 60),
        "frequency_drop": max(0, prior - f.recent_purchases) / prior if prior else 0.0,
        "lukewarm": 1.0 if f.nps is not None and f.nps < 10 else 0.0,
    }


def heuristic_score(
    f: Features,
    weights: Mapping[str, float],
    components: Callable[[Features], Mapping[str, float]],
) -> float:
    """``sum(weight * component) / sum(weight)``: a score in 0-1."""
    parts = components(f)
    total = sum(weights.values())
    return sum(weight * parts[name] for name, weight in weights.items()) / total


@attrs.frozen
class CalibrationBin:
    """One decile of the test rows by predicted score: how many, the mean
    prediction, and the observed rate of the outcome."""

    n: int
    predicted: float
    observed: float

    def to_json(self) -> dict[str, float]:
        return attrs.asdict(self)


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The ROC AUC as the Mann-Whitney statistic: the probability that a random
    positive scores above a random negative (ties count half). None without
    both a positive and a negative."""
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0  # of the positives, with tied scores sharing their mean rank
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        rank_sum += mean_rank * sum(1 for k in order[i : j + 1] if labels[k])
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def brier(predicted: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The mean squared error of predicted probabilities: 0 is perfect."""
    if not predicted:
        return None
    return sum((p - float(y)) ** 2 for p, y in zip(predicted, labels, strict=True)) / len(predicted)


def reliability(
    predicted: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> tuple[CalibrationBin, ...]:
    """The rows sorted by prediction and cut into ``bins`` groups of equal size
    (deciles): each group's mean prediction and observed rate."""
    pairs = sorted(zip(predicted, labels, strict=True), key=lambda pair: pair[0])
    n = len(pairs)
    out = []
    for b in range(bins):
        group = pairs[b * n // bins : (b + 1) * n // bins]
        if group:
            out.append(
                CalibrationBin(
                    n=len(group),
                    predicted=sum(p for p, _ in group) / len(group),
                    observed=sum(1 for _, y in group if y) / len(group),
                )
            )
    return tuple(out)
