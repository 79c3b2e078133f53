"""Checks of the "plausibilité" category: usable pharmacovigilance columns, prices
within bounds and consistent, allowed values, official status wordings, plausible
coordinates."""

from __future__ import annotations

import polars as pl

from datamed.datasets import DS
from datamed.pipeline.episodes import resolved_statuses
from datamed.pipeline.quality.run import Run, is_list, key_expr, line_expr, row_key

PRICE_MAX = 1_000_000.0  # euros: above this a price is absurd
REIMBURSEMENT_RATES = (15, 30, 65, 100)
PRICE_COLUMNS = ("prix_medicament_euro", "prix_public_euro", "honoraires_dispensation_euro")


def check_pv_columns(run: Run) -> None:
    description = "Chaque colonne du fichier de pharmacovigilance est exploitable (aucune colonne jugée inutilisable à l'inspection)."
    cols = run.datasets.get(DS.EI_COLONNES)
    pv_entries = {str(s.get("path")): s for s in run.sources if str(s.get("dataset") or "").startswith("ei_")}
    if cols is None or cols.is_empty() or not {"fichier", "colonne", "statut"} <= set(cols.columns):
        run.na(
            "pv_colonnes",
            DS.EI_COLONNES,
            "plausibilité",
            "majeure",
            description,
            fichier="",
            source="Pharmacovigilance",
        )
        return
    cols = cols.with_columns(
        (pl.col("detail").cast(pl.String).fill_null("") if "detail" in cols.columns else pl.lit("")).alias("detail"),
        pl.col("fichier").cast(pl.String).fill_null(""),
    )
    jeux = {path: str(entry["dataset"]) for path, entry in pv_entries.items()}
    cols = cols.with_columns(
        pl.col("fichier").replace_strict(jeux, default=DS.EI_COLONNES, return_dtype=pl.String).alias("_jeu")
    )
    # one row per check x dataset (two files may feed one dataset, e.g. ei_annee)
    for (jeu,), part in cols.group_by("_jeu", maintain_order=True):
        files = [f for f in dict.fromkeys(part["fichier"].to_list()) if f and f != "(tous)"]
        bad = part.filter(pl.col("statut").str.to_lowercase().str.starts_with("inutilisable"))
        where = (
            pl.when(pl.col("fichier").is_in(["", "(tous)"]))
            .then(pl.lit(""))
            .otherwise(pl.format(" ({})", pl.col("fichier")))
        )
        fails = bad.select(
            pl.col("colonne").alias("cle"),
            pl.lit(None, dtype=pl.Int64).alias("ligne"),
            pl.format("colonne {}{} inutilisable : {}", pl.col("colonne"), where, pl.col("detail")).alias("detail"),
        )
        run.record(
            "pv_colonnes",
            jeu,
            "plausibilité",
            "majeure",
            description,
            part.height,
            fails,
            key_name="colonne",
            fichier=", ".join(files),
            source="Pharmacovigilance",
        )


