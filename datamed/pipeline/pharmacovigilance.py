"""Pharmacovigilance step of the build: read, link, compute, then protect.

Indicators are computed on the source counts; then ``_level_datasets`` protects
them before anything is written (docs/disclosure.md):

- organ-class crossings (organ class x age class or sex) are listed from the
  threshold (``ProtectionRule.published_floor``); an organ-class count is the larger
  of the sums of its listed age rows and of its listed sex rows (a lower bound of its
  cases), so none of them is ever withheld;
- active moieties (``pipeline.moieties``) pool the cases and exposure of a substance's
  salts and forms; their cells are sums of the substances' cells, in the same
  suppression problem;
- rates use the years whose exposure is plausible only (``core.exposure``);
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

from datamed.core import disclosure, exposure, stats
from datamed.core.moieties import FRACTION_PREFIX
from datamed.core.moieties import normalise as moiety_key
from datamed.core.rule import MASK, ProtectionRule
from datamed.core.text import normalise
from datamed.core.vocabulary import AGE_CLASSES
from datamed.datasets import DS, pv_dataset, registry
from datamed.pipeline import suppression
from datamed.pipeline.moieties import moieties
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


def _with_measures(frame: pl.DataFrame, totals: pl.DataFrame, key: str, stratum: str) -> pl.DataFrame:
    """Cases and exposure of each unit (``key``: a substance or a moiety) by stratum,
    with rates and shares against its total (true values)."""
    df = frame.join(totals.select(key, "n_cas_total"), on=key, how="left")
    df = stats.add_rates(df)
    df = df.with_columns(stats.share(pl.col("n_cas"), pl.col("n_cas_total")).alias("part_cas"))
    return df.drop("n_cas_total").sort(key, stratum)


def _stratified(cases: pl.DataFrame, ids: pl.DataFrame, totals: pl.DataFrame, stratum: str) -> pl.DataFrame:
    """A substance-level table as read (``nom``), with rates and shares (true values)."""
    return _with_measures(cases.join(ids, on="nom").drop("nom", "record"), totals, "ei_id", stratum)


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


MEMBERS_SCHEMA = {
    "ei_id": pl.String,
    "fraction_id": pl.String,
    "fraction": pl.String,
    "regle": pl.String,
    "doublon": pl.Boolean,  # its cases are another form's (identical series): counted once
}
FRACTION_TABLES = {"annee": DS.EI_FRACTIONS_ANNEE, "age": DS.EI_FRACTIONS_AGE, "sexe": DS.EI_FRACTIONS_SEXE}


def _totals(flags: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per ``key``: all cases (``n_cas_total``), and the cases, exposure, mean yearly
    exposure and number of the years whose exposure passes ``core.exposure`` (true values)."""
    ok = pl.col("expo_motif").is_null()
    return flags.group_by(key).agg(
        pl.col("n_cas").sum().alias("n_cas_total"),
        pl.col("annee").n_unique().alias("n_annees"),
        pl.col("n_cas").filter(ok).sum().alias("n_cas_expo"),
        pl.col("n_conso").filter(ok).sum().alias("n_conso_total"),
        pl.col("n_conso").filter(ok).mean().alias("consommants_par_an"),
        ok.sum().cast(pl.Int64).alias("n_annees_expo"),
        pl.col("expo_motif").alias("_motifs"),
    )


def _active_names(names: list[str], ids: pl.DataFrame, compo: pl.DataFrame | None, bdpm: pl.DataFrame | None):
    """Each substance's active moiety (``pipeline.moieties``), and the moiety's name as the
    BDPM spells it when it has it (accents), else as the rules give it."""
    table = moieties(names, compo).join(ids, left_on="name", right_on="nom")
    spelling: dict[str, str] = {}
    if bdpm is not None and not bdpm.is_empty():
        for name in sorted(set(bdpm["denomination_substance"].drop_nulls())):
            spelling.setdefault(moiety_key(name), name)  # sorted: the same spelling every build
    return table, spelling


