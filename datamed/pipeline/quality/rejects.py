"""Checks of the "types" category: the lines each reader rejected and the values it
corrected, per raw file, with the readers' (English) reasons rendered in French."""

from __future__ import annotations

import polars as pl

from datamed.pipeline.quality.run import Run, empty_fails


def _is_correction(reason: pl.Expr) -> pl.Expr:
    """Value-level fixes (the row is kept): not rejected lines."""
    return reason.str.starts_with("corrected (row kept)") | reason.str.contains("row kept|set to missing|cases kept")


def check_rejects(run: Run) -> None:
    """Per raw file: lines the reader rejected, and values it corrected."""
    rejects = run.rejects
    if rejects is not None and not {"file", "line", "reason"} <= set(rejects.columns):
        rejects = None
    if rejects is not None:
        rejects = rejects.with_columns(pl.col("reason").cast(pl.String).fill_null(""))
        rejects = rejects.with_columns(
            pl.col("line").cast(pl.Int64),
            _reason_fr(rejects["reason"]).alias("_reason_fr"),
            _is_correction(pl.col("reason")).alias("_correction"),
            (pl.col("raw").cast(pl.String) if "raw" in rejects.columns else pl.lit("")).fill_null("").alias("_raw"),
        )
    # one row per check x dataset: the files of a dataset (availability snapshots,
    # the four site files...) are summed, and a failure names its file when there are several
    by_jeu: dict[str, list[dict]] = {}
    for entry in run.sources:
        by_jeu.setdefault(str(entry.get("dataset") or ""), []).append(entry)
    for jeu, entries in by_jeu.items():
        paths = list(dict.fromkeys(str(e.get("path") or "") for e in entries))
        lines = sum(int(e.get("lines") or 0) for e in entries)
        label = run.source_label(jeu, entries[0])
        mine = rejects.filter(pl.col("file").is_in(paths)) if rejects is not None else None
        several = len(paths) > 1
        for controle, corrections, gravite, description in (
            (
                "lignes_rejetees",
                False,
                "majeure",
                "Les lignes du fichier brut sont lues et typées sans rejet (nombre de champs, codes, dates, nombres).",
            ),
            (
                "valeurs_corrigees",
                True,
                "mineure",
                "Les valeurs du fichier brut sont utilisables sans correction (lignes conservées, valeur corrigée ou mise à vide).",
            ),
        ):
            if mine is None:
                fails = empty_fails()
            else:
                part = mine.filter(pl.col("_correction") == corrections).unique(
                    ["file", "line"], keep="first", maintain_order=True
                )
                detail = pl.col("_reason_fr").str.slice(0, 240)
                fails = part.select(
                    _raw_key(pl.col("_raw")).alias("cle"),
                    pl.col("line").alias("ligne"),
                    (pl.format("{} : {}", pl.col("file"), detail) if several else detail).alias("detail"),
                )
            run.record(
                controle, jeu, "types", gravite, description, lines, fails, fichier=", ".join(paths), source=label
            )


