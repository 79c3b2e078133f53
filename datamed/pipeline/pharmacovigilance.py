"""Pharmacovigilance step of the build: read, link, compute, then mask.

Indicators are computed on the source counts, then every count below the
disclosure threshold, and every figure that would reveal one, is masked here,
before anything is written. The prepared ``ei_*`` datasets hold masked values
only: no page, download or release can leak a small count.

Breakdowns protected (each one a partition of a published total):
- per substance: cases and exposure by year, by age class, by sex;
- per substance and SOC: {cases with an effect in the SOC, the other cases};
- per substance and SOC: cases by age class and by sex (children of the SOC
  total: all masked when the SOC total is masked);
- national series: the same over all substances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from datamed.core import disclosure, stats
from datamed.core.text import normalise
from datamed.core.vocabulary import AGE_CLASSES
from datamed.datasets import DS, pv_dataset, registry
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


def slug(name: str) -> str:
    return normalise(name).replace(" ", "-")[:80] or "sans-nom"


def _status_cols(value: str) -> list[str]:
    return [value, f"{value}_statut"]


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
        pl.when(hide).then(pl.lit(disclosure.SECONDARY)).otherwise(pl.col(status)).alias(status),
    )


TRUE = "_vrai_n_cas"  # true counts, kept while masking across tables, never written
# columns derived from a count, masked with it: declared once, in the registry
STRATUM_DERIVED = {"n_cas": list(registry.get(DS.EI_ANNEE).disclosure.derived["n_cas"])}
SOC_MEASURES = list(registry.get(DS.EI_SOC).disclosure.derived["n_cas"])


def cross_protect(df: pl.DataFrame, by: list[str], threshold: int, derived: list[str]) -> pl.DataFrame:
    """Complete the n_cas masking so that the cells of each ``by`` group (e.g. one
    year across all substances) are safe against their sum, which is published as
    a national figure; values derived from a newly masked count are hidden too."""
    status = disclosure.extend_statuses(df, TRUE, "n_cas_statut", by, threshold)
    df = df.with_columns(status).with_columns(
        pl.when(pl.col("n_cas_statut").is_null()).then(pl.col("n_cas")).otherwise(None).alias("n_cas")
    )
    derived = [c for c in derived if c in df.columns]
    return disclosure.mask_derived(df, derived, ["n_cas"]) if derived else df


def mask_keys(df: pl.DataFrame, keys: pl.DataFrame, derived: list[str]) -> pl.DataFrame:
    """Mask (secondary) the n_cas of the rows whose key is in ``keys``: a total whose
    breakdown cannot be protected at cell level."""
    if keys.is_empty():
        return df
    hit = df.join(keys.with_columns(pl.lit(True).alias("__hit")), on=keys.columns, how="left")["__hit"].fill_null(False)
    hide = pl.lit(hit) & pl.col("n_cas_statut").is_null()
    df = df.with_columns(
        pl.when(hide).then(pl.lit(disclosure.SECONDARY)).otherwise(pl.col("n_cas_statut")).alias("n_cas_statut"),
        pl.when(hide).then(None).otherwise(pl.col("n_cas")).alias("n_cas"),
    )
    derived = [c for c in derived if c in df.columns]
    return disclosure.mask_derived(df, derived, ["n_cas"]) if derived else df


def _stratified(
    cases: pl.DataFrame, ids: pl.DataFrame, totals: pl.DataFrame, threshold: int, strata: list[str]
) -> pl.DataFrame:
    """Cases and exposure of each substance by stratum, with rates; masked."""
    df = cases.join(ids, on="nom").drop("nom", "record")
    df = df.join(totals.select("ei_id", "n_cas_total", "n_conso_total"), on="ei_id", how="left")
    df = stats.add_rates(df)
    df = df.with_columns(
        stats.share(pl.col("n_cas"), pl.col("n_cas_total")).alias("part_cas"), pl.col("n_cas").alias(TRUE)
    )
    df = protect(df, "n_cas", ["ei_id"], "n_cas_total", threshold)
    df = protect(df, "n_conso", ["ei_id"], None, threshold)
    df = disclosure.mask_derived(df, ["taux", "taux_ic_bas", "taux_ic_haut"], ["n_cas", "n_conso"])
    df = disclosure.mask_derived(df, ["part_cas"], ["n_cas"])
    return df.drop("n_cas_total", "n_conso_total").sort("ei_id", *strata)


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
    def name(table: str) -> DS:
        return pv_dataset(level, table)

    annee = reads[(level, "annee")].frame
    names = sorted(set(annee["nom"]))
    ids = pl.DataFrame({"nom": names, "ei_id": [slug(n) for n in names]}).unique("ei_id", keep="first")

    # --- substance totals (raw, used for denominators; masked before writing)
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

    # --- by year, age, sex
    for table, strata_name in (("annee", "annee"), ("age", "age"), ("sexe", "sexe")):
        if (level, table) not in reads:
            continue
        frame = reads[(level, table)].frame.rename({"strate": strata_name})
        if table == "annee":
            frame = frame.with_columns(pl.col("annee").cast(pl.Int16))
        result.datasets[name(table)] = _stratified(frame, ids, totals, threshold, [strata_name])
    # a stratum across substances adds up to its national figure; a substance whose
    # strata cannot be protected against its total gets that total masked
    infeasible = []
    for table, strata_name in (("annee", "annee"), ("age", "age"), ("sexe", "sexe")):
        if name(table) not in result.datasets:
            continue
        df = cross_protect(result.datasets[name(table)], [strata_name], threshold, STRATUM_DERIVED["n_cas"])
        result.datasets[name(table)] = df
        with_total = df.join(totals.select("ei_id", "n_cas_total"), on="ei_id", how="left")
        infeasible.append(
            disclosure.unsafe_groups(with_total, TRUE, "n_cas_statut", ["ei_id"], "n_cas_total", threshold)
        )
    masked_totals = pl.concat(infeasible).unique() if infeasible else pl.DataFrame(schema={"ei_id": pl.String})

    # --- SOC totals = sum over age strata of cases with an effect in the SOC
    soc_frames = {}
    for table, strata_name in (("soclong_age", "age"), ("soclong_sexe", "sexe")):
        if (level, table) in reads:
            soc_frames[table] = (
                reads[(level, table)].frame.rename({"strate": strata_name}).join(ids, on="nom").drop("nom", "record")
            )
    soc = None
    if "soclong_age" in soc_frames:
        counts = (
            soc_frames["soclong_age"]
            .group_by("ei_id", "soc_code")
            .agg(pl.col("n_decla_eff").sum().alias("a"))
            .join(totals.select("ei_id", pl.col("n_cas_total").alias("n")), on="ei_id")
            .with_columns(pl.min_horizontal("a", "n").alias("a"))
        )
        soc = stats.disproportionality(counts, grand_total=int(totals["n_cas_total"].sum()))
        soc = soc.with_columns(stats.share(pl.col("a"), pl.col("n")).alias("part_cas"))
        # {a, n - a} partitions the substance's cases
        long = pl.concat(
            [
                soc.select("ei_id", "soc_code", pl.lit("avec").alias("cote"), pl.col("a").alias("v"), pl.col("n")),
                soc.select("ei_id", "soc_code", pl.lit("sans").alias("cote"), pl.col("b").alias("v"), pl.col("n")),
            ]
        )
        long = protect(long, "v", ["ei_id", "soc_code"], "n", threshold)
        masked = long.filter(pl.col("v_statut").is_not_null() & (pl.col("cote") == "avec")).select(
            "ei_id", "soc_code", pl.col("v_statut").alias("a_statut")
        )
        # the complement's status decides too: a is masked when n - a is small
        complement = long.filter(pl.col("v_statut").is_not_null() & (pl.col("cote") == "sans")).select(
            "ei_id", "soc_code", pl.lit(disclosure.SECONDARY).alias("b_statut")
        )
        soc = soc.join(masked, on=["ei_id", "soc_code"], how="left").join(
            complement, on=["ei_id", "soc_code"], how="left"
        )
        soc = soc.with_columns(pl.coalesce("a_statut", "b_statut").alias("n_cas_statut")).drop("a_statut", "b_statut")
        measures = [m for m in SOC_MEASURES if not m.startswith("signal_")]
        hide = pl.col("n_cas_statut").is_not_null()
        soc = soc.with_columns(
            [pl.when(hide).then(None).otherwise(pl.col(m)).alias(m) for m in measures]
            + [
                pl.when(hide).then(None).otherwise(pl.col(f)).alias(f)
                for f in ("signal_evans", "signal_ror", "signal_ic")
            ]
            + [pl.when(hide).then(None).otherwise(pl.col("a")).alias("n_cas")]
        ).select(
            "ei_id",
            "soc_code",
            "n_cas",
            "n_cas_statut",
            *measures,
            "signal_evans",
            "signal_ror",
            "signal_ic",
            pl.col("a").alias(TRUE),
        )  # b, c, d and n are never written: b = n - a would reveal a masked a
        result.datasets[name("soc")] = soc.sort("ei_id", "soc_code")

        for table, strata_name in (("soclong_age", "age"), ("soclong_sexe", "sexe")):
            if table not in soc_frames:
                continue
            cells = soc_frames[table].join(
                soc.select(
                    "ei_id", "soc_code", pl.col("n_cas").alias("soc_total"), pl.col("n_cas_statut").alias("soc_statut")
                ),
                on=["ei_id", "soc_code"],
                how="left",
            )
            cells = (
                cells.drop("n_cas", "pour_cas_source")
                .rename({"n_decla_eff": "n_cas"})
                .with_columns(pl.col("n_cas").alias(TRUE))
            )
            cells = protect(cells, "n_cas", ["ei_id", "soc_code"], None, threshold)
            cells = mask_children(cells, "n_cas", "soc_statut")
            cells = cells.join(totals.select("ei_id", "n_cas_total"), on="ei_id").with_columns(
                stats.share(pl.col("n_cas"), pl.col("n_cas_total")).alias("part_cas")
            )
            cells = disclosure.mask_derived(cells, ["part_cas"], ["n_cas"])
            result.datasets[name(f"soc_{strata_name}")] = cells.select(
                "ei_id", "soc_code", strata_name, "n_cas", "n_cas_statut", "part_cas", TRUE, "soc_total"
            ).sort("ei_id", "soc_code", strata_name)
        # organ classes whose age/sex cells cannot be protected get their count masked;
        # then each organ class across substances is protected against its national figure
        pairs = [
            disclosure.unsafe_groups(
                result.datasets[name(f"soc_{s}")], TRUE, "n_cas_statut", ["ei_id", "soc_code"], "soc_total", threshold
            )
            for s in ("age", "sexe")
            if name(f"soc_{s}") in result.datasets
        ]
        soc = result.datasets[name("soc")]
        if pairs:
            soc = mask_keys(soc, pl.concat(pairs).unique(), SOC_MEASURES)
        soc = cross_protect(soc, ["soc_code"], threshold, SOC_MEASURES)
        result.datasets[name("soc")] = soc
        for s in ("age", "sexe"):
            if name(f"soc_{s}") not in result.datasets:
                continue
            cells = (
                result.datasets[name(f"soc_{s}")]
                .drop("soc_total")
                .join(
                    soc.select("ei_id", "soc_code", pl.col("n_cas_statut").alias("soc_statut")),
                    on=["ei_id", "soc_code"],
                    how="left",
                )
            )
            cells = disclosure.mask_derived(mask_children(cells, "n_cas", "soc_statut"), ["part_cas"], ["n_cas"])
            result.datasets[name(f"soc_{s}")] = cells.drop("soc_statut")

    # --- notifier tables: counts only, TYP_NOTIF is unusable (never charted).
    # Declarations of a stratum add up to its cases: each (substance, stratum)
    # is a breakdown whose sum counts as published, and a masked stratum hides
    # all its cells.
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
            result.datasets[name(table)] = frame.select(
                "ei_id", strata_name, "typ_notif", "n_decla", "n_decla_statut"
            ).sort("ei_id", strata_name, "typ_notif")

    # --- the substance list, with headline indicators (masked)
    head = totals.with_columns(
        stats.add_rates(
            totals.select(pl.col("n_cas_expo").alias("n_cas"), pl.col("n_conso_total").alias("n_conso"))
        ).select("taux", "taux_ic_bas", "taux_ic_haut")
    )
    head = head.with_columns(
        pl.col("n_cas_total").alias("n_cas"), pl.col("n_cas_total").alias(TRUE), pl.lit(level).alias("niveau")
    )
    head = protect(head, "n_cas", ["ei_id"], None, threshold)
    head = mask_keys(head, masked_totals, [])
    head = cross_protect(head, [], threshold, [])  # substances add up to the national total
    head = head.with_columns(
        pl.when(pl.col("patients_par_an") < threshold)
        .then(None)
        .otherwise(pl.col("patients_par_an").round(0))
        .alias("patients_par_an"),
    )
    head = disclosure.mask_derived(head, ["taux", "taux_ic_bas", "taux_ic_haut"], ["n_cas"])
    # the headline rate leaves out the years without a valid exposure; their
    # cases are total - (rate x exposure): hide the rate if one of them is masked
    if name("annee") in result.datasets:
        leaky = (
            result.datasets[name("annee")]
            .filter(
                pl.col("n_conso").is_null() & pl.col("n_conso_statut").is_null() & pl.col("n_cas_statut").is_not_null()
            )
            .select("ei_id")
            .unique()
        )
        head = head.with_columns(
            [
                pl.when(pl.col("ei_id").is_in(leaky["ei_id"].implode())).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("taux", "taux_ic_bas", "taux_ic_haut")
            ]
        )
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
            result.datasets[name("soc")]
            .filter(pl.col("n_cas").is_not_null())
            .sort("n_cas", descending=True)
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

    # --- national series over all substances (case-substance pairs)
    if level == "substance":
        nat = {}
        for table, strata_name in (("annee", "annee"), ("age", "age"), ("sexe", "sexe")):
            if (level, table) in reads:
                f = reads[(level, table)].frame.rename({"strate": strata_name})
                g = f.group_by(strata_name).agg(pl.col("n_cas").sum())
                g = protect(g.with_columns(pl.lit("fr").alias("pays")), "n_cas", ["pays"], None, threshold).drop("pays")
                g = g.with_columns(stats.share(pl.col("n_cas"), pl.col("n_cas").sum()).alias("part_cas"))
                nat[DS.of(f"ei_national_{table}")] = g.sort(strata_name)
        if soc is not None:
            raw_soc = counts.group_by("soc_code").agg(pl.col("a").sum().alias("n_cas"))
            grand = totals["n_cas_total"].sum()
            g = raw_soc.with_columns(stats.share(pl.col("n_cas"), pl.lit(grand)).alias("part_cas"))
            g = protect(g.with_columns(pl.lit("fr").alias("pays")), "n_cas", ["pays"], None, threshold).drop("pays")
            g = disclosure.mask_derived(g, ["part_cas"], ["n_cas"])
            nat[DS.EI_NATIONAL_SOC] = g.sort(["n_cas", "soc_code"], descending=[True, False], nulls_last=True)
        result.datasets.update(nat)
    for ds_name, frame in result.datasets.items():
        if TRUE in frame.columns:
            result.datasets[ds_name] = frame.drop(TRUE)


__all__ = ["AGE_CLASSES", "PvResult", "build_pharmacovigilance", "slug"]