def _members(table: pl.DataFrame, spelling: dict[str, str], series: pl.DataFrame) -> pl.DataFrame:
    """The substances that share their active moiety with at least one other: ``ei_id``,
    ``fraction_id``, ``fraction`` (its spelling), ``regle``, and ``doublon`` for a form
    whose cases are another form's of the same moiety (identical series: the same
    reports, given to each salt; counted once, its exposure still added)."""
    table = table.filter(pl.len().over("moiety") > 1)
    if table.is_empty():
        return pl.DataFrame(schema=MEMBERS_SCHEMA)
    rows = []
    counted: set[tuple[str, str]] = set()  # (moiety, series group) already counted
    group_of = dict(series.select("ei_id", "groupe_id").rows())
    for ei_id, key, regle in table.sort("ei_id").select("ei_id", "moiety", "regle").rows():
        group = group_of.get(ei_id)
        twin = group is not None and (key, group) in counted
        if group is not None:
            counted.add((key, group))
        rows.append(
            (ei_id, FRACTION_PREFIX + slug(key), spelling.get(key, key), "bdpm" if regle == "bdpm" else "nom", twin)
        )
    return pl.DataFrame(rows, schema=MEMBERS_SCHEMA, orient="row").sort("fraction_id", "ei_id")


def _pooled(frame: pl.DataFrame, members: pl.DataFrame, stratum: str) -> pl.DataFrame:
    """Cases and exposure of each active moiety by stratum: sums over its members (true
    values). The exposure sums the file's values, including those the reader emptied
    because a salt's cases exceeded them (cases and exposure coded to different salts:
    the moiety is where they meet); it is left empty if a member's is absent from the file."""
    return (
        frame.join(members.select("ei_id", "fraction_id", "doublon"), on="ei_id")
        .group_by("fraction_id", stratum)
        .agg(
            pl.col("n_cas").filter(~pl.col("doublon")).sum(),
            pl.when(pl.col("n_conso_source").is_null().any())
            .then(None)
            .otherwise(pl.col("n_conso_source").sum())
            .alias("n_conso"),
        )
        .sort("fraction_id", stratum)
    )


FRACTION_HEAD_SCHEMA = {
    "fraction_id": pl.String,
    "fraction": pl.String,
    "n_substances": pl.Int64,
    "n_cas": pl.Int64,
    "n_cas_statut": pl.String,
    "consommants_par_an": pl.Float64,
    "n_annees_expo": pl.Int64,
    "taux": pl.Float64,
    "taux_ic_bas": pl.Float64,
    "taux_ic_haut": pl.Float64,
    "motif_sans_taux": pl.String,
}
# the exposure rules an alert can name (an empty exposure is listed with the rejected lines)
ALERT_MOTIFS = ("cas_superieurs", "minimum", "population", "saut")