# the readers' reasons (English, in rejets) rendered in French for the report
REASONS_FR = (
    (r"corrected \(row kept\): ", "corrigé (ligne conservée) : "),
    (
        r"expected (\d+) tab-separated fields, found (\d+)",
        "${1} champs séparés par des tabulations attendus, ${2} trouvés",
    ),
    (r"expected (\d+) fields, found (\d+)", "${1} champs attendus, ${2} trouvés"),
    (r"invalid code (.+) in column (\w+)", "code invalide ${1} dans la colonne ${2}"),
    (r"unparseable date (.+) in column (\w+)", "date illisible ${1} dans la colonne ${2}"),
    (r"unparseable price (.+) in column (\w+)", "prix illisible ${1} dans la colonne ${2}"),
    (r"unparseable (\w+) (.+) in column (\w+)", "valeur illisible (${1}) ${2} dans la colonne ${3}"),
    (r"start date after the snapshot date \(in the future\)", "date de début postérieure à la date de l'instantané"),
    (
        r"update date after the snapshot date \(in the future\)",
        "date de mise à jour postérieure à la date de l'instantané",
    ),
    (r"return date before the start date", "date de remise à disposition antérieure à la date de début"),
    (
        r"cases greater than exposure: exposure set to missing for this cell, cases kept",
        "cas plus nombreux que les patients exposés : exposition mise à vide, cas conservés",
    ),
    (r"(n_\w+) missing", "${1} absent"),
    (r"(n_\w+) negative", "${1} négatif"),
    (r"(n_\w+) not an integer", "${1} non entier"),
    (r"n_decla_eff greater than n_cas", "n_decla_eff supérieur à n_cas"),
    (r"unknown SOC (.+)", "classe d'organes (SOC) inconnue ${1}"),
    (r"unknown kind \(operations (.+)\)", "type de site inconnu (opérations ${1})"),
    (r"malformed postal code (\S+): commune not found", "code postal mal formé ${1} : commune introuvable"),
    (r"malformed postal code (\S+): (.+) found by (.+)", "code postal mal formé ${1} : ${2} trouvée par ${3}"),
    (
        r"latitude and longitude swapped in the source \(([^)]*)\): corrected",
        "latitude et longitude inversées dans la source (${1}) : corrigées",
    ),
    (
        r"source coordinates \(([^)]*)\) are (\d+) km from the centroid of (.+) \((\w+)\): replaced by the centroid \((.+)\)",
        "coordonnées de la source (${1}) à ${2} km du centre de ${3} (${4}) : remplacées par ce centre (${5})",
    ),
    (
        r"source coordinates [^(]+\(([^)]*)\): discarded, placed by (.+)",
        "coordonnées de la source inutilisables (${1}) : ignorées, site placé par ${2}",
    ),
    (r"record is not an object", "l'enregistrement n'est pas un objet JSON"),
    (r"invalid ATC code or empty label", "code ATC invalide ou libellé vide"),
    (r"invalid ATC code or missing name", "code ATC invalide ou libellé absent"),
    (r"invalid INSEE or postal code", "code INSEE ou code postal invalide"),
    (r"feature without a département code or a polygon", "entité sans code de département ou sans polygone"),
    (r"unreadable CSV record \((.+)\)", "enregistrement CSV illisible (${1})"),
    (r"invalid country_iso3 (.+)", "code pays ISO3 invalide ${1}"),
    (r"invalid or duplicate country row", "ligne de pays invalide ou en double"),
    (r"country absent from the world file", "pays absent du fond de carte mondial"),
    (r"differs from the world file: ", "diffère du fond de carte mondial : "),
    (r"country (\w+) of the world file is missing here", "pays ${1} du fond de carte mondial absent de ce fichier"),
    (r"invalid year (.+)", "année invalide ${1}"),
    (r"count is not a non-negative integer: (.+)", "le nombre n'est pas un entier positif ou nul : ${1}"),
    (r"year (.+): expected an object of counts", "année ${1} : objet de comptes attendu"),
)


def _reason_fr(reasons: pl.Series) -> pl.Series:
    """French rendering of the readers' reasons (translated per distinct reason)."""
    distinct = reasons.unique().to_frame("reason")
    fr = pl.col("reason")
    for pattern, replacement in REASONS_FR:
        fr = fr.str.replace(pattern, replacement)
    mapping = distinct.with_columns(fr.alias("fr")).with_columns(
        pl.when(pl.col("fr") == pl.col("reason"))
        .then("motif du lecteur : " + pl.col("reason"))
        .otherwise(pl.col("fr"))
        .alias("fr")
    )
    return reasons.to_frame("reason").join(mapping, on="reason", how="left", maintain_order="left")["fr"]


def _raw_key(raw: pl.Expr) -> pl.Expr:
    """The key of a rejected raw line: first field (the CIS of a BDPM line),
    first value of a JSON record, else the first CSV field."""
    return (
        pl.when(raw.str.contains("\t"))
        .then(raw.str.split("\t").list.first())
        .when(raw.str.starts_with("{"))
        .then(raw.str.extract(r'^\{\s*"[^"]*"\s*:\s*"?([^",}]*)', 1))
        .otherwise(raw.str.extract(r"^([^,;]*)", 1))
        .str.strip_chars()
        .str.slice(0, 60)
    )
