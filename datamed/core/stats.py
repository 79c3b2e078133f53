"""Pharmacovigilance indicators: pure functions, tested without Streamlit.

- reporting rate per 100,000 treated patients with an exact (Garwood) Poisson
  95 % confidence interval on the case count;
- SOC-level disproportionality of a substance against all the others, from the
  aggregated 2x2 table (a: cases of the substance with an effect in the SOC,
  b: its other cases, c and d: the same for every other substance):
  ROR and PRR with 95 % CI, Yates chi-square, the BCPNN information component
  IC with its lower credibility bound IC025 (Norén et al. 2013 approximation);
- signal flags: Evans (PRR >= 2, chi-square >= 4, a >= 3) and ROR025 > 1.

These are computed from aggregated case-substance pairs, not individual cases.

Also shortage durations: the Kaplan-Meier product-limit estimator and the
Aalen-Johansen cumulative incidence of competing ends (return, withdrawal), both
with late entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import chi2

Z95 = 1.959963984540054
PER = 100_000


def poisson_ci(n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) two-sided CI for a Poisson count n."""
    lo = 0.0 if n == 0 else chi2.ppf(alpha / 2, 2 * n) / 2
    hi = chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2
    return float(lo), float(hi)


def wilson_ci(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (95 % by default) of a proportion k / n; (nan, nan) when n = 0."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def add_rates(df: pl.DataFrame, cases: str = "n_cas", exposure: str = "n_conso", prefix: str = "taux") -> pl.DataFrame:
    """Rate per 100,000 exposed, with exact Poisson CI; null where exposure is missing or zero."""
    n = df[cases].to_numpy(allow_copy=True).astype(float)
    e = df[exposure].cast(pl.Float64).to_numpy(allow_copy=True)
    valid = ~np.isnan(n) & ~np.isnan(e) & (e > 0)
    lo = np.full(len(df), np.nan)
    hi = np.full(len(df), np.nan)
    rate = np.full(len(df), np.nan)
    idx = np.where(valid)[0]
    if len(idx):
        k = n[idx]
        lo_k = np.where(k == 0, 0.0, chi2.ppf(0.025, 2 * k) / 2)
        hi_k = chi2.ppf(0.975, 2 * k + 2) / 2
        rate[idx] = k / e[idx] * PER
        lo[idx] = lo_k / e[idx] * PER
        hi[idx] = hi_k / e[idx] * PER
    return df.with_columns(
        pl.Series(prefix, rate).fill_nan(None),
        pl.Series(f"{prefix}_ic_bas", lo).fill_nan(None),
        pl.Series(f"{prefix}_ic_haut", hi).fill_nan(None),
    )


def disproportionality(counts: pl.DataFrame, grand_total: int | None = None) -> pl.DataFrame:
    """Per (ei_id, soc_code): a, b, c, d and the disproportionality measures.

    ``counts`` has ei_id, soc_code, a (cases of the substance with an effect in
    the SOC) and n (all cases of the substance). The comparator is every other
    substance: c = sum of a over the others, d = their cases minus c.
    ``grand_total`` is the number of cases of all substances (default: of the
    substances present in ``counts``).
    """
    if grand_total is None:
        grand_total = counts.select("ei_id", "n").unique("ei_id")["n"].sum()
    soc_total = counts.group_by("soc_code").agg(pl.col("a").sum().alias("a_soc"))
    df = counts.join(soc_total, on="soc_code").with_columns(
        (pl.col("n") - pl.col("a")).alias("b"),
        (pl.col("a_soc") - pl.col("a")).alias("c"),
    )
    df = df.with_columns((pl.lit(grand_total) - pl.col("n") - pl.col("c")).alias("d")).drop("a_soc")
    a = df["a"].cast(pl.Float64).to_numpy(allow_copy=True)
    b = df["b"].cast(pl.Float64).to_numpy(allow_copy=True)
    c = df["c"].cast(pl.Float64).to_numpy(allow_copy=True)
    d = df["d"].cast(pl.Float64).to_numpy(allow_copy=True)
    N = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        ror = (a * d) / (b * c)
        se_ror = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        prr = (a / (a + b)) / (c / (c + d))
        se_prr = np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
        chi_yates = N * np.maximum(np.abs(a * d - b * c) - N / 2, 0) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
        expected = (a + b) * (a + c) / N
        ic = np.log2((a + 0.5) / (expected + 0.5))
        ic025 = ic - 3.3 * (a + 0.5) ** -0.5 - 2 * (a + 0.5) ** -1.5
        ror_lo, ror_hi = np.exp(np.log(ror) - Z95 * se_ror), np.exp(np.log(ror) + Z95 * se_ror)
        prr_lo, prr_hi = np.exp(np.log(prr) - Z95 * se_prr), np.exp(np.log(prr) + Z95 * se_prr)

    def clean(x):
        x = np.where(np.isfinite(x), x, np.nan)
        return pl.Series(x).fill_nan(None)

    out = df.with_columns(
        clean(ror).alias("ror"),
        clean(ror_lo).alias("ror_ic_bas"),
        clean(ror_hi).alias("ror_ic_haut"),
        clean(prr).alias("prr"),
        clean(prr_lo).alias("prr_ic_bas"),
        clean(prr_hi).alias("prr_ic_haut"),
        clean(chi_yates).alias("chi2"),
        clean(ic).alias("ic"),
        clean(ic025).alias("ic025"),
    )
    return out.with_columns(
        ((pl.col("prr") >= 2) & (pl.col("chi2") >= 4) & (pl.col("a") >= 3)).fill_null(False).alias("signal_evans"),
        ((pl.col("ror_ic_bas") > 1) & (pl.col("a") >= 3)).fill_null(False).alias("signal_ror"),
        (pl.col("ic025") > 0).fill_null(False).alias("signal_ic"),
    )


def share(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Percentage, null when the denominator is null or zero."""
    return pl.when(denominator > 0).then(numerator.cast(pl.Float64) / denominator * 100).otherwise(None)


def rate_summary(n_cases: int, exposure: int) -> tuple[float, float, float] | None:
    """Rate per 100,000 with exact CI for one (cases, exposure) pair."""
    if exposure is None or exposure <= 0 or n_cases is None:
        return None
    lo, hi = poisson_ci(int(n_cases))
    return n_cases / exposure * PER, lo / exposure * PER, hi / exposure * PER


def log10_safe(x: float | None) -> float | None:
    return math.log10(x) if x and x > 0 else None


# --- durations: Kaplan-Meier ----------------------------------------------------------------------


MIN_AT_RISK = 10  # below this many episodes at risk, the curve is not drawn further


def _survival_inputs(durations, entry, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(durations, entries, outcome) as arrays, subjects with a missing duration or entry
    dropped, each entry capped at its duration (no subject enters after it ends)."""
    d = np.asarray(durations, dtype=float)
    s_in = np.zeros(len(d)) if entry is None else np.asarray(entry, dtype=float)
    keep = ~np.isnan(d) & ~np.isnan(s_in)
    return d[keep], np.minimum(s_in[keep], d[keep]), outcome[keep]


def _first_time(d: np.ndarray, entry: np.ndarray) -> float:
    return float(min(d.min(), entry.min())) if len(d) else 0.0


def at_risk_mask(d: np.ndarray, entry: np.ndarray, t: float, first: float) -> np.ndarray:
    """Subjects at risk at t: entered strictly before t (or at the data's first time,
    when entrants come before the events) and not yet ended before t."""
    entered = (entry < t) | ((entry == t) & (t == first))
    return entered & (d >= t)


@dataclass
class KaplanMeier:
    times: np.ndarray  # distinct event/censoring times (days), starting at 0
    survival: np.ndarray  # S(t) just after each time
    at_risk: np.ndarray
    events: np.ndarray
    median: float | None
    n: int = 0  # episodes followed (each enters the risk set at its entry time)
    lower: np.ndarray | None = None  # 95 % interval of S(t) (log-log, Greenwood)
    upper: np.ndarray | None = None
    median_lower: float | None = None  # 95 % interval of the median (None: not reached)
    median_upper: float | None = None

    def frame(self, min_at_risk: int = 0) -> pl.DataFrame:
        """The curve as a table; cut where fewer than ``min_at_risk`` are still followed."""
        out = pl.DataFrame(
            {
                "jours": self.times,
                "survie": self.survival,
                "a_risque": self.at_risk,
                "evenements": self.events,
                "survie_ic_bas": self.lower if self.lower is not None else self.survival,
                "survie_ic_haut": self.upper if self.upper is not None else self.survival,
            }
        )
        return out.filter(pl.col("a_risque") >= min_at_risk) if min_at_risk else out


def kaplan_meier(durations, observed, entry=None) -> KaplanMeier:
    """Product-limit estimator; ``observed`` False means censored at that duration.

    ``entry`` (left truncation, late entry): the time each subject entered the study
    (an episode that began before the first snapshot was only at risk from that
    snapshot on). A subject is at risk at t when entry < t <= duration, or entry = t
    at the very first time of the data (``at_risk_mask``: the convention of
    ``lifelines``, which the tests check against). Intervals: Greenwood's
    variance on the log(-log) scale; the median's interval is where the interval
    curves cross 1/2 (Brookmeyer-Crowley style, as ``lifelines``' median of the bands)."""
    d, s_in, e = _survival_inputs(durations, entry, np.asarray(observed, dtype=bool))
    times = np.unique(d)
    surv, at_risk, events, lower, upper = [], [], [], [], []
    s, greenwood = 1.0, 0.0
    z = 1.959963984540054
    first = _first_time(d, s_in)
    for t in times:
        n = int(at_risk_mask(d, s_in, t, first).sum())
        k = int(((d == t) & e).sum())
        if n:
            s *= 1 - k / n
            if k and n > k:
                greenwood += k / (n * (n - k))
        surv.append(s)
        at_risk.append(n)
        events.append(k)
        if 0 < s < 1 and greenwood > 0:
            se = math.sqrt(greenwood) / abs(math.log(s))
            lower.append(s ** math.exp(z * se))
            upper.append(s ** math.exp(-z * se))
        else:
            lower.append(s)
            upper.append(s)
    times_out = np.concatenate([[0.0], times])
    surv_out = np.concatenate([[1.0], surv])
    lower_out = np.concatenate([[1.0], lower])
    upper_out = np.concatenate([[1.0], upper])

    def first_below_half(curve: np.ndarray) -> float | None:
        below = np.where(curve <= 0.5)[0]
        return float(times_out[below[0]]) if len(below) else None

    start = int(at_risk_mask(d, s_in, 0.0, first).sum()) if len(d) else 0
    return KaplanMeier(
        times_out,
        surv_out,
        np.concatenate([[start], at_risk]),
        np.concatenate([[0], events]),
        first_below_half(surv_out),
        n=len(d),
        lower=lower_out,
        upper=upper_out,
        median_lower=first_below_half(lower_out),
        median_upper=first_below_half(upper_out),
    )


@dataclass
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of competing events (e.g. return vs withdrawal)."""

    times: np.ndarray  # distinct times (days), starting at 0
    at_risk: np.ndarray
    incidence: dict[str, np.ndarray]  # cause -> P(event of that cause by t)
    events: dict[str, np.ndarray]  # cause -> events at t
    n: int = 0

    def frame(self, min_at_risk: int = 0) -> pl.DataFrame:
        """Long table (jours, a_risque, cause, incidence, evenements), cut under ``min_at_risk``."""
        parts = [
            pl.DataFrame(
                {
                    "jours": self.times,
                    "a_risque": self.at_risk,
                    "cause": [cause] * len(self.times),
                    "incidence": self.incidence[cause],
                    "evenements": self.events[cause],
                }
            )
            for cause in self.incidence
        ]
        out = pl.concat(parts) if parts else pl.DataFrame()
        return out.filter(pl.col("a_risque") >= min_at_risk) if min_at_risk and parts else out

    def at(self, cause: str, day: float) -> float:
        """P(event of ``cause`` by ``day``)."""
        i = int(np.searchsorted(self.times, day, side="right")) - 1
        return float(self.incidence[cause][max(i, 0)])


def aalen_johansen(durations, causes, entry=None, names: dict[int, str] | None = None) -> CumulativeIncidence:
    """Cumulative incidence of each cause with competing risks and late entry.

    ``causes``: 0 censored, k > 0 the event that ended the subject (``names`` maps
    k to a label). With the overall event-free survival S (Kaplan-Meier, every
    cause an event) and, at each time t, n at risk (``at_risk_mask``, as in
    ``kaplan_meier``) and d_k events of cause k::

        CIF_k(t) = sum over t_j <= t of S(t_j-) * d_kj / n_j

    Tied times of different causes are handled together (each uses S(t_j-)); the
    tests check it against ``lifelines``' AalenJohansenFitter on untied data.
    """
    d, s_in, c = _survival_inputs(durations, entry, np.asarray(causes, dtype=int))
    kinds = sorted(k for k in set(c.tolist()) if k > 0) if names is None else sorted(names)
    label = {k: (names or {}).get(k, str(k)) for k in kinds}
    times = np.unique(d)
    s = 1.0
    cif = {k: 0.0 for k in kinds}
    first = _first_time(d, s_in)
    at_risk = [int(at_risk_mask(d, s_in, 0.0, first).sum()) if len(d) else 0]
    inc = {k: [0.0] for k in kinds}
    ev = {k: [0] for k in kinds}
    for t in times:
        n = int(at_risk_mask(d, s_in, t, first).sum())
        ended = (d == t) & (c > 0)
        total = 0
        for k in kinds:
            dk = int((ended & (c == k)).sum())
            if n:
                cif[k] += s * dk / n
            inc[k].append(cif[k])
            ev[k].append(dk)
            total += dk
        if n:
            s *= 1 - total / n
        at_risk.append(n)
    return CumulativeIncidence(
        np.concatenate([[0.0], times]),
        np.asarray(at_risk),
        {label[k]: np.asarray(inc[k]) for k in kinds},
        {label[k]: np.asarray(ev[k]) for k in kinds},
        n=len(d),
    )