def _protect_unit(
    key: str,
    head_table: DS,
    totals: pl.DataFrame,
    frames: dict[str, tuple[DS, pl.DataFrame]],
    flags: pl.DataFrame,
    withheld: set,
    threshold: int,
    salts: set[str],
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame]:
    """One unit (substance or active moiety) as published: the withheld counts emptied
    with every value computed from them, rates only from plausible exposure.

    - a stratum's rate needs its cases and exposure published; a year's, its exposure
      passing ``core.exposure``; an age or sex class's, every year of the unit passing
      (the class sums them all) and its own exposure passing the cell rules;
    - the headline rate pools the plausible years, and needs every year published;
    - a salt of a moiety (``salts``) gets no rate: its cases and exposure can be coded to
      different names; its moiety has the rate;
    - ``motif_sans_taux`` says why a unit with published years has no rate.

    Returns the head, the stratified frames, and the flagged years whose exposure is
    published (the Qualité page lists them)."""
    head = _withhold(totals.with_columns(pl.col("n_cas_total").alias("n_cas")), head_table, withheld, [key])
    total_ok = head.select(key, pl.col("n_cas_statut").is_null().alias("_total_ok"))
    flagged = flags.group_by(key).agg(pl.col("expo_motif").is_not_null().any().alias("_flagged"))
    salt = pl.col(key).is_in(sorted(salts))
    out: dict[str, pl.DataFrame] = {}
    years_ok = None
    alerts = pl.DataFrame(schema={key: pl.String, "annee": pl.Int16, "expo_motif": pl.String})
    for stratum, (table, frame) in frames.items():
        frame = _withhold(frame, table, withheld, [key, stratum])
        frame = frame.join(total_ok, on=key, how="left").with_columns(pl.col("_total_ok").fill_null(False))
        if stratum == "annee":
            frame = frame.join(flags.select(key, "annee", "expo_motif"), on=[key, "annee"], how="left")
            implausible = pl.col("expo_motif").is_not_null()
        else:  # the class sums every year: all must pass, and the class's own exposure too
            frame = frame.join(flagged, on=key, how="left").join(
                totals.select(key, pl.col("n_annees").alias("_years")), on=key, how="left"
            )
            implausible = pl.col("_flagged").fill_null(True) | exposure.implausible_cell(
                pl.col("n_cas"), pl.col("n_conso"), pl.col("_years").fill_null(1)
            )
        cases_hidden = pl.col("n_cas_statut").is_not_null()
        expo_hidden = pl.col("n_conso").is_null()  # withheld or blanked
        frame = _hide_where(frame, RATES, cases_hidden | expo_hidden | implausible | salt)
        frame = _hide_where(frame, ["part_cas"], cases_hidden | ~pl.col("_total_ok"))
        if stratum == "annee":
            years_ok = frame.group_by(key).agg(  # every count of every year in clear (none withheld or empty)
                (
                    pl.col("n_cas_statut").is_null()
                    & pl.col("n_conso_statut").is_null()
                    & pl.col("n_cas").is_not_null()
                    & pl.col("n_conso").is_not_null()
                )
                .all()
                .alias("_years_ok")
            )
            alerts = frame.filter(pl.col("expo_motif").is_in(ALERT_MOTIFS) & pl.col("n_conso").is_not_null()).select(
                key, "annee", "expo_motif"
            )
        out[stratum] = frame.drop("_total_ok", "_flagged", "_years", "expo_motif", "n_conso_source", strict=False)

    head = head.with_columns(
        stats.add_rates(
            head.select(pl.col("n_cas_expo").alias("n_cas"), pl.col("n_conso_total").alias("n_conso"))
        ).select(RATES)
    )
    head = head.with_columns(pl.col("consommants_par_an").round(0))
    if years_ok is not None:
        head = head.join(years_ok, on=key, how="left").with_columns(pl.col("_years_ok").fill_null(False))
    else:
        head = head.with_columns(pl.lit(False).alias("_years_ok"))
    published = pl.col("n_cas_statut").is_null() & pl.col("_years_ok")
    reasons = pl.DataFrame(
        [(k, exposure.headline_reason(list(m))) for k, m in head.select(key, "_motifs").rows()],
        schema={key: pl.String, "_reason": pl.String},
        orient="row",
    )
    head = head.join(reasons, on=key, how="left").with_columns(
        pl.when(salt)
        .then(pl.lit("sel"))
        .when(published & (pl.col("n_annees_expo") == 0))
        .then(pl.col("_reason"))
        .otherwise(None)
        .alias("motif_sans_taux")
    )
    head = _hide_where(
        head,
        [*RATES, "consommants_par_an", "n_annees_expo"],
        ~published | (pl.col("consommants_par_an") < threshold),
    )
    head = _hide_where(head, RATES, salt | (pl.col("n_annees_expo") == 0))
    return head.drop("_years_ok", "_motifs", "_reason"), out, alerts


SERIES_SCHEMA = {"ei_id": pl.String, "groupe_id": pl.String, "n_substances": pl.Int64}
SERIES_MIN_CELLS = 3  # non-zero cells (year, age, sex) below which two equal series may be chance


def _identical_series(frames: dict[str, pl.DataFrame], strata: dict[str, str], threshold: int) -> pl.DataFrame:
    """Substances whose cases are the same in every year, age class and sex: the
    components of one product (the serotypes of a vaccine, a fixed combination), each
    given the product's reports. Kept when the series has at least ``threshold`` cases
    and ``SERIES_MIN_CELLS`` non-zero cells (equal by design, not by chance).
    ``groupe_id`` is ``groupe-`` + the first member's id."""
    vectors: dict[str, list] = {}
    for table, stratum in strata.items():
        for i, s, n in frames[table].select("ei_id", stratum, "n_cas").iter_rows():
            vectors.setdefault(i, []).append((table, str(s), n))
    groups: dict[tuple, list[str]] = {}
    for i, cells in vectors.items():
        years = [n for t, _s, n in cells if t == "annee"]
        if sum(years) >= threshold and sum(1 for *_k, n in cells if n) >= SERIES_MIN_CELLS:
            groups.setdefault(tuple(sorted(cells)), []).append(i)
    rows = []
    for members in groups.values():
        if len(members) > 1:
            members = sorted(members)
            rows += [(i, "groupe-" + members[0], len(members)) for i in members]
    return pl.DataFrame(rows, schema=SERIES_SCHEMA, orient="row").sort("groupe_id", "ei_id")


def build_pharmacovigilance(
    raw: Path, threshold: int, bdpm_substances: pl.DataFrame, compositions: pl.DataFrame | None = None
) -> PvResult:
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
            bdpm = bdpm_substances if level == "substance" else None
            _level_datasets(result, reads, level, threshold, bdpm, compositions)
    return result


