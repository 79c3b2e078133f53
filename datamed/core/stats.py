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

Also the Kaplan-Meier product-limit estimator of shortage durations.
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
    snapshot on). A subject is at risk at t when entry <= t <= duration (the
    convention of ``lifelines``, which the tests check against). Intervals: Greenwood's
    variance on the log(-log) scale; the median's interval is where the interval
    curves cross 1/2 (Brookmeyer-Crowley style, as ``lifelines``' median of the bands)."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    s_in = np.zeros(len(d)) if entry is None else np.asarray(entry, dtype=float)
    keep = ~np.isnan(d) & ~np.isnan(s_in)
    d, e, s_in = d[keep], e[keep], np.minimum(s_in[keep], d[keep])
    times = np.unique(d)
    surv, at_risk, events, lower, upper = [], [], [], [], []
    s, greenwood = 1.0, 0.0
    z = 1.959963984540054
    for t in times:
        n = int(((s_in <= t) & (d >= t)).sum())
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

    start = int(((s_in <= 0) & (d >= 0)).sum())
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