def check_prices(run: Run) -> None:
    bound = f"{PRICE_MAX:,.0f}".replace(",", "\u202f")
    desc_bounds = f"Les prix et honoraires sont positifs ou nuls et inférieurs à {bound} €."
    desc_order = "Le prix public (honoraires compris) n'est pas inférieur au prix du médicament."
    frame = run.frame(DS.PRESENTATIONS)
    cols = [c for c in PRICE_COLUMNS if frame is not None and c in frame.columns]
    if not cols:
        run.na("prix_bornes", DS.PRESENTATIONS, "plausibilité", "majeure", desc_bounds)
    else:
        parts = [
            frame.filter(pl.col(c).is_not_null()).select(
                pl.col("cip13").alias("cle")
                if "cip13" in frame.columns
                else key_expr(frame, DS.PRESENTATIONS).alias("cle"),
                line_expr(frame).alias("ligne"),
                pl.lit(c).alias("colonne"),
                pl.col(c).cast(pl.Float64).alias("valeur"),
            )
            for c in cols
        ]
        values = pl.concat(parts)
        bad = values.filter((pl.col("valeur") < 0) | (pl.col("valeur") >= PRICE_MAX))
        fails = bad.select(
            "cle", "ligne", pl.format("{} = {} € hors bornes", pl.col("colonne"), pl.col("valeur")).alias("detail")
        )
        run.record(
            "prix_bornes",
            DS.PRESENTATIONS,
            "plausibilité",
            "majeure",
            desc_bounds,
            values.height,
            fails,
            key_name="cip13",
        )
    if frame is None or not {"prix_medicament_euro", "prix_public_euro"} <= set(frame.columns):
        run.na("prix_public_coherent", DS.PRESENTATIONS, "plausibilité", "majeure", desc_order)
        return
    both = frame.filter(pl.col("prix_medicament_euro").is_not_null() & pl.col("prix_public_euro").is_not_null())
    bad = both.filter(pl.col("prix_public_euro") < pl.col("prix_medicament_euro"))
    fails = bad.select(
        key_expr(frame, DS.PRESENTATIONS).alias("cle"),
        line_expr(frame).alias("ligne"),
        pl.format(
            "prix public {} € inférieur au prix du médicament {} €",
            pl.col("prix_public_euro"),
            pl.col("prix_medicament_euro"),
        ).alias("detail"),
    )
    run.record(
        "prix_public_coherent",
        DS.PRESENTATIONS,
        "plausibilité",
        "majeure",
        desc_order,
        both.height,
        fails,
        key_name="cip13",
    )


ALLOWED_VALUES = (
    (DS.GENERIQUES, "type_generique", (0, 1, 2, 4), "Le type de générique vaut 0 (princeps), 1, 2 ou 4."),
    (
        DS.COMPOSITIONS,
        "nature_composant",
        ("SA", "FT"),
        "La nature du composant vaut SA (substance active) ou FT (fraction thérapeutique).",
    ),
    (DS.DISPONIBILITES, "code_statut", (1, 2, 3, 4), "Le code de statut de disponibilité vaut 1, 2, 3 ou 4."),
    (
        DS.PRESENTATIONS,
        "taux_remboursement",
        REIMBURSEMENT_RATES,
        "Les taux de remboursement valent 15, 30, 65 ou 100 %.",
    ),
)


EXPECTED_LABELS = {
    DS.SPECIALITES: (
        ("statut_amm", r"^Autorisation ", "commence par « Autorisation »"),
        ("etat_commercialisation", r"^(Non c|C)ommercialisée$", "vaut « Commercialisée » ou « Non commercialisée »"),
    ),
    DS.PRESENTATIONS: (
        ("statut_admin_presentation", r"^Présentation ", "commence par « Présentation »"),
        ("etat_commercialisation", r"ommercialisation", "parle de commercialisation"),
    ),
}


def check_expected_labels(run: Run) -> None:
    """Status columns hold the official wording (catches columns swapped or shifted)."""
    for jeu, rules in EXPECTED_LABELS.items():
        description = (
            "Les colonnes de statut ont le libellé officiel attendu ("
            + " ; ".join(f"{col} {what}" for col, _, what in rules)
            + ")."
        )
        frame = run.frame(jeu)
        if frame is None or not {c for c, _, _ in rules} <= set(frame.columns):
            run.na("libelles_attendus", jeu, "plausibilité", "majeure", description)
            continue
        parts, n = [], 0
        for col, regex, what in rules:
            values = frame.filter(pl.col(col).is_not_null())
            n += values.height
            parts.append(
                values.filter(~pl.col(col).str.contains(regex)).select(
                    key_expr(frame, jeu).alias("cle"),
                    line_expr(frame).alias("ligne"),
                    pl.format(
                        "{} = « {} » : attendu un libellé qui {}",
                        pl.lit(col),
                        pl.col(col).str.slice(0, 60),
                        pl.lit(what),
                    ).alias("detail"),
                )
            )
        run.record(
            "libelles_attendus",
            jeu,
            "plausibilité",
            "majeure",
            description,
            n,
            pl.concat(parts),
            key_name=row_key(jeu) or "cle",
        )


