"""Checks of the "libellés" category: spaces at the ends or doubled, mojibake (UTF-8
read as Windows-1252) and coded labels declined in case / accent / space variants."""

from __future__ import annotations

import polars as pl

from datamed.datasets import DS
from datamed.pipeline.quality.run import Run, is_list, is_string, key_expr, line_expr, row_key

# UTF-8 read as Windows-1252: a lead byte (Â Ã Ä Å for Latin letters) followed by what
# cp1252 makes of a continuation byte (0x80-0xBF: € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ' ' " " • – — ˜ ™ š › œ ž Ÿ and
# U+00A0-U+00BF), e.g. "Ã©" (é), "Ã‰" (É), "Å“" (œ); "â€" starts ’ – — …; U+FFFD and C1 controls
_CONTINUATION = "".join(
    sorted(
        {c for c in bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")} | {chr(c) for c in range(0xA0, 0xC0)}
    )
)
MOJIBAKE_RE = "[ÂÃÄÅ][" + "".join(f"\\x{{{ord(c):X}}}" for c in _CONTINUATION) + "]|â€|\\x{FFFD}|[\\x{80}-\\x{9F}]"
SNIPPET_RE = r"(.{0,15}(?:" + MOJIBAKE_RE + r").{0,15})"

# short labels: spaces, mojibake and (some) variants; long texts: mojibake only
SHORT_TEXT = {
    DS.SPECIALITES: (
        "denomination",
        "forme_pharmaceutique",
        "voies_administration",
        "titulaires",
        "statut_amm",
        "etat_commercialisation",
    ),
    DS.PRESENTATIONS: ("libelle_presentation", "statut_admin_presentation", "etat_commercialisation"),
    DS.COMPOSITIONS: ("designation_element", "denomination_substance"),
    DS.GENERIQUES: ("libelle_groupe_generique",),
    DS.CONDITIONS: ("condition_prescription_delivrance",),
    DS.HAS_SMR: ("motif_evaluation", "valeur_smr"),
    DS.HAS_ASMR: ("motif_evaluation", "valeur_asmr"),
    DS.DISPONIBILITES: ("libelle_statut_brut",),
    DS.MITM: ("denomination",),
    DS.ATC: ("libelle_fr", "libelle_en"),
    DS.SUBSTANCES: ("denomination",),
    DS.RUPTURES_CLASSES: ("libelle_source",),
    DS.SITES: ("nom", "commune"),
    DS.COMMUNES: ("nom",),
}
LONG_TEXT = {
    DS.PRESENTATIONS: ("indications_remboursement",),
    DS.COMPOSITIONS: ("dosage", "reference_dosage"),
    DS.HAS_SMR: ("libelle_smr",),
    DS.HAS_ASMR: ("libelle_asmr",),
    DS.INFOS_IMPORTANTES: ("texte",),
}
VARIANT_COLUMNS = {
    DS.SPECIALITES: ("forme_pharmaceutique", "statut_amm", "etat_commercialisation", "voies_administration"),
    DS.PRESENTATIONS: ("statut_admin_presentation", "etat_commercialisation"),
    DS.DISPONIBILITES: ("libelle_statut", "libelle_statut_brut"),
    DS.HAS_SMR: ("valeur_smr",),
    DS.HAS_ASMR: ("valeur_asmr",),
}


def _stack_text(frame: pl.DataFrame, jeu: str, cols: tuple[str, ...]) -> pl.DataFrame:
    """(cle, ligne, colonne, valeur) for every non-null value; list columns exploded."""
    parts = []
    for c in cols:
        if c not in frame.columns:
            continue
        if is_list(frame, c) and frame.schema[c].inner == pl.String:
            part = frame.select(
                key_expr(frame, jeu).alias("cle"), line_expr(frame).alias("ligne"), pl.col(c).alias("valeur")
            ).explode("valeur")
        elif is_string(frame, c):
            part = frame.select(
                key_expr(frame, jeu).alias("cle"), line_expr(frame).alias("ligne"), pl.col(c).alias("valeur")
            )
        else:
            continue
        parts.append(part.filter(pl.col("valeur").is_not_null()).with_columns(pl.lit(c).alias("colonne")))
    if not parts:
        return pl.DataFrame(schema={"cle": pl.String, "ligne": pl.Int64, "valeur": pl.String, "colonne": pl.String})
    return pl.concat(parts)


# words that differ from another only by an accent yet mean something else:
# "granules" (homeopathic pellets) are not "granulés" (granulated powder)
ACCENT_SENSITIVE = {"granulé": "granul#e"}


def _normalised(expr: pl.Expr) -> pl.Expr:
    """Case-, accent- and space-insensitive form of a label."""
    expr = expr.str.to_lowercase()
    for word, token in ACCENT_SENSITIVE.items():
        expr = expr.str.replace_all(word, token, literal=True)
    return expr.str.normalize("NFD").str.replace_all(r"\p{M}", "").str.replace_all(r"\s+", " ").str.strip_chars()


def check_labels(run: Run) -> None:
    space_desc = "Les libellés ({}) n'ont ni espace en début ou en fin, ni espaces doubles."
    moji_desc = "Les textes ({}) ne contiennent pas de caractères mal décodés (mojibake : « Ã© », « â€™ », U+FFFD…)."
    for jeu in dict.fromkeys([*SHORT_TEXT, *LONG_TEXT]):
        short = SHORT_TEXT.get(jeu, ())
        frame = run.frame(jeu)
        if short:
            desc = space_desc.format(", ".join(short))
            if frame is None or not any(c in frame.columns for c in short):
                run.na("libelles_espaces", jeu, "libellés", "mineure", desc)
            else:
                values = _stack_text(frame, jeu, short)
                bad = values.filter(pl.col("valeur").str.contains(r"^\s|\s$|\s\s"))
                fails = bad.select(
                    "cle",
                    "ligne",
                    pl.when(pl.col("valeur").str.contains(r"^\s|\s$"))
                    .then(
                        pl.format(
                            "espace en début ou en fin dans {} : « {} »",
                            pl.col("colonne"),
                            pl.col("valeur").str.slice(0, 80),
                        )
                    )
                    .otherwise(
                        pl.format(
                            "espaces doubles dans {} : « {} »", pl.col("colonne"), pl.col("valeur").str.slice(0, 80)
                        )
                    )
                    .alias("detail"),
                )
                run.record(
                    "libelles_espaces",
                    jeu,
                    "libellés",
                    "mineure",
                    desc,
                    values.height,
                    fails,
                    key_name=row_key(jeu) or "cle",
                )
        cols = (*short, *LONG_TEXT.get(jeu, ()))
        desc = moji_desc.format(", ".join(cols))
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("libelles_mojibake", jeu, "libellés", "majeure", desc)
            continue
        values = _stack_text(frame, jeu, cols)
        bad = values.filter(pl.col("valeur").str.contains(MOJIBAKE_RE))
        fails = bad.select(
            "cle",
            "ligne",
            pl.format(
                "caractères mal décodés dans {} : « {} »",
                pl.col("colonne"),
                pl.col("valeur").str.extract(SNIPPET_RE, 1),
            ).alias("detail"),
        )
        run.record(
            "libelles_mojibake", jeu, "libellés", "majeure", desc, values.height, fails, key_name=row_key(jeu) or "cle"
        )
    _check_variants(run)


def _check_variants(run: Run) -> None:
    description = "Les valeurs des libellés codés ({}) ne se déclinent pas en variantes qui ne diffèrent que par la casse, les accents ou les espaces."
    for jeu, cols in VARIANT_COLUMNS.items():
        desc = description.format(", ".join(cols))
        frame = run.frame(jeu)
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("libelles_variantes", jeu, "libellés", "mineure", desc)
            continue
        values = _stack_text(frame, jeu, cols)
        # normalise the distinct values only (a few hundred), not every row
        counts = (
            values.group_by("colonne", "valeur")
            .agg(pl.len().alias("_n"))
            .with_columns(_normalised(pl.col("valeur")).alias("_norm"))
        )
        # the most frequent spelling of each group is the reference; the others are variants
        ref = (
            counts.sort("_n", "valeur", descending=[True, False])
            .group_by("colonne", "_norm", maintain_order=True)
            .agg(pl.col("valeur").first().alias("_ref"), pl.len().alias("_k"), pl.col("_n").first().alias("_nref"))
            .filter(pl.col("_k") > 1)
        )
        variants = counts.join(ref, on=["colonne", "_norm"], how="inner").filter(pl.col("valeur") != pl.col("_ref"))
        bad = values.join(variants.select("colonne", "valeur", "_ref", "_nref"), on=["colonne", "valeur"], how="inner")
        fails = bad.select(
            "cle",
            "ligne",
            pl.format(
                "variante « {} » de « {} » ({} lignes) dans {}",
                pl.col("valeur"),
                pl.col("_ref"),
                pl.col("_nref"),
                pl.col("colonne"),
            ).alias("detail"),
        )
        run.record(
            "libelles_variantes", jeu, "libellés", "mineure", desc, values.height, fails, key_name=row_key(jeu) or "cle"
        )
