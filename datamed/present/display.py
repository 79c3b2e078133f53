"""Display-ready tables and sentences, in French. Pure functions, no Streamlit.

The pages render what these return; tests check them without a browser.
"""

from __future__ import annotations

import html
import re

import polars as pl

from datamed.core.text import fr_column, fr_date, fr_euro, fr_int

STATUS_BADGES = {  # label, Streamlit colour, Material icon
    1: ("Rupture de stock", "red", "error"),
    2: ("Tension d'approvisionnement", "orange", "warning"),
    3: ("Arrêt de commercialisation", "gray", "block"),
    4: ("Remise à disposition", "green", "check_circle"),
}
NO_PROBLEM = "Aucun signalement de rupture ou de tension en cours"


def status_label(code: int | None) -> str:
    """Words only (tables): the status never relies on colour or icon."""
    if code is None:
        return NO_PROBLEM
    return STATUS_BADGES.get(code, ("Statut inconnu",))[0]


def status_markdown(code: int | None) -> str:
    """Icon, colour and words, for Streamlit Markdown."""
    if code is None:
        return f":green[:material/check_circle: {NO_PROBLEM}]"
    label, colour, icon = STATUS_BADGES.get(code, ("Statut inconnu", "gray", "help"))
    return f":{colour}[:material/{icon}: **{label}**]"


STATUT_BDM = {"Alerte": "Alerte de sécurité", "Warning disponibilité": "Alerte de disponibilité"}


def _dates(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.with_columns(
        [fr_column(frame, c, fr_date).fill_null("—").alias(c) for c in columns if c in frame.columns]
    )


def presentations_table(pres: pl.DataFrame) -> pl.DataFrame:
    if pres.is_empty():
        return pl.DataFrame()
    return (
        pres.with_columns(
            fr_column(
                pres, "taux_remboursement", lambda r: " ; ".join(f"{x} %" for x in r) if r else "Non remboursé"
            ).alias("taux"),
            *[
                fr_column(pres, c, fr_euro).fill_null("—").alias(c)
                for c in ("prix_medicament_euro", "prix_public_euro", "honoraires_dispensation_euro")
            ],
            pl.col("agrement_collectivites")
            .replace_strict({True: "Oui", False: "Non"}, default="Inconnu", return_dtype=pl.String)
            .alias("agrement"),
        )
        .pipe(_dates, ["date_declaration_commercialisation"])
        .select(
            pl.col("cip13").alias("CIP13"),
            pl.col("cip7").alias("CIP7"),
            pl.col("libelle_presentation").alias("Présentation"),
            pl.col("statut_admin_presentation").alias("Statut"),
            pl.col("etat_commercialisation").alias("Commercialisation"),
            pl.col("date_declaration_commercialisation").alias("Date de déclaration"),
            pl.col("taux").alias("Remboursement"),
            pl.col("prix_public_euro").alias("Prix public"),
            pl.col("prix_medicament_euro").alias("Prix du médicament"),
            pl.col("honoraires_dispensation_euro").alias("Honoraires"),
            pl.col("agrement").alias("Agréé collectivités"),
        )
    )


def has_table(frame: pl.DataFrame, value_col: str, label_col: str) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame()
    return frame.pipe(_dates, ["date_avis_ct"]).select(
        pl.col("date_avis_ct").alias("Date de l'avis"),
        pl.col("motif_evaluation").alias("Motif"),
        pl.col(value_col).alias("Niveau"),
        pl.col(label_col).alias("Avis"),
        pl.col("code_dossier_has").alias("Dossier"),
        pl.col("lien_avis_ct").alias("Lien"),
    )


def availability_table(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame()
    frame = frame.pipe(_dates, ["date_debut", "date_mise_a_jour", "date_remise_dispo", "snapshot"])
    return frame.select(
        fr_column(frame, "code_statut", status_label).alias("Statut"),
        pl.col("cip13").fill_null("Toutes les présentations").alias("Présentation (CIP13)"),
        pl.col("date_debut").alias("Début"),
        pl.col("date_mise_a_jour").alias("Mise à jour"),
        pl.col("date_remise_dispo").alias("Remise à disposition"),
        pl.col("snapshot").alias("Vu dans le fichier du"),
        pl.col("lien_ansm").alias("Page ANSM"),
    )


def episodes_table(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame()
    return frame.pipe(_dates, ["date_debut", "date_fin", "date_mise_a_jour"]).select(
        pl.col("statuts").list.join(" → ").alias("Statuts successifs"),
        pl.col("cip13").fill_null("Toutes les présentations").alias("Présentation (CIP13)"),
        pl.col("date_debut").alias("Début"),
        pl.when(pl.col("debut_est_maj")).then(pl.lit("date de mise à jour")).otherwise(pl.lit("")).alias("Note"),
        pl.col("date_mise_a_jour").alias("Mise à jour"),
        pl.col("date_fin").alias("Remise à disposition"),
        pl.col("duree_jours").cast(pl.String).fill_null("—").alias("Durée (jours)"),
        pl.col("lien_ansm").alias("Page ANSM"),
    )


def specialities_table(frame: pl.DataFrame) -> pl.DataFrame:
    rename = {
        "cis": "CIS",
        "denomination": "Dénomination",
        "dosage": "Dosage",
        "forme_pharmaceutique": "Forme",
        "titulaire": "Titulaire",
        "code_atc": "ATC",
        "etat_commercialisation": "Commercialisation",
        "statut_amm": "Statut AMM",
    }
    return frame.rename({k: v for k, v in rename.items() if k in frame.columns})


_LINK_RE = re.compile(r"<a\s[^>]*href=['\"]([^'\"]+)['\"][^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")


def safe_info_text(raw_html: str) -> tuple[str, list[tuple[str, str]]]:
    """Plain text and (label, url) links from an InfoImportantes HTML snippet.

    Only http(s) links are kept; no HTML is ever rendered as is.
    """
    links = [
        (html.unescape(_TAG_RE.sub("", label)).strip() or url, url)
        for url, label in _LINK_RE.findall(raw_html or "")
        if url.startswith(("http://", "https://"))
    ]
    text = html.unescape(_TAG_RE.sub(" ", raw_html or ""))
    return " ".join(text.split()), links


ATC_ENGLISH_NOTE = "Libellés en italique : libellé anglais de l'OMS, faute de traduction française disponible."


def atc_chain(hierarchy: list[tuple[str, str, bool]]) -> str:
    """Markdown 'N Système nerveux › N02 Analgésiques › …'; English labels in italics."""
    parts = []
    for code, label, english in hierarchy:
        text = md_escape(label)
        parts.append(f"{code} *{text}*" if english else f"{code} {text}")
    return " › ".join(parts)


def has_english(hierarchies) -> bool:
    return any(english for h in hierarchies for _, _, english in h)


def key_figure_sentence(n: int, singular: str, plural: str) -> str:
    return f"{fr_int(n)} {singular if n < 2 else plural}"


def md_escape(text: str) -> str:
    """Escape Markdown specials so labels render literally."""
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~$])", r"\\\1", text or "")