def check_status_code_label(run: Run) -> None:
    """Availability lines whose status code and raw label name different statuses, with the
    rule that settled each (``datamed.pipeline.episodes.resolve_status``)."""
    description = (
        "Le code de statut de disponibilité et son libellé désignent le même statut ; sinon, "
        "la règle retenue (le code, ou le libellé quand les dates lui donnent raison) est indiquée."
    )
    jeu = DS.DISPONIBILITES
    frame = run.frame(jeu)
    need = {"code_statut", "libelle_statut_brut", "date_remise_dispo"}
    if frame is None or not need <= set(frame.columns):
        run.na("statut_code_libelle", jeu, "plausibilité", "majeure", description)
        return
    checked = frame.filter(pl.col("libelle_statut_brut").is_not_null() & pl.col("code_statut").is_not_null())
    resolved = resolved_statuses(checked)
    fails = resolved.filter(pl.col("conflit_statut").is_not_null()).select(
        key_expr(resolved, jeu).alias("cle"),
        line_expr(resolved).alias("ligne"),
        pl.col("conflit_statut").alias("detail"),
    )
    run.record(
        "statut_code_libelle",
        jeu,
        "plausibilité",
        "majeure",
        description,
        checked.height,
        fails,
        key_name=row_key(jeu) or "cle",
    )


def check_allowed_values(run: Run) -> None:
    for jeu, col, allowed, description in ALLOWED_VALUES:
        frame = run.frame(jeu)
        if frame is None or col not in frame.columns:
            run.na("valeurs_autorisees", jeu, "plausibilité", "majeure", description)
            continue
        values = frame.select(
            key_expr(frame, jeu).alias("cle"), line_expr(frame).alias("ligne"), pl.col(col).alias("valeur")
        )
        if is_list(frame, col):
            values = values.explode("valeur")
        values = values.filter(pl.col("valeur").is_not_null())
        dtype = values.schema["valeur"]
        bad = values.filter(~pl.col("valeur").is_in(pl.Series(list(allowed)).cast(dtype, strict=False).implode()))
        fails = bad.select(
            "cle", "ligne", pl.format("{} = {} : valeur non prévue", pl.lit(col), pl.col("valeur")).alias("detail")
        )
        run.record(
            "valeurs_autorisees",
            jeu,
            "plausibilité",
            "majeure",
            description,
            values.height,
            fails,
            key_name=row_key(jeu) or "cle",
        )


def check_coordinates(run: Run) -> None:
    description = (
        "Les coordonnées sont dans les bornes terrestres (latitude ±90°, longitude ±180°) et ne valent pas (0, 0)."
    )
    for jeu in (DS.SITES, DS.COMMUNES):
        frame = run.frame(jeu)
        if frame is None or not {"latitude", "longitude"} <= set(frame.columns):
            run.na("coordonnees_plausibles", jeu, "plausibilité", "majeure", description)
            continue
        both = frame.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
        bad = both.filter(
            (pl.col("latitude").abs() > 90)
            | (pl.col("longitude").abs() > 180)
            | ((pl.col("latitude") == 0) & (pl.col("longitude") == 0))
        )
        fails = bad.select(
            key_expr(frame, jeu).alias("cle"),
            line_expr(frame).alias("ligne"),
            pl.format("coordonnées invraisemblables ({}, {})", pl.col("latitude"), pl.col("longitude")).alias("detail"),
        )
        run.record(
            "coordonnees_plausibles",
            jeu,
            "plausibilité",
            "majeure",
            description,
            both.height,
            fails,
            key_name=row_key(jeu) or "cle",
        )
