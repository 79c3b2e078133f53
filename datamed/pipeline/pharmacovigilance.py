"""Pharmacovigilance step of the build: read, link, compute, then protect.

Indicators are computed on the source counts; then ``_level_datasets`` protects
them before anything is written (docs/disclosure.md):

- organ-class crossings (organ class x age class or sex) are listed from the
  threshold (``ProtectionRule.published_floor``); organ-class counts are the sums
  of the listed age rows, so none of them is ever withheld;
- the joint suppression (``pipeline.suppression``) chooses the withheld counts
  over a substance's linked tables (cases and exposure by year, age class and sex,
  its total), all with the one status "masqué";
- every value computed from a withheld count is emptied with it;
- national series are sums of the published cells.

The prepared ``ei_*`` datasets hold protected values only, and the build's
independent audit (``datamed.audit``) checks them before they are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from datamed.core import disclosure, stats
from datamed.core.rule import MASK, ProtectionRule
from datamed.core.text import normalise
from datamed.core.vocabulary import AGE_CLASSES
from datamed.datasets import DS, pv_dataset, registry
from datamed.pipeline import suppression
from datamed.pipeline.pv_link import link_substances
from datamed.sources.pharmacovigilance import (
    PvFileError,
    PvRead,
    SocList,
    discover,
    inspect_columns,
    read_pv_file,
)
from datamed.sources.textfile import Reject

PV_DIR = "ansm_pharmacovigilance"
MAX_REJECT_SHARE = 0.05
SOC_FILE = "meddra/meddra_soc.csv"


@dataclass
class PvResult:
    datasets: dict[str, pl.DataFrame] = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    protection: dict[str, dict] = field(default_factory=dict)  # level -> suppression summary (counts of cells)


def slug(name: str) -> str:
    return normalise(name).replace(" ", "-")[:80] or "sans-nom"


def protect(df: pl.DataFrame, value: str, by: list[str], total: str | None, threshold: int) -> pl.DataFrame:
    """disclosure.protect_frame over the rows where ``value`` is known.

    Missing values (e.g. an exposure rejected as inconsistent) are not part of
    the breakdown: they stay null, with no masking status. ``total`` names a
    column with the group's published total; a group whose cells do not add up
    to it gets no additive constraint (the total cannot be used to subtract).
    """
    status = f"{value}_statut"
    df = df.with_row_index("_row")
    known = df.filter(pl.col(value).is_not_null())
    unknown = df.filter(pl.col(value).is_null()).with_columns(pl.lit(None, dtype=pl.String).alias(status))
    if total is not None and not known.is_empty():
        sums = known.group_by(by).agg(pl.col(value).sum().alias("_sum"))
        known = (
            known.join(sums, on=by, how="left")
            .with_columns(pl.when(pl.col("_sum") == pl.col(total)).then(pl.col(total)).otherwise(None).alias("_total"))
            .drop("_sum")
        )
    if known.is_empty():
        known = known.with_columns(pl.lit(None, dtype=pl.String).alias(status))
    else:
        known = disclosure.protect_frame(
            known, value, by, total="_total" if total is not None else None, threshold=threshold
        )
    out = pl.concat([known.drop("_total", strict=False), unknown], how="diagonal_relaxed").sort("_row")
    return out.drop("_row")


def mask_children(df: pl.DataFrame, value: str, parent_status: str) -> pl.DataFrame:
    """Children of a masked total are masked too (their sum would reveal it)."""
    status = f"{value}_statut"
    hide = pl.col(parent_status).is_not_null() & pl.col(status).is_null()
    return df.with_columns(
        pl.when(hide).then(None).otherwise(pl.col(value)).alias(value),
        pl.when(hide).then(pl.lit(MASK)).otherwise(pl.col(status)).alias(status),
    )


# columns derived from a count, masked with it: declared once, in the registry
SOC_MEASURES = list(registry.get(DS.EI_SOC).disclosure.derived["n_cas"])
RATES = ["taux", "taux_ic_bas", "taux_ic_haut"]


def _stratified(cases: pl.DataFrame, ids: pl.DataFrame, totals: pl.DataFrame, strata: list[str]) -> pl.DataFrame:
    """Cases and exposure of each substance by stratum, with rates and shares (true values)."""
    df = cases.join(ids, on="nom").drop("nom", "record")
    df = df.join(totals.select("ei_id", "n_cas_total"), on="ei_id", how="left")
    df = stats.add_rates(df)
    df = df.with_columns(stats.share(pl.col("n_cas"), pl.col("n_cas_total")).alias("part_cas"))
    return df.drop("n_cas_total").sort("ei_id", *strata)


def _withhold(frame: pl.DataFrame, table: str, withheld: set, keys: list[str]) -> pl.DataFrame:
    """Empty the withheld counts of ``frame`` and give them the one masking status."""
    cols = []
    rows = frame.select(keys).rows()
    for count in ("n_cas", "n_conso"):
        if count not in frame.columns:
            continue
        hide = pl.Series([(table, tuple(k), count) in withheld for k in rows], dtype=pl.Boolean)
        cols += [
            pl.when(pl.lit(hide)).then(None).otherwise(pl.col(count)).alias(count),
            pl.when(pl.lit(hide)).then(pl.lit(MASK)).otherwise(None).alias(f"{count}_statut"),
        ]
    return frame.with_columns(cols)


def _hide_where(frame: pl.DataFrame, columns: list[str], condition: pl.Expr) -> pl.DataFrame:
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns(pl.when(condition).then(None).otherwise(pl.col(c)).alias(c) for c in present)


def build_pharmacovigilance(raw: Path, threshold: int, bdpm_substances: pl.DataFrame) -> PvResult:
    """Read ``raw/ansm_pharmacovigilance`` and return masked datasets."""
    result = PvResult()
    folder = raw / PV_DIR
    if not folder.is_dir():
        return result
    soc_path = raw / SOC_FILE
    if soc_path.exists():
        socs = SocList.read(soc_path)
        if len(socs.by_key) != 27:
            raise PvFileError(f"{SOC_FILE}: expected the 27 MedDRA organ classes, found {len(socs.by_key)}")
    else:  # the SOC list is public and stable: fall back to the copy kept in the code
        socs = SocList.builtin()
        result.ignored.append(f"{SOC_FILE} absent: built-in list of the 27 MedDRA organ classes used")
    files, ignored = discover(folder)
    result.ignored += ignored
    reads: dict[tuple[str, str], PvRead] = {}
    for f in files:
        r = read_pv_file(f, socs)
        reads[(f.level, f.table)] = r
        result.rejects += r.rejects
        n_bad = len({x.line for x in r.rejects if "exposure set to missing" not in x.reason})
        if r.n_records and n_bad / r.n_records > MAX_REJECT_SHARE and n_bad > 2:
            first = next(x for x in r.rejects if "exposure set to missing" not in x.reason)
            raise PvFileError(
                f"{f.rel}, record {first.line}: {n_bad} of {r.n_records} records are malformed ({first.reason}); "
                "the file looks corrupted"
            )
        result.sources.append(
            {
                "path": f.rel,
                "source": "ANSM pharmacovigilance",
                "file": f.path.name,
                "dataset": f"ei_{f.table}",
                "lines": r.n_records,
                "rows": r.frame.height,
                "rejected": n_bad,
                "values_rejected": len(r.rejects) - n_bad,
                "path_obj": f.path,
            }
        )
    result.datasets[DS.SOC] = socs.frame()
    result.datasets[DS.EI_COLONNES] = pl.DataFrame(
        inspect_columns(list(reads.values())),
        schema={"fichier": pl.String, "colonne": pl.String, "statut": pl.String, "detail": pl.String},
    )
    for level in ("substance", "produit"):
        if (level, "annee") in reads:
            _level_datasets(result, reads, level, threshold, bdpm_substances if level == "substance" else None)
    return result


def _level_datasets(result: PvResult, reads, level: str, threshold: int, bdpm: pl.DataFrame | None) -> None:
    """The ``ei_*`` datasets of one level (substance or product), protected as a whole.

    1. true tables: cases and exposure by year, age and sex; organ-class crossings
       listed only from ``rule.published_floor`` (11) cases, organ-class counts as the
       sums of the listed age rows;
    2. joint suppression over all of them (``pipeline.suppression``): which counts
       are withheld, one status "masqué";
    3. every value computed from a withheld count is emptied with it; national series
       are sums of the published cells (they add no equation on a withheld one).
    """
    rule = replace(ProtectionRule.from_env(), threshold=threshold)

    def name(table: str) -> DS:
        return pv_dataset(level, table)

    annee = reads[(level, "annee")].frame
    names = sorted(set(annee["nom"]))
    ids = pl.DataFrame({"nom": names, "ei_id": [slug(n) for n in names]}).unique("ei_id", keep="first")

    # --- substance totals (true values)
    valid = annee.filter(pl.col("n_conso").is_not_null())
    totals = (
        annee.join(ids, on="nom")
        .group_by("ei_id", "nom")
        .agg(pl.col("n_cas").sum().alias("n_cas_total"), pl.col("strate").n_unique().alias("n_annees"))
        .join(
            valid.join(ids, on="nom")
            .group_by("ei_id")
            .agg(
                pl.col("n_cas").sum().alias("n_cas_expo"),
                pl.col("n_conso").sum().alias("n_conso_total"),
                pl.col("n_conso").mean().alias("patients_par_an"),
                pl.col("strate").n_unique().alias("n_annees_expo"),
            ),
            on="ei_id",
            how="left",
        )
    )
    true: dict[str, pl.DataFrame] = {
        DS.EI_SUBSTANCES: totals.select("ei_id", pl.col("n_cas_total").alias("n_cas")),
    }

    # --- by year, age, sex (true values)
    strata = {}
    for table, strata_name in (("annee", "annee"), ("age", "age"), ("sexe", "sexe")):
        if (level, table) not in reads:
            continue
        frame = reads[(level, table)].frame.rename({"strate": strata_name})
        if table == "annee":
            frame = frame.with_columns(pl.col("annee").cast(pl.Int16))
        strata[table] = strata_name
        result.datasets[name(table)] = _stratified(frame, ids, totals, [strata_name])
        true[pv_dataset("substance", table)] = result.datasets[name(table)]

    # --- organ classes: crossings listed from the published floor; counts = sums of age rows
    floor = rule.published_floor
    soc_frames = {}
    for table, strata_name in (("soclong_age", "age"), ("soclong_sexe", "sexe")):
        if (level, table) in reads:
            soc_frames[strata_name] = (
                reads[(level, table)]
                .frame.rename({"strate": strata_name})
                .join(ids, on="nom")
                .drop("nom", "record")
                .filter(pl.col("n_decla_eff") >= floor)
                .drop("n_cas", "pour_cas_source", strict=False)
                .rename({"n_decla_eff": "n_cas"})
            )
    counts = None
    if "age" in soc_frames:
        counts = (
            soc_frames["age"]
            .group_by("ei_id", "soc_code")
            .agg(pl.col("n_cas").sum().alias("a"))
            .join(totals.select("ei_id", pl.col("n_cas_total").alias("n")), on="ei_id")
            .with_columns(pl.min_horizontal("a", "n").alias("a"))
        )
        true[DS.EI_SOC] = counts.select("ei_id", "soc_code", pl.col("a").alias("n_cas"))
        for strata_name, frame in soc_frames.items():
            true[DS.of(f"ei_soc_{strata_name}")] = frame

    # --- joint suppression
    problem = suppression.problem_from_tables(true, rule)
    masked = suppression.choose(problem, rule)
    withheld = {problem.names[c] for c in masked.nonzero()[0] if not problem.hidden[c]}
    result.protection[level] = suppression.summary(problem, masked)

    head = _withhold(
        totals.with_columns(pl.col("n_cas_total").alias("n_cas"), pl.lit(level).alias("niveau")),
        DS.EI_SUBSTANCES,
        withheld,
        ["ei_id"],
    )
    total_ok = head.select("ei_id", pl.col("n_cas_statut").is_null().alias("_total_ok"))
    years_ok = None
    for table, strata_name in strata.items():
        frame = _withhold(
            result.datasets[name(table)], pv_dataset("substance", table), withheld, ["ei_id", strata_name]
        )
        frame = frame.join(total_ok, on="ei_id", how="left").with_columns(pl.col("_total_ok").fill_null(False))
        cases_hidden = pl.col("n_cas_statut").is_not_null()
        expo_hidden = pl.col("n_conso").is_null()  # withheld or blanked
        frame = _hide_where(frame, RATES, cases_hidden | expo_hidden)
        frame = _hide_where(frame, ["part_cas"], cases_hidden | ~pl.col("_total_ok")).drop("_total_ok")
        if table == "annee":
            years_ok = frame.group_by("ei_id").agg(
                (pl.col("n_cas_statut").is_null() & pl.col("n_conso_statut").is_null()).all().alias("_years_ok")
            )
        result.datasets[name(table)] = frame

    # --- the substance list, with headline indicators (each needs its inputs published)
    head = head.with_columns(
        stats.add_rates(
            head.select(pl.col("n_cas_expo").alias("n_cas"), pl.col("n_conso_total").alias("n_conso"))
        ).select(RATES)
    )
    head = head.with_columns(pl.col("patients_par_an").round(0))
    if years_ok is not None:
        head = head.join(years_ok, on="ei_id", how="left").with_columns(pl.col("_years_ok").fill_null(False))
    else:
        head = head.with_columns(pl.lit(False).alias("_years_ok"))
    head = _hide_where(
        head,
        [*RATES, "patients_par_an", "n_annees_expo"],
        pl.col("n_cas_statut").is_not_null() | ~pl.col("_years_ok") | (pl.col("patients_par_an") < threshold),
    ).drop("_years_ok")

    # --- organ classes: disproportionality against the substances whose total is published
    soc = None
    if counts is not None:
        shown = counts.join(total_ok, on="ei_id", how="left").filter(pl.col("_total_ok").fill_null(False))
        grand = int(head.filter(pl.col("n_cas_statut").is_null())["n_cas"].sum() or 0)
        measured = stats.disproportionality(shown.drop("_total_ok"), grand_total=grand)
        measured = measured.with_columns(stats.share(pl.col("a"), pl.col("n")).alias("part_cas"))
        measures = [m for m in SOC_MEASURES if not m.startswith("signal_")]
        soc = counts.select("ei_id", "soc_code", pl.col("a").alias("n_cas")).join(
            measured.select("ei_id", "soc_code", *measures, "signal_evans", "signal_ror", "signal_ic"),
            on=["ei_id", "soc_code"],
            how="left",
        )
        soc = soc.with_columns(pl.lit(None, dtype=pl.String).alias("n_cas_statut")).select(
            "ei_id", "soc_code", "n_cas", "n_cas_statut", *measures, "signal_evans", "signal_ror", "signal_ic"
        )
        result.datasets[name("soc")] = soc.sort("ei_id", "soc_code")
        for strata_name, frame in soc_frames.items():
            cells = frame.join(totals.select("ei_id", "n_cas_total"), on="ei_id").join(total_ok, on="ei_id", how="left")
            cells = cells.with_columns(
                pl.when(pl.col("_total_ok").fill_null(False))
                .then(stats.share(pl.col("n_cas"), pl.col("n_cas_total")))
                .otherwise(None)
                .alias("part_cas"),
                pl.lit(None, dtype=pl.String).alias("n_cas_statut"),
            )
            result.datasets[name(f"soc_{strata_name}")] = cells.select(
                "ei_id", "soc_code", strata_name, "n_cas", "n_cas_statut", "part_cas"
            ).sort("ei_id", "soc_code", strata_name)

    # --- notifier tables: internal (TYP_NOTIF is unusable, never shown or published).
    # Declarations of a stratum add up to its cases; a withheld stratum hides all its cells.
    for table, strata_name in (("notif_age", "age"), ("notif_sexe", "sexe")):
        if (level, table) in reads:
            frame = (
                reads[(level, table)].frame.rename({"strate": strata_name}).join(ids, on="nom").drop("nom", "record")
            )
            frame = protect(frame, "n_decla", ["ei_id", strata_name], None, threshold)
            parent = result.datasets.get(name(strata_name))
            if parent is not None:
                frame = frame.join(
                    parent.select("ei_id", strata_name, pl.col("n_cas_statut").alias("parent_statut")),
                    on=["ei_id", strata_name],
                    how="left",
                )
                frame = mask_children(frame, "n_decla", "parent_statut")
            frame = frame.with_columns(  # one status, as everywhere
                pl.when(pl.col("n_decla_statut").is_not_null()).then(pl.lit(MASK)).alias("n_decla_statut")
            )
            result.datasets[name(table)] = frame.select(
                "ei_id", strata_name, "typ_notif", "n_decla", "n_decla_statut"
            ).sort("ei_id", strata_name, "typ_notif")

    cols = [
        "ei_id",
        "nom",
        "niveau",
        "n_cas",
        "n_cas_statut",
        "patients_par_an",
        "n_annees_expo",
        "taux",
        "taux_ic_bas",
        "taux_ic_haut",
    ]
    if soc is not None:
        top = (
            soc.sort(["n_cas", "soc_code"], descending=[True, False])  # ties by code: the same order every build
            .group_by("ei_id", maintain_order=True)
            .agg(pl.col("soc_code").head(3).alias("soc_principales"))
        )
        head = head.join(top, on="ei_id", how="left")
        cols.append("soc_principales")
    result.datasets[name("substances")] = head.select(cols).sort("nom")

    # --- links to the BDPM (substances only)
    if bdpm is not None:
        links, unmatched = link_substances(names, bdpm)
        links = links.join(ids, on="nom", how="left")
        unmatched = unmatched.join(ids, on="nom", how="left").join(
            result.datasets[name("substances")].select("ei_id", "n_cas", "n_cas_statut"), on="ei_id", how="left"
        )
        result.datasets[DS.EI_LIENS] = links.select(
            "ei_id", "nom", "code_substance", "denomination_bdpm", "methode", "score"
        )
        result.datasets[DS.EI_NON_LIES] = unmatched.select("ei_id", "nom", "n_cas", "n_cas_statut", "suggestions")

    # --- national series over all substances (case-substance pairs): sums of the
    # published cells, so that they add no equation on a withheld one
    if level == "substance":
        nat = {}
        for table, strata_name in strata.items():
            g = (
                result.datasets[name(table)]
                .group_by(strata_name)
                .agg(pl.col("n_cas").fill_null(0).sum())
                .with_columns(pl.lit(None, dtype=pl.String).alias("n_cas_statut"))
            )
            g = g.with_columns(stats.share(pl.col("n_cas"), pl.col("n_cas").sum()).alias("part_cas"))
            nat[DS.of(f"ei_national_{table}")] = g.sort(strata_name)
        if soc is not None:
            g = soc.group_by("soc_code").agg(pl.col("n_cas").sum())
            g = g.with_columns(
                stats.share(pl.col("n_cas"), pl.lit(grand)).alias("part_cas"),
                pl.lit(None, dtype=pl.String).alias("n_cas_statut"),
            )
            nat[DS.EI_NATIONAL_SOC] = g.sort(["n_cas", "soc_code"], descending=[True, False], nulls_last=True)
        result.datasets.update(nat)


__all__ = ["AGE_CLASSES", "PvResult", "build_pharmacovigilance", "slug"]
