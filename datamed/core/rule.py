"""The disclosure rule: when is a small count protected? (one place, configurable)

Threat model (``docs/disclosure.md``): the attacker reads every release file,
every page, chart, tooltip, download and text of DataMed, knows the source's
public rules (thresholds, floors) and the national totals, and solves integer
programs over all of it. For each masked cell the attacker obtains a feasible
interval [lo, hi] (the minimum and maximum of the cell over all integer tables
consistent with what is published).

A cell whose true value is *small* (1 to ``threshold - 1``) is **protected** only if
its interval

- is not inside 1..threshold-1: it also contains 0, or a value >= threshold;
- and is at least ``min_width`` wide.

Zero identifies nobody, and a cell known to be large is not small: a cell whose
interval does not meet 1..threshold-1 reveals no small count.

Parameters (environment variables, read once per process):

- ``DATAMED_SEUIL`` (threshold, default 11);
- ``DATAMED_LARGEUR_MIN`` (min_width, default 10);
- ``source_floor`` (10) is not a setting but a fact about the source: the ANSM
  tables list no organ-class crossing (SOC x age, SOC x sex) below 10 cases, so
  every such row that exists is >= 10 and every missing one is 0..9.
- ``published_floor`` (max(source_floor, threshold), 11): DataMed lists an
  organ-class crossing only from the threshold, so a row the source lists at 10 is
  left out exactly like the rows the source leaves out (a coarsening, not a mask):
  every published row is >= 11, every row not listed is 0..10, and organ-class
  totals are sums of the listed rows. No organ-class cell is ever masked.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

MASK = "masqué"  # the one status of every withheld count (below the threshold, or withheld to protect one)
DEFAULT_THRESHOLD = 11
DEFAULT_MIN_WIDTH = 10
SOURCE_FLOOR = 10
THRESHOLD_VAR = "DATAMED_SEUIL"
WIDTH_VAR = "DATAMED_LARGEUR_MIN"


def _int_from_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class ProtectionRule:
    threshold: int = DEFAULT_THRESHOLD  # counts 1..threshold-1 are small
    min_width: int = DEFAULT_MIN_WIDTH  # a small cell's interval must be at least this wide
    source_floor: int = SOURCE_FLOOR  # rows of organ-class crossings exist only from this count

    def __post_init__(self) -> None:
        for name in ("threshold", "min_width", "source_floor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    @classmethod
    def from_env(cls) -> ProtectionRule:
        return cls(
            threshold=_int_from_env(THRESHOLD_VAR, DEFAULT_THRESHOLD, 1),
            min_width=_int_from_env(WIDTH_VAR, DEFAULT_MIN_WIDTH, 1),
        )

    @property
    def published_floor(self) -> int:
        """Organ-class crossings (SOC x age, SOC x sex) are listed from this count."""
        return max(self.source_floor, self.threshold)

    def is_small(self, value: float) -> bool:
        return 1 <= value < self.threshold

    def may_be_small(self, lo: float, hi: float) -> bool:
        """The interval meets 1..threshold-1."""
        return lo < self.threshold and hi >= 1

    def protects(self, lo: float, hi: float) -> bool:
        """An interval that protects a small value: not inside 1..threshold-1, wide enough."""
        outside = lo <= 0 or hi >= self.threshold
        return outside and (hi - lo >= self.min_width or math.isinf(hi))

    def exposes(self, lo: float, hi: float) -> bool:
        """A masked cell is exposed when it may be small and its interval does not protect it."""
        return self.may_be_small(lo, hi) and not self.protects(lo, hi)