def _level_datasets(
    result: PvResult, reads, level: str, threshold: int, bdpm: pl.DataFrame | None, compo: pl.DataFrame | None
) -> None:
    """The ``ei_*`` datasets of one level (substance or product), protected as a whole.

    1. true tables: cases and exposure by year, age and sex; organ-class crossings
       listed only from ``rule.published_floor`` (11) cases, organ-class counts as the
       larger of the sums of the listed age rows and sex rows; active moieties as sums
       of their substances;
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

    # --- substance totals (true values); the exposure of a rate only from plausible years
    annee_true = annee.join(ids, on="nom").select(
        "ei_id", pl.col("strate").cast(pl.Int16).alias("annee"), "n_cas", "n_conso"
    )
    flags = exposure.flag_years(annee_true, "ei_id")
    totals = _totals(flags, "ei_id").join(ids, on="ei_id")
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
        result.datasets[name(table)] = _stratified(frame, ids, totals, strata_name)
        true[pv_dataset("substance", table)] = result.datasets[name(table)]

    # --- identical case series (one product's components): equal cells, one background entry
    series = pl.DataFrame(schema=SERIES_SCHEMA)
    if level == "substance" and strata:
        series = _identical_series({t: result.datasets[name(t)] for t in strata}, strata, threshold)
        true[DS.EI_SERIES_IDENTIQUES] = series

    # --- active moieties: salts and forms pooled (substance level, with the BDPM composition)
    members = pl.DataFrame(schema=MEMBERS_SCHEMA)
    fraction_flags = pl.DataFrame(schema={"fraction_id": pl.String, "annee": pl.Int16, "expo_motif": pl.String})
    fraction_totals = None
    if level == "substance":
        active, spelling = _active_names(names, ids, compo, bdpm)
        members = _members(active, spelling, series)
        # a substance alone under its moiety (clavulanate de potassium: acide clavulanique)
        # is found under the moiety's name too
        moiety_names = active.filter(pl.col("regle") != "identique").select(
            "ei_id", pl.col("moiety").replace_strict(spelling, default=pl.col("moiety")).alias("fraction")
        )
        totals = totals.join(moiety_names, on="ei_id", how="left")
        true[DS.EI_FRACTIONS_MEMBRES] = members
        for table, strata_name in strata.items():
            true[FRACTION_TABLES[table]] = _pooled(result.datasets[name(table)], members, strata_name)
        pooled_years = true.get(DS.EI_FRACTIONS_ANNEE)
        if pooled_years is not None:
            fraction_flags = exposure.flag_years(
                pooled_years.select("fraction_id", "annee", "n_cas", "n_conso"), "fraction_id"
            )
            fraction_totals = _totals(fraction_flags, "fraction_id")
            true[DS.EI_FRACTIONS] = fraction_totals.select("fraction_id", pl.col("n_cas_total").alias("n_cas"))

    # --- organ classes: crossings listed from the published floor; counts = the larger sum
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
    if soc_frames:
        # the source leaves out rows under its floor, so the age rows and the sex rows of an
        # organ class each add up to a lower bound of its cases: the larger one is kept
        sums = [
            frame.group_by("ei_id", "soc_code").agg(pl.col("n_cas").sum().alias(f"a_{strata_name}"))
            for strata_name, frame in soc_frames.items()
        ]
        counts = sums[0]
        for other in sums[1:]:
            counts = counts.join(other, on=["ei_id", "soc_code"], how="full", coalesce=True)
        counts = (
            counts.with_columns(pl.max_horizontal(*[c for c in counts.columns if c.startswith("a_")]).alias("a"))
            .join(totals.select("ei_id", pl.col("n_cas_total").alias("n")), on="ei_id")
            .with_columns(pl.min_horizontal("a", "n").alias("a"))
            .select("ei_id", "soc_code", "a", "n")
        )
        true[DS.EI_SOC] = counts.select("ei_id", "soc_code", pl.col("a").alias("n_cas"))
        for strata_name, frame in soc_frames.items():
            true[DS.of(f"ei_soc_{strata_name}")] = frame

    # --- joint suppression
    problem = suppression.problem_from_tables(true, rule)
    masked = suppression.choose(problem, rule)
    withheld = {problem.names[c] for c in masked.nonzero()[0] if not problem.hidden[c]}
    result.protection[level] = suppression.summary(problem, masked)

    salts = set(members["ei_id"]) if level == "substance" else set()
    frames = {st: (pv_dataset("substance", t), result.datasets[name(t)]) for t, st in strata.items()}
    head, published, alerts = _protect_unit(
        "ei_id", DS.EI_SUBSTANCES, totals, frames, flags, withheld, threshold, salts
    )
    head = head.with_columns(pl.lit(level).alias("niveau"))
    for table, strata_name in strata.items():
        result.datasets[name(table)] = published[strata_name]
    total_ok = head.select("ei_id", pl.col("n_cas_statut").is_null().alias("_total_ok"))
    alert_frames = [
        alerts.join(ids, on="ei_id").select(
            pl.lit("substance").alias("niveau"), pl.col("ei_id").alias("id"), "nom", "annee", "expo_motif"
        )
    ]

    # --- active moieties, protected with the substances (their cells are sums of them)
    if level == "substance":
        result.datasets[DS.EI_SERIES_IDENTIQUES] = series
        result.datasets[DS.EI_FRACTIONS_MEMBRES] = members.select("ei_id", "fraction_id", "regle", "doublon")
        names_of = members.unique("fraction_id").select("fraction_id", "fraction")
        sizes = members.group_by("fraction_id").agg(pl.len().cast(pl.Int64).alias("n_substances"))
        fhead = pl.DataFrame(schema=FRACTION_HEAD_SCHEMA)
        fframes = {}
        if fraction_totals is not None:
            totals_f = fraction_totals.select(pl.all())
            frames_f = {
                st: (FRACTION_TABLES[t], _with_measures(true[FRACTION_TABLES[t]], totals_f, "fraction_id", st))
                for t, st in strata.items()
            }
            fhead, fframes, falerts = _protect_unit(
                "fraction_id", DS.EI_FRACTIONS, totals_f, frames_f, fraction_flags, withheld, threshold, set()
            )
            fhead = fhead.join(names_of, on="fraction_id").join(sizes, on="fraction_id")
            alert_frames.append(
                falerts.join(names_of, on="fraction_id").select(
                    pl.lit("fraction").alias("niveau"),
                    pl.col("fraction_id").alias("id"),
                    pl.col("fraction").alias("nom"),
                    "annee",
                    "expo_motif",
                )
            )
        result.datasets[DS.EI_FRACTIONS] = fhead.select(list(FRACTION_HEAD_SCHEMA)).sort("fraction_id")
        for table, strata_name in strata.items():
            frame = fframes.get(strata_name)
            if frame is None:
                frame = _with_measures(true[FRACTION_TABLES[table]], fraction_totals, "fraction_id", strata_name)
            result.datasets[FRACTION_TABLES[table]] = frame.select(
                "fraction_id", strata_name, "n_cas", "n_cas_statut", "n_conso", "n_conso_statut", *RATES, "part_cas"
            ).sort("fraction_id", strata_name)
        result.datasets[DS.EI_EXPOSITION_ALERTES] = pl.concat(alert_frames).sort("niveau", "id", "annee")

    # --- organ classes: disproportionality against the substances whose total is published
    soc = None
    if counts is not None:
        shown = counts.join(total_ok, on="ei_id", how="left").filter(pl.col("_total_ok").fill_null(False))
        # the background: substances with a published total and organ-class data (one
        # without any listed organ class would count as "no case in any class")
        # one product's components (identical case series) count once: the first member
        # stands for the group, and its measures are every member's
        twins = series.filter(pl.col("ei_id") != pl.col("groupe_id").str.strip_prefix("groupe-"))
        alias = dict(twins.select("ei_id", pl.col("groupe_id").str.strip_prefix("groupe-")).rows())
        with_soc = [i for i in counts["ei_id"].unique().to_list() if i not in alias]
        grand = int(head.filter(pl.col("n_cas_statut").is_null() & pl.col("ei_id").is_in(with_soc))["n_cas"].sum() or 0)
        measured = stats.disproportionality(
            shown.filter(~pl.col("ei_id").is_in(list(alias))).drop("_total_ok"), grand_total=grand
        )
        if alias:
            copies = (
                pl.DataFrame(
                    {"ei_id": list(alias), "_rep": list(alias.values())}, schema={"ei_id": pl.String, "_rep": pl.String}
                )
                .join(measured.rename({"ei_id": "_rep"}), on="_rep")
                .drop("_rep")
            )
            published_twins = shown.filter(pl.col("ei_id").is_in(list(alias))).select("ei_id", "soc_code")
            measured = pl.concat(
                [measured, copies.join(published_twins, on=["ei_id", "soc_code"])], how="diagonal_relaxed"
            )
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
        "consommants_par_an",
        "n_annees_expo",
        "taux",
        "taux_ic_bas",
        "taux_ic_haut",
        "motif_sans_taux",
    ]
    if "fraction" in head.columns:  # the active moiety's name, when it is not the substance's own
        cols.append("fraction")
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
