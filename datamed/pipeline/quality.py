"""Data-quality checks run at every build over every source.

``run_checks`` takes the prepared frames, the manifest's source entries, the
readers' rejected lines, the raw folder and the previous prepared folder, and
returns three frames:

- ``qualite``: one row per check x dataset (``controle``, ``jeu`` is unique),
  with counts, failure rate, status and up to five failing examples (JSON);
  the per-file checks (``lignes_rejetees``, ``valeurs_corrigees``,
  ``pv_colonnes``) sum the files of a dataset (availability snapshots, site
  files) and name the file in each failure when there are several;
- ``qualite_echecs``: the failing rows for drill-down, at most
  ``MAX_FAILURES`` per check x dataset, with key, source line and a French
  detail;
- ``qualite_evolution``: changes between the two newest raw BDPM snapshots
  (CIS and presentations added / removed, marketing and authorisation status
  changes), between consecutive availability snapshots (per-CIS status), and
  row-count jumps of each dataset since the previous build.

Every check is vectorised polars. A check whose dataset is missing or empty,
or which has nothing to verify, gets the status "non applicable" (never an
exception). The status is always derived from the counts::

    n_verifies == 0  -> "non applicable"
    n_echecs  >  0  -> "échoué"
    otherwise       -> "réussi"

Threshold checks (snapshot evolution, row-count jumps) count one verification
and one failure when the threshold is crossed.

Score of a source (``scores``)
------------------------------
For each source label, over its *applicable* checks (status "réussi" or
"échoué")::

    score = 100 * sum(w_i * (1 - taux_echec_i)) / sum(w_i)

with the gravity weights ``SCORE_WEIGHTS`` (bloquante 3, majeure 2,
mineure 1). A source with no applicable check has a null score. The score is
thus a gravity-weighted mean of the share of verified items that pass: 100
means every applicable check verified without failure; one blocking check
failing on every item costs three times as much as a minor one.

``integrity_failure_rate`` pools the referential-integrity checks: failed /
verified items over the applicable "intégrité référentielle" rows (0.0 when
nothing was verified); the refresh gate stops a release above 1 %.
"""

from __future__ import annotations

import calendar
import dataclasses
import json
import re
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from datamed.core.text import fr_int

# --- vocabulary -------------------------------------------------------------

CATEGORIES = (
    "types",
    "champs obligatoires",
    "format des codes",
    "intégrité référentielle",
    "doublons",
    "dates",
    "libellés",
    "plausibilité",
    "évolution",
)
GRAVITES = ("bloquante", "majeure", "mineure")
STATUTS = ("réussi", "échoué", "non applicable")
SCORE_WEIGHTS = {"bloquante": 3.0, "majeure": 2.0, "mineure": 1.0}
SCORE_METHOD_FR = (
    "Le score d'une source est la moyenne, pondérée par la gravité des contrôles applicables "
    "(bloquante ×3, majeure ×2, mineure ×1), de la part des éléments vérifiés sans échec, multipliée par 100 : "
    "100 signifie qu'aucun contrôle applicable n'a trouvé d'anomalie."
)
CHANGEMENTS = (
    "CIS ajouté",
    "CIS retiré",
    "présentation ajoutée",
    "présentation retirée",
    "changement d'état de commercialisation",
    "changement de statut AMM",
    "changement de statut de disponibilité",
    "variation du nombre de lignes",
)

MAX_FAILURES = 500  # failing rows kept per check x dataset in qualite_echecs
MAX_EXAMPLES = 5  # failing rows summarised in qualite.exemples
SNAPSHOT_DROP = 0.05  # evolution: key count drop / share of keys removed
ROWS_JUMP = 0.10  # evolution: row-count change vs the previous build
PRICE_MAX = 1_000_000.0  # euros: above this a price is absurd
OLDEST_DATE = date(1900, 1, 1)
REIMBURSEMENT_RATES = (15, 30, 65, 100)

QUALITE_SCHEMA = {
    "source": pl.String,
    "jeu": pl.String,
    "fichier": pl.String,
    "controle": pl.String,
    "categorie": pl.String,
    "description": pl.String,
    "gravite": pl.String,
    "n_verifies": pl.Int64,
    "n_echecs": pl.Int64,
    "taux_echec": pl.Float64,
    "statut": pl.String,
    "exemples": pl.String,
}
ECHECS_SCHEMA = {"controle": pl.String, "jeu": pl.String, "cle": pl.String, "ligne": pl.Int64, "detail": pl.String}
EVOLUTION_SCHEMA = {
    c: pl.String
    for c in ("jeu", "changement", "cle", "libelle", "avant", "apres", "instantane_avant", "instantane_apres")
}
SCORES_SCHEMA = {
    "source": pl.String,
    "score": pl.Float64,
    "n_controles": pl.Int64,
    "n_reussis": pl.Int64,
    "n_echecs_controles": pl.Int64,
}
_FAILS_SCHEMA = {"cle": pl.String, "ligne": pl.Int64, "detail": pl.String}

# --- sources and keys -------------------------------------------------------

SOURCE_LABELS = {
    "specialites": "BDPM · spécialités (CIS_bdpm)",
    "presentations": "BDPM · présentations (CIS_CIP_bdpm)",
    "compositions": "BDPM · compositions (CIS_COMPO_bdpm)",
    "substances": "BDPM · compositions (CIS_COMPO_bdpm)",
    "noms_substances": "BDPM · compositions (CIS_COMPO_bdpm)",
    "generiques": "BDPM · groupes génériques (CIS_GENER_bdpm)",
    "conditions": "BDPM · conditions de prescription (CIS_CPD_bdpm)",
    "has_smr": "BDPM · avis SMR de la HAS (CIS_HAS_SMR_bdpm)",
    "has_asmr": "BDPM · avis ASMR de la HAS (CIS_HAS_ASMR_bdpm)",
    "has_liens_ct": "BDPM · liens vers les avis CT (HAS_LiensPageCT_bdpm)",
    "disponibilites": "Disponibilité (CIS_CIP_Dispo_Spec)",
    "ruptures_episodes": "Disponibilité (CIS_CIP_Dispo_Spec)",
    "mitm": "BDPM · MITM (CIS_MITM)",
    "specialite_atc": "BDPM · MITM (CIS_MITM)",
    "infos_importantes": "BDPM · informations importantes (CIS_InfoImportantes)",
    "atc": "ATC",
    "ruptures_classes": "Historique des ruptures 2014-2020",
    "sites": "Sites",
    "sites_pays": "Sites",
    "sites_non_places": "Sites",
    "titulaires_sites": "Sites",
    "titulaires_non_relies": "Sites",
    "communes": "Communes (La Poste)",
    "sites_geocodage": "Communes (La Poste)",
    "pays_geo": "Fonds de carte",
    "departements_geo": "Fonds de carte",
    "soc": "Pharmacovigilance",
}
# datasets built from other sources: their checks point at these raw files
DERIVED_FROM = {
    "substances": ("compositions",),
    "noms_substances": ("compositions",),
    "specialite_atc": ("mitm", "compositions"),
    "ruptures_episodes": ("disponibilites",),
    "communes": ("sites_geocodage",),
    "titulaires_sites": ("sites",),
}
# the key shown for a failing row of each dataset
KEYS = {
    "specialites": "cis",
    "presentations": "cip13",
    "compositions": "cis",
    "generiques": "cis",
    "conditions": "cis",
    "has_smr": "cis",
    "has_asmr": "cis",
    "has_liens_ct": "code_dossier_has",
    "disponibilites": "cis",
    "mitm": "cis",
    "infos_importantes": "cis",
    "atc": "code_atc",
    "substances": "code_substance",
    "noms_substances": "code_substance",
    "specialite_atc": "cis",
    "ruptures_classes": "libelle_source",
    "ruptures_episodes": "cis",
    "sites": "site_id",
    "communes": "code_insee",
    "titulaires_sites": "titulaire",
    "ei_liens": "ei_id",
    "ei_substances": "ei_id",
    "risque_ruptures": "cis",
}
# dataset -> (required columns); a dataset absent from the build is "non applicable"
REQUIRED = {
    "specialites": ("cis", "denomination"),
    "presentations": ("cis", "cip7", "cip13"),
    "compositions": ("cis", "code_substance"),
    "generiques": ("id_groupe_generique", "cis"),
    "conditions": ("cis", "condition_prescription_delivrance"),
    "has_smr": ("cis", "code_dossier_has"),
    "has_asmr": ("cis", "code_dossier_has"),
    "has_liens_ct": ("code_dossier_has", "lien_avis_ct"),
    "disponibilites": ("cis", "code_statut"),
    "mitm": ("cis",),
    "infos_importantes": ("cis",),
    "atc": ("code_atc", "libelle"),
    "substances": ("code_substance", "denomination"),
    "specialite_atc": ("cis", "code_atc"),
    "ruptures_classes": ("annee", "libelle_source"),
    "ruptures_episodes": ("episode_id", "cis"),
    "sites": ("site_id", "nom"),
    "communes": ("code_insee", "code_postal"),
    "titulaires_sites": ("titulaire", "site_id"),
    "ei_liens": ("ei_id", "code_substance"),
}
CIS_DATASETS = (
    "specialites", "presentations", "compositions", "generiques", "conditions", "has_smr", "has_asmr",
    "disponibilites", "mitm", "infos_importantes", "specialite_atc", "ruptures_episodes",
)  # fmt: skip
ATC_DATASETS = ("atc", "mitm", "specialite_atc", "ruptures_classes")
CIS_CHILDREN = (
    "compositions", "presentations", "generiques", "conditions", "has_smr", "has_asmr",
    "disponibilites", "mitm", "infos_importantes",
)  # fmt: skip
PARENT_LABELS = {
    "specialites": "spécialités (CIS_bdpm)",
    "has_smr/has_asmr": "avis SMR / ASMR",
    "atc": "classification ATC",
    "substances": "substances de la BDPM",
    "sites": "sites",
}

ATC_RE = r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$"
INSEE_RE = r"^([0-9]{5}|2[AB][0-9]{3})$"
# UTF-8 read as Windows-1252: a lead byte (Â Ã Ä Å for Latin letters) followed by what
# cp1252 makes of a continuation byte (0x80-0xBF: € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ' ' " " • – — ˜ ™ š › œ ž Ÿ and
# U+00A0-U+00BF), e.g. "Ã©" (é), "Ã‰" (É), "Å“" (œ); "â€" starts ’ – — …; U+FFFD and C1 controls
_CONTINUATION = "".join(
    sorted({c for c in bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")} | {chr(c) for c in range(0xA0, 0xC0)})
)
MOJIBAKE_RE = (
    "[ÂÃÄÅ][" + "".join(f"\\x{{{ord(c):X}}}" for c in _CONTINUATION) + "]|â€|\\x{FFFD}|[\\x{80}-\\x{9F}]"
)
SNIPPET_RE = r"(.{0,15}(?:" + MOJIBAKE_RE + r").{0,15})"

# short labels: spaces, mojibake and (some) variants; long texts: mojibake only
SHORT_TEXT = {
    "specialites": ("denomination", "forme_pharmaceutique", "voies_administration", "titulaires", "statut_amm", "etat_commercialisation"),
    "presentations": ("libelle_presentation", "statut_admin_presentation", "etat_commercialisation"),
    "compositions": ("designation_element", "denomination_substance"),
    "generiques": ("libelle_groupe_generique",),
    "conditions": ("condition_prescription_delivrance",),
    "has_smr": ("motif_evaluation", "valeur_smr"),
    "has_asmr": ("motif_evaluation", "valeur_asmr"),
    "disponibilites": ("libelle_statut_brut",),
    "mitm": ("denomination",),
    "atc": ("libelle_fr", "libelle_en"),
    "substances": ("denomination",),
    "ruptures_classes": ("libelle_source",),
    "sites": ("nom", "commune"),
    "communes": ("nom",),
}  # fmt: skip
LONG_TEXT = {
    "presentations": ("indications_remboursement",),
    "compositions": ("dosage", "reference_dosage"),
    "has_smr": ("libelle_smr",),
    "has_asmr": ("libelle_asmr",),
    "infos_importantes": ("texte",),
}
VARIANT_COLUMNS = {
    "specialites": ("forme_pharmaceutique", "statut_amm", "etat_commercialisation", "voies_administration"),
    "presentations": ("statut_admin_presentation", "etat_commercialisation"),
    "disponibilites": ("libelle_statut", "libelle_statut_brut"),
    "has_smr": ("valeur_smr",),
    "has_asmr": ("valeur_asmr",),
}
# dataset -> columns that must not be after the snapshot / build date
FUTURE_DATES = {
    "specialites": ("date_amm",),
    "presentations": ("date_declaration_commercialisation",),
    "has_smr": ("date_avis_ct",),
    "has_asmr": ("date_avis_ct",),
    # date_remise_dispo of an ongoing shortage is the forecast return: it may lie ahead
    "disponibilites": ("date_debut", "date_mise_a_jour"),
    "infos_importantes": ("date_debut",),
    "ruptures_episodes": ("date_debut", "date_fin"),
}
OLD_DATES = {
    **FUTURE_DATES,
    "disponibilites": ("date_debut", "date_mise_a_jour", "date_remise_dispo"),
    "infos_importantes": ("date_debut", "date_fin"),
}
# dataset -> (start column, end column)
DATE_ORDER = {
    "disponibilites": ("date_debut", "date_remise_dispo"),
    "ruptures_episodes": ("date_debut", "date_fin"),
    "infos_importantes": ("date_debut", "date_fin"),
}
PRICE_COLUMNS = ("prix_medicament_euro", "prix_public_euro", "honoraires_dispensation_euro")


# --- small helpers ------------------------------------------------------------


def _fr_pct(x: float) -> str:
    return f"{100 * x:+.1f}".replace(".", ",") + " %"


def _parse_snapshot(value) -> date | None:
    """'2026-01-27' -> that day; '2025-08' / '2015' -> the last day of the period."""
    if isinstance(value, date):
        return value
    text = str(value or "")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            y, m = int(text[:4]), int(text[5:])
            return date(y, m, calendar.monthrange(y, m)[1])
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 12, 31)
    except ValueError:
        return None
    return None


def _empty_fails() -> pl.DataFrame:
    return pl.DataFrame(schema=_FAILS_SCHEMA)


def _line_expr(frame: pl.DataFrame) -> pl.Expr:
    if "source_line" in frame.columns:
        return pl.col("source_line").cast(pl.Int64)
    return pl.lit(None, dtype=pl.Int64)


def _key_expr(frame: pl.DataFrame, jeu: str) -> pl.Expr:
    key = KEYS.get(jeu)
    if key is None or key not in frame.columns:
        key = frame.columns[0]
    return pl.col(key).cast(pl.String)


def _is_correction(reason: pl.Expr) -> pl.Expr:
    """Value-level fixes (the row is kept): not rejected lines."""
    return reason.str.starts_with("corrected (row kept)") | reason.str.contains("row kept|set to missing|cases kept")


def _is_string(frame: pl.DataFrame, col: str) -> bool:
    return frame.schema[col] == pl.String


def _is_list(frame: pl.DataFrame, col: str) -> bool:
    return isinstance(frame.schema[col], pl.List)


# --- the run ------------------------------------------------------------------


class _Run:
    def __init__(self, datasets, sources, rejects, raw, previous, today):
        self.datasets: dict[str, pl.DataFrame] = {k: v for k, v in (datasets or {}).items() if isinstance(v, pl.DataFrame)}
        self.sources: list[dict] = [s for s in (sources or []) if isinstance(s, dict)]
        self.rejects = rejects if isinstance(rejects, pl.DataFrame) else None
        self.raw = Path(raw) if raw else None
        self.previous = Path(previous) if previous else None
        self.today = today or datetime.now(timezone.utc).date()
        self.rows: list[dict] = []
        self.fails: list[pl.DataFrame] = []
        self.evolution: list[pl.DataFrame] = []
        self.by_dataset: dict[str, list[dict]] = {}
        self.snapshots: dict[str, list[tuple[str, Path, str]]] = {}  # spec key -> two newest raw snapshots
        self.snapshot_frames: dict[str, pl.DataFrame | Future | None] = {}  # raw path -> frame (or pending read)
        for s in self.sources:
            self.by_dataset.setdefault(str(s.get("dataset") or ""), []).append(s)

    # inputs
    def frame(self, name: str) -> pl.DataFrame | None:
        frame = self.datasets.get(name)
        if frame is None or frame.is_empty():
            return None
        return frame

    def files(self, jeu: str) -> str:
        entries = list(self.by_dataset.get(jeu, []))
        for origin in DERIVED_FROM.get(jeu, ()):
            entries += self.by_dataset.get(origin, [])
        entries.sort(key=lambda s: str(s.get("snapshot") or ""), reverse=True)
        seen: list[str] = []
        for s in entries:
            p = str(s.get("path") or "")
            if p and p not in seen:
                seen.append(p)
        return ", ".join(seen)

    def snapshot(self, jeu: str) -> date:
        dates = [d for s in self.by_dataset.get(jeu, []) if (d := _parse_snapshot(s.get("snapshot")))]
        return max(dates) if dates else self.today

    def source_label(self, jeu: str, entry: dict | None = None) -> str:
        if jeu in SOURCE_LABELS:
            return SOURCE_LABELS[jeu]
        if jeu.startswith("ei_") or (entry and "pharmacovigilance" in str(entry.get("source", "")).lower()):
            return "Pharmacovigilance"
        if jeu.startswith("risque_"):
            return "Modèle de risque de rupture"
        if entry and entry.get("source"):
            return str(entry["source"])
        return jeu

    # output
    def record(
        self,
        controle: str,
        jeu: str,
        categorie: str,
        gravite: str,
        description: str,
        n_verifies: int,
        fails: pl.DataFrame | None = None,
        *,
        n_echecs: int | None = None,
        key_name: str = "cle",
        fichier: str | None = None,
        source: str | None = None,
    ) -> None:
        assert categorie in CATEGORIES and gravite in GRAVITES, (categorie, gravite)
        fails = _empty_fails() if fails is None else fails.select(
            pl.col("cle").cast(pl.String), pl.col("ligne").cast(pl.Int64), pl.col("detail").cast(pl.String)
        )
        n_verifies = int(n_verifies or 0)
        n_e = int(fails.height if n_echecs is None else n_echecs) if n_verifies else 0
        statut = "non applicable" if n_verifies == 0 else ("échoué" if n_e > 0 else "réussi")
        examples = []
        if n_verifies:
            for r in fails.head(MAX_EXAMPLES).iter_rows(named=True):
                ex = {key_name: r["cle"]}
                if r["ligne"] is not None:
                    ex["ligne"] = r["ligne"]
                ex["detail"] = r["detail"]
                examples.append(ex)
            if fails.height:
                self.fails.append(
                    fails.head(MAX_FAILURES).with_columns(pl.lit(controle).alias("controle"), pl.lit(jeu).alias("jeu"))
                )
        self.rows.append(
            {
                "source": source or self.source_label(jeu),
                "jeu": jeu,
                "fichier": self.files(jeu) if fichier is None else fichier,
                "controle": controle,
                "categorie": categorie,
                "description": description,
                "gravite": gravite,
                "n_verifies": n_verifies,
                "n_echecs": n_e,
                "taux_echec": (n_e / n_verifies) if n_verifies else 0.0,
                "statut": statut,
                "exemples": json.dumps(examples, ensure_ascii=False, default=str),
            }
        )

    def na(self, controle, jeu, categorie, gravite, description, **kw) -> None:
        self.record(controle, jeu, categorie, gravite, description, 0, **kw)

    def results(self) -> dict[str, pl.DataFrame]:
        qualite = pl.DataFrame(self.rows, schema=QUALITE_SCHEMA, orient="row") if self.rows else pl.DataFrame(schema=QUALITE_SCHEMA)
        echecs = (
            pl.concat(self.fails, how="vertical").select(list(ECHECS_SCHEMA)).cast(ECHECS_SCHEMA)
            if self.fails
            else pl.DataFrame(schema=ECHECS_SCHEMA)
        )
        evolution = (
            pl.concat([e.select(list(EVOLUTION_SCHEMA)).cast(EVOLUTION_SCHEMA) for e in self.evolution], how="vertical")
            if self.evolution
            else pl.DataFrame(schema=EVOLUTION_SCHEMA)
        )
        return {"qualite": qualite, "qualite_echecs": echecs, "qualite_evolution": evolution}


# --- checks: types ------------------------------------------------------------


def _check_rejects(run: _Run) -> None:
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
            ("lignes_rejetees", False, "majeure", "Les lignes du fichier brut sont lues et typées sans rejet (nombre de champs, codes, dates, nombres)."),
            ("valeurs_corrigees", True, "mineure", "Les valeurs du fichier brut sont utilisables sans correction (lignes conservées, valeur corrigée ou mise à vide)."),
        ):  # fmt: skip
            if mine is None:
                fails = _empty_fails()
            else:
                part = mine.filter(pl.col("_correction") == corrections).unique(["file", "line"], keep="first", maintain_order=True)
                detail = pl.col("_reason_fr").str.slice(0, 240)
                fails = part.select(
                    _raw_key(pl.col("_raw")).alias("cle"),
                    pl.col("line").alias("ligne"),
                    (pl.format("{} : {}", pl.col("file"), detail) if several else detail).alias("detail"),
                )
            run.record(controle, jeu, "types", gravite, description, lines, fails, fichier=", ".join(paths), source=label)


# the readers' reasons (English, in rejets) rendered in French for the report
REASONS_FR = (
    (r"corrected \(row kept\): ", "corrigé (ligne conservée) : "),
    (r"expected (\d+) tab-separated fields, found (\d+)", "${1} champs séparés par des tabulations attendus, ${2} trouvés"),
    (r"expected (\d+) fields, found (\d+)", "${1} champs attendus, ${2} trouvés"),
    (r"invalid code (.+) in column (\w+)", "code invalide ${1} dans la colonne ${2}"),
    (r"unparseable date (.+) in column (\w+)", "date illisible ${1} dans la colonne ${2}"),
    (r"unparseable price (.+) in column (\w+)", "prix illisible ${1} dans la colonne ${2}"),
    (r"unparseable (\w+) (.+) in column (\w+)", "valeur illisible (${1}) ${2} dans la colonne ${3}"),
    (r"start date after the snapshot date \(in the future\)", "date de début postérieure à la date de l'instantané"),
    (r"update date after the snapshot date \(in the future\)", "date de mise à jour postérieure à la date de l'instantané"),
    (r"return date before the start date", "date de remise à disposition antérieure à la date de début"),
    (r"n_cas \((\d+)\) greater than exposure n_conso \((\d+)\): exposure set to missing for this cell, cases kept",
     "n_cas (${1}) supérieur aux patients exposés n_conso (${2}) : exposition mise à vide, cas conservés"),
    (r"n_cas missing", "n_cas absent"),
    (r"n_cas negative: (\S+)", "n_cas négatif : ${1}"),
    (r"unknown SOC (.+)", "classe d'organes (SOC) inconnue ${1}"),
    (r"unknown kind \(operations (.+)\)", "type de site inconnu (opérations ${1})"),
    (r"malformed postal code (\S+): commune not found", "code postal mal formé ${1} : commune introuvable"),
    (r"malformed postal code (\S+): (.+) found by (.+)", "code postal mal formé ${1} : ${2} trouvée par ${3}"),
    (r"latitude and longitude swapped in the source \(([^)]*)\): corrected", "latitude et longitude inversées dans la source (${1}) : corrigées"),
    (r"source coordinates \(([^)]*)\) are (\d+) km from the centroid of (.+) \((\w+)\): replaced by the centroid \((.+)\)",
     "coordonnées de la source (${1}) à ${2} km du centre de ${3} (${4}) : remplacées par ce centre (${5})"),
    (r"source coordinates [^(]+\(([^)]*)\): discarded, placed by (.+)", "coordonnées de la source inutilisables (${1}) : ignorées, site placé par ${2}"),
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
)  # fmt: skip


def _reason_fr(reasons: pl.Series) -> pl.Series:
    """French rendering of the readers' reasons (translated per distinct reason)."""
    distinct = reasons.unique().to_frame("reason")
    fr = pl.col("reason")
    for pattern, replacement in REASONS_FR:
        fr = fr.str.replace(pattern, replacement)
    mapping = distinct.with_columns(fr.alias("fr")).with_columns(
        pl.when(pl.col("fr") == pl.col("reason")).then("motif du lecteur : " + pl.col("reason")).otherwise(pl.col("fr")).alias("fr")
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


def _check_required(run: _Run) -> None:
    description = "Les champs obligatoires ({}) sont renseignés (ni nuls ni vides)."
    for jeu, cols in REQUIRED.items():
        frame = run.frame(jeu)
        desc = description.format(", ".join(cols))
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("champs_obligatoires", jeu, "champs obligatoires", "bloquante", desc)
            continue
        present = [c for c in cols if c in frame.columns]
        parts = []
        for c in present:
            if _is_string(frame, c):
                empty = pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")
            elif _is_list(frame, c):
                empty = pl.col(c).is_null() | (pl.col(c).list.len() == 0)
            else:
                empty = pl.col(c).is_null()
            parts.append(
                frame.filter(empty).select(
                    _key_expr(frame, jeu).fill_null("").alias("cle"),
                    _line_expr(frame).alias("ligne"),
                    pl.lit(f"champ obligatoire vide : {c}").alias("detail"),
                )
            )
        fails = pl.concat(parts) if parts else _empty_fails()
        missing_cols = [c for c in cols if c not in frame.columns]
        if missing_cols:  # a whole required column is absent: every row fails
            fails = pl.concat(
                [fails, frame.select(_key_expr(frame, jeu).alias("cle"), _line_expr(frame).alias("ligne"),
                                     pl.lit(f"colonne obligatoire absente : {', '.join(missing_cols)}").alias("detail"))]
            )  # fmt: skip
        run.record("champs_obligatoires", jeu, "champs obligatoires", "bloquante", desc, frame.height * len(cols), fails, key_name=KEYS.get(jeu, "cle"))


# --- checks: code formats -----------------------------------------------------


def _ean13_key(col: str) -> pl.Expr:
    total = pl.lit(0, dtype=pl.Int32)
    for i in range(12):
        total = total + pl.col(col).str.slice(i, 1).cast(pl.Int32, strict=False) * (3 if i % 2 else 1)
    return (10 - total % 10) % 10


def _datasets_with(run: _Run, col: str, expected: tuple[str, ...]) -> list[str]:
    found = [n for n, f in run.datasets.items() if col in f.columns and not n.startswith("qualite")]
    return list(dict.fromkeys([*expected, *sorted(found)]))


def _format_check(run: _Run, controle, jeu, col, regex, gravite, description, what, *, filter_expr=None, key_name=None):
    frame = run.frame(jeu)
    if frame is None or col not in frame.columns:
        run.na(controle, jeu, "format des codes", gravite, description)
        return
    values = frame.filter(pl.col(col).is_not_null())
    if filter_expr is not None:
        values = values.filter(filter_expr)
    values = values.with_columns(pl.col(col).cast(pl.String).alias("_v"))
    bad = values.filter(~pl.col("_v").str.contains(regex))
    fails = bad.select(
        pl.col("_v").alias("cle"),
        _line_expr(frame).alias("ligne"),
        pl.format("{} invalide : « {} » ({})", pl.lit(what), pl.col("_v"), pl.lit(col)).alias("detail"),
    )
    run.record(controle, jeu, "format des codes", gravite, description, values.height, fails, key_name=key_name or col)


def _check_codes(run: _Run) -> None:
    for jeu in _datasets_with(run, "cis", CIS_DATASETS):
        _format_check(run, "cis_format", jeu, "cis", r"^[0-9]{8}$", "bloquante",
                      "Le code CIS comporte exactement 8 chiffres.", "code CIS")  # fmt: skip
    for jeu in ("presentations", "disponibilites", "ruptures_episodes"):
        _format_check(run, "cip13_format", jeu, "cip13", r"^[0-9]{13}$", "bloquante",
                      "Le code CIP13 (quand il est renseigné) comporte exactement 13 chiffres.", "code CIP13")  # fmt: skip
        _check_cip13_key(run, jeu)
    _format_check(run, "cip7_format", "presentations", "cip7", r"^[0-9]{7}$", "bloquante",
                  "Le code CIP7 comporte exactement 7 chiffres.", "code CIP7")  # fmt: skip
    _check_cip7_cip13(run)
    for jeu in _datasets_with(run, "code_atc", ATC_DATASETS):
        _format_check(run, "atc_format", jeu, "code_atc", ATC_RE, "majeure",
                      "Le code ATC suit la structure de la classification (A, A01, A01A, A01AA, A01AA01).", "code ATC")  # fmt: skip
    for jeu in ("compositions", "substances", "ei_liens"):
        _format_check(run, "code_substance_format", jeu, "code_substance", r"^[0-9]{1,6}$", "majeure",
                      "Le code substance de la BDPM comporte de 1 à 6 chiffres.", "code substance")  # fmt: skip
    for jeu in ("has_smr", "has_asmr", "has_liens_ct"):
        _format_check(run, "code_has_format", jeu, "code_dossier_has", r"^CT-?[0-9]+$", "majeure",
                      "Le code de dossier HAS a la forme CT-12345.", "code de dossier HAS")  # fmt: skip
    france = None
    if (sites := run.frame("sites")) is not None and "pays" in sites.columns:
        france = pl.col("pays").is_null() | (pl.col("pays") == "FRA")
    for jeu in ("sites", "communes"):
        _format_check(run, "code_postal_format", jeu, "code_postal", r"^[0-9]{5}$", "majeure",
                      "Le code postal comporte exactement 5 chiffres.", "code postal",
                      filter_expr=france if jeu == "sites" else None)  # fmt: skip
        _format_check(run, "code_insee_format", jeu, "code_insee", INSEE_RE, "majeure",
                      "Le code commune INSEE comporte 5 caractères : 5 chiffres, ou 2A/2B suivi de 3 chiffres (Corse).",
                      "code INSEE", filter_expr=france if jeu == "sites" else None)  # fmt: skip


def _check_cip13_key(run: _Run, jeu: str) -> None:
    description = "Le dernier chiffre du code CIP13 est la clé de contrôle EAN-13 exacte."
    frame = run.frame(jeu)
    if frame is None or "cip13" not in frame.columns:
        run.na("cip13_cle", jeu, "format des codes", "bloquante", description)
        return
    ok = frame.filter(pl.col("cip13").cast(pl.String).str.contains(r"^[0-9]{13}$"))
    ok = ok.with_columns(_ean13_key("cip13").alias("_attendue"), pl.col("cip13").str.slice(12, 1).cast(pl.Int32).alias("_trouvee"))
    bad = ok.filter(pl.col("_attendue") != pl.col("_trouvee"))
    fails = bad.select(
        pl.col("cip13").alias("cle"),
        _line_expr(frame).alias("ligne"),
        pl.format("clé EAN-13 attendue {}, trouvée {}", pl.col("_attendue"), pl.col("_trouvee")).alias("detail"),
    )
    run.record("cip13_cle", jeu, "format des codes", "bloquante", description, ok.height, fails, key_name="cip13")


def _check_cip7_cip13(run: _Run) -> None:
    description = "Le code CIP13 reprend le code CIP7 de la présentation (chiffres 6 à 12)."
    frame = run.frame("presentations")
    if frame is None or not {"cip7", "cip13"} <= set(frame.columns):
        run.na("cip7_cip13_coherence", "presentations", "format des codes", "majeure", description)
        return
    ok = frame.filter(pl.col("cip7").str.contains(r"^[0-9]{7}$") & pl.col("cip13").str.contains(r"^[0-9]{13}$"))
    bad = ok.filter(pl.col("cip13").str.slice(5, 7) != pl.col("cip7"))
    fails = bad.select(
        pl.col("cip13").alias("cle"),
        _line_expr(frame).alias("ligne"),
        pl.format("CIP7 {} absent du CIP13 {}", pl.col("cip7"), pl.col("cip13")).alias("detail"),
    )
    run.record("cip7_cip13_coherence", "presentations", "format des codes", "majeure", description, ok.height, fails, key_name="cip13")


# --- checks: referential integrity ----------------------------------------------


def _parent_values(run: _Run, parents: tuple[tuple[str, str], ...]) -> pl.Series | None:
    series = [f[col].drop_nulls().cast(pl.String) for name, col in parents if (f := run.frame(name)) is not None and col in f.columns]
    if not series:
        return None
    return pl.concat(series).unique()


def _integrity(run: _Run, controle, jeu, col, parents, parent_label, description, gravite="majeure") -> None:
    child = run.frame(jeu)
    parent = _parent_values(run, parents)
    if child is None or col not in child.columns or parent is None or parent.is_empty():
        run.na(controle, jeu, "intégrité référentielle", gravite, description)
        return
    values = child.filter(pl.col(col).is_not_null()).with_columns(pl.col(col).cast(pl.String).alias("_v"))
    bad = values.join(pl.DataFrame({"_v": parent}), on="_v", how="anti")
    fails = bad.select(
        pl.col("_v").alias("cle"),
        _line_expr(child).alias("ligne"),
        pl.format("{} {} absent de : {}", pl.lit(col), pl.col("_v"), pl.lit(parent_label)).alias("detail"),
    )
    run.record(controle, jeu, "intégrité référentielle", gravite, description, values.height, fails, key_name=col)


def _check_integrity(run: _Run) -> None:
    for jeu in CIS_CHILDREN:
        _integrity(run, "cis_dans_specialites", jeu, "cis", (("specialites", "cis"),), PARENT_LABELS["specialites"],
                   "Chaque code CIS existe dans la liste des spécialités (CIS_bdpm).")  # fmt: skip
    _integrity(run, "code_has_dans_avis", "has_liens_ct", "code_dossier_has",
               (("has_smr", "code_dossier_has"), ("has_asmr", "code_dossier_has")), PARENT_LABELS["has_smr/has_asmr"],
               "Chaque code de dossier HAS des liens vers les avis existe dans les avis SMR ou ASMR.")  # fmt: skip
    _integrity(run, "atc_dans_classification", "specialite_atc", "code_atc", (("atc", "code_atc"),), PARENT_LABELS["atc"],
               "Chaque code ATC attribué à une spécialité existe dans la classification ATC.")  # fmt: skip
    _integrity(run, "substance_dans_substances", "ei_liens", "code_substance", (("substances", "code_substance"),),
               PARENT_LABELS["substances"],
               "Chaque substance de pharmacovigilance reliée pointe vers une substance de la BDPM.")  # fmt: skip
    _integrity(run, "site_dans_sites", "titulaires_sites", "site_id", (("sites", "site_id"),), PARENT_LABELS["sites"],
               "Chaque site relié à un titulaire existe dans la liste des sites.")  # fmt: skip


# --- checks: duplicates ---------------------------------------------------------

UNIQUE_KEYS = (
    ("cis_unique", "specialites", "cis", "Chaque code CIS n'apparaît qu'une fois dans les spécialités."),
    ("cip13_unique", "presentations", "cip13", "Chaque code CIP13 n'apparaît qu'une fois dans les présentations."),
    ("cip7_unique", "presentations", "cip7", "Chaque code CIP7 n'apparaît qu'une fois dans les présentations."),
    ("cis_unique", "mitm", "cis", "Chaque code CIS n'apparaît qu'une fois dans la liste des MITM."),
    ("code_atc_unique", "atc", "code_atc", "Chaque code ATC n'apparaît qu'une fois dans la classification."),
    ("site_id_unique", "sites", "site_id", "Chaque identifiant de site n'apparaît qu'une fois."),
    ("code_substance_unique", "substances", "code_substance", "Chaque code substance n'apparaît qu'une fois."),
)
FULL_ROW_DUPLICATES = ("compositions", "generiques", "conditions", "has_smr", "has_asmr")


def _check_duplicates(run: _Run) -> None:
    for controle, jeu, col, description in UNIQUE_KEYS:
        frame = run.frame(jeu)
        if frame is None or col not in frame.columns:
            run.na(controle, jeu, "doublons", "bloquante", description)
            continue
        values = frame.filter(pl.col(col).is_not_null())
        line = _line_expr(frame)
        bad = values.with_columns(
            pl.len().over(col).alias("_n"), line.alias("_l"), line.min().over(col).alias("_first")
        ).filter(pl.col("_n") > 1)
        fails = bad.select(
            pl.col(col).cast(pl.String).alias("cle"),
            pl.col("_l").alias("ligne"),
            pl.when(pl.col("_first").is_not_null())
            .then(pl.format("{} présent {} fois (première occurrence ligne {})", pl.lit(col), pl.col("_n"), pl.col("_first")))
            .otherwise(pl.format("{} présent {} fois", pl.lit(col), pl.col("_n")))
            .alias("detail"),
        )
        run.record(controle, jeu, "doublons", "bloquante", description, values.height, fails, key_name=col)
    description = "Aucune ligne n'est répétée à l'identique (hors numéro de ligne)."
    for jeu in FULL_ROW_DUPLICATES:
        frame = run.frame(jeu)
        if frame is None:
            run.na("lignes_dupliquees", jeu, "doublons", "mineure", description)
            continue
        content = frame.drop("source_line", strict=False)
        mask = content.is_duplicated()
        if not mask.any():
            run.record("lignes_dupliquees", jeu, "doublons", "mineure", description, frame.height)
            continue
        line = _line_expr(frame)
        bad = (
            frame.with_columns(content.hash_rows().alias("_h"), line.alias("_l"))
            .filter(mask)
            .with_columns(pl.col("_l").min().over("_h").alias("_first"), pl.len().over("_h").alias("_n"))
        )
        fails = bad.select(
            _key_expr(frame, jeu).alias("cle"),
            pl.col("_l").alias("ligne"),
            pl.format("ligne répétée {} fois à l'identique (première occurrence ligne {})", pl.col("_n"), pl.col("_first")).alias("detail"),
        )
        run.record("lignes_dupliquees", jeu, "doublons", "mineure", description, frame.height, fails, key_name=KEYS.get(jeu, "cle"))


# --- checks: dates ----------------------------------------------------------------


def _stack_dates(frame: pl.DataFrame, jeu: str, cols: tuple[str, ...], ref: pl.Expr | None = None) -> pl.DataFrame:
    parts = []
    for c in cols:
        if c in frame.columns and frame.schema[c] in (pl.Date, pl.Datetime):
            parts.append(
                frame.select(
                    _key_expr(frame, jeu).alias("cle"),
                    _line_expr(frame).alias("ligne"),
                    pl.lit(c).alias("colonne"),
                    pl.col(c).cast(pl.Date).alias("valeur"),
                    (ref if ref is not None else pl.lit(None, dtype=pl.Date)).cast(pl.Date).alias("reference"),
                ).filter(pl.col("valeur").is_not_null())
            )
    if not parts:
        return pl.DataFrame(schema={"cle": pl.String, "ligne": pl.Int64, "colonne": pl.String, "valeur": pl.Date, "reference": pl.Date})
    return pl.concat(parts)


def _check_dates(run: _Run) -> None:
    for jeu, cols in FUTURE_DATES.items():
        if jeu == "ruptures_episodes":
            description = "Aucune date ({}) n'est postérieure à la date de construction.".format(", ".join(cols))
        else:
            description = "Aucune date ({}) n'est postérieure à la date de l'instantané.".format(", ".join(cols))
        frame = run.frame(jeu)
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("dates_futures", jeu, "dates", "majeure", description)
            continue
        default = run.today if jeu == "ruptures_episodes" else run.snapshot(jeu)
        ref = pl.lit(default, dtype=pl.Date)
        if jeu == "disponibilites" and "snapshot" in frame.columns:
            ref = pl.col("snapshot").cast(pl.Date).fill_null(ref)
        stacked = _stack_dates(frame, jeu, cols, ref)
        bad = stacked.filter(pl.col("valeur") > pl.col("reference"))
        fails = bad.select(
            "cle", "ligne",
            pl.format("{} {} postérieure à la date de référence {}", pl.col("colonne"), pl.col("valeur"), pl.col("reference")).alias("detail"),
        )  # fmt: skip
        run.record("dates_futures", jeu, "dates", "majeure", description, stacked.height, fails, key_name=KEYS.get(jeu, "cle"))
    for jeu, (start, end) in DATE_ORDER.items():
        description = f"La date de fin ({end}) n'est jamais antérieure à la date de début ({start})."
        frame = run.frame(jeu)
        if frame is None or start not in frame.columns or end not in frame.columns:
            run.na("dates_ordre", jeu, "dates", "majeure", description)
            continue
        both = frame.filter(pl.col(start).is_not_null() & pl.col(end).is_not_null())
        bad = both.filter(pl.col(end) < pl.col(start))
        fails = bad.select(
            _key_expr(frame, jeu).alias("cle"),
            _line_expr(frame).alias("ligne"),
            pl.format("{} {} antérieure à {} {}", pl.lit(end), pl.col(end), pl.lit(start), pl.col(start)).alias("detail"),
        )
        run.record("dates_ordre", jeu, "dates", "majeure", description, both.height, fails, key_name=KEYS.get(jeu, "cle"))
    for jeu, cols in OLD_DATES.items():
        description = "Aucune date ({}) n'est antérieure au {} (date invraisemblable).".format(", ".join(cols), OLDEST_DATE.strftime("%d/%m/%Y"))
        frame = run.frame(jeu)
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("dates_anciennes", jeu, "dates", "mineure", description)
            continue
        stacked = _stack_dates(frame, jeu, cols)
        bad = stacked.filter(pl.col("valeur") < pl.lit(OLDEST_DATE))
        fails = bad.select("cle", "ligne", pl.format("{} {} invraisemblablement ancienne", pl.col("colonne"), pl.col("valeur")).alias("detail"))
        run.record("dates_anciennes", jeu, "dates", "mineure", description, stacked.height, fails, key_name=KEYS.get(jeu, "cle"))


# --- checks: labels -----------------------------------------------------------------


def _stack_text(frame: pl.DataFrame, jeu: str, cols: tuple[str, ...]) -> pl.DataFrame:
    """(cle, ligne, colonne, valeur) for every non-null value; list columns exploded."""
    parts = []
    for c in cols:
        if c not in frame.columns:
            continue
        if _is_list(frame, c) and frame.schema[c].inner == pl.String:
            part = frame.select(_key_expr(frame, jeu).alias("cle"), _line_expr(frame).alias("ligne"), pl.col(c).alias("valeur")).explode("valeur")
        elif _is_string(frame, c):
            part = frame.select(_key_expr(frame, jeu).alias("cle"), _line_expr(frame).alias("ligne"), pl.col(c).alias("valeur"))
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


def _check_labels(run: _Run) -> None:
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
                    "cle", "ligne",
                    pl.when(pl.col("valeur").str.contains(r"^\s|\s$"))
                    .then(pl.format("espace en début ou en fin dans {} : « {} »", pl.col("colonne"), pl.col("valeur").str.slice(0, 80)))
                    .otherwise(pl.format("espaces doubles dans {} : « {} »", pl.col("colonne"), pl.col("valeur").str.slice(0, 80)))
                    .alias("detail"),
                )  # fmt: skip
                run.record("libelles_espaces", jeu, "libellés", "mineure", desc, values.height, fails, key_name=KEYS.get(jeu, "cle"))
        cols = (*short, *LONG_TEXT.get(jeu, ()))
        desc = moji_desc.format(", ".join(cols))
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("libelles_mojibake", jeu, "libellés", "majeure", desc)
            continue
        values = _stack_text(frame, jeu, cols)
        bad = values.filter(pl.col("valeur").str.contains(MOJIBAKE_RE))
        fails = bad.select(
            "cle", "ligne",
            pl.format("caractères mal décodés dans {} : « {} »", pl.col("colonne"), pl.col("valeur").str.extract(SNIPPET_RE, 1)).alias("detail"),
        )  # fmt: skip
        run.record("libelles_mojibake", jeu, "libellés", "majeure", desc, values.height, fails, key_name=KEYS.get(jeu, "cle"))
    _check_variants(run)


def _check_variants(run: _Run) -> None:
    description = "Les valeurs des libellés codés ({}) ne se déclinent pas en variantes qui ne diffèrent que par la casse, les accents ou les espaces."
    for jeu, cols in VARIANT_COLUMNS.items():
        desc = description.format(", ".join(cols))
        frame = run.frame(jeu)
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("libelles_variantes", jeu, "libellés", "mineure", desc)
            continue
        values = _stack_text(frame, jeu, cols)
        # normalise the distinct values only (a few hundred), not every row
        counts = values.group_by("colonne", "valeur").agg(pl.len().alias("_n")).with_columns(_normalised(pl.col("valeur")).alias("_norm"))
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
            "cle", "ligne",
            pl.format("variante « {} » de « {} » ({} lignes) dans {}", pl.col("valeur"), pl.col("_ref"), pl.col("_nref"), pl.col("colonne")).alias("detail"),
        )  # fmt: skip
        run.record("libelles_variantes", jeu, "libellés", "mineure", desc, values.height, fails, key_name=KEYS.get(jeu, "cle"))


# --- checks: plausibility --------------------------------------------------------------


def _check_pv_columns(run: _Run) -> None:
    description = "Chaque colonne du fichier de pharmacovigilance est exploitable (aucune colonne jugée inutilisable à l'inspection)."
    cols = run.datasets.get("ei_colonnes")
    pv_entries = {str(s.get("path")): s for s in run.sources if str(s.get("dataset") or "").startswith("ei_")}
    if cols is None or cols.is_empty() or not {"fichier", "colonne", "statut"} <= set(cols.columns):
        run.na("pv_colonnes", "ei_colonnes", "plausibilité", "majeure", description, fichier="", source="Pharmacovigilance")
        return
    cols = cols.with_columns(
        (pl.col("detail").cast(pl.String).fill_null("") if "detail" in cols.columns else pl.lit("")).alias("detail"),
        pl.col("fichier").cast(pl.String).fill_null(""),
    )
    jeux = {path: str(entry["dataset"]) for path, entry in pv_entries.items()}
    cols = cols.with_columns(pl.col("fichier").replace_strict(jeux, default="ei_colonnes", return_dtype=pl.String).alias("_jeu"))
    # one row per check x dataset (two files may feed one dataset, e.g. ei_annee)
    for (jeu,), part in cols.group_by("_jeu", maintain_order=True):
        files = [f for f in dict.fromkeys(part["fichier"].to_list()) if f and f != "(tous)"]
        bad = part.filter(pl.col("statut").str.to_lowercase().str.starts_with("inutilisable"))
        where = pl.when(pl.col("fichier").is_in(["", "(tous)"])).then(pl.lit("")).otherwise(pl.format(" ({})", pl.col("fichier")))
        fails = bad.select(
            pl.col("colonne").alias("cle"),
            pl.lit(None, dtype=pl.Int64).alias("ligne"),
            pl.format("colonne {}{} inutilisable : {}", pl.col("colonne"), where, pl.col("detail")).alias("detail"),
        )
        run.record("pv_colonnes", jeu, "plausibilité", "majeure", description, part.height, fails,
                   key_name="colonne", fichier=", ".join(files), source="Pharmacovigilance")  # fmt: skip


def _check_prices(run: _Run) -> None:
    bound = f"{PRICE_MAX:,.0f}".replace(",", "\u202f")
    desc_bounds = f"Les prix et honoraires sont positifs ou nuls et inférieurs à {bound} €."
    desc_order = "Le prix public (honoraires compris) n'est pas inférieur au prix du médicament."
    frame = run.frame("presentations")
    cols = [c for c in PRICE_COLUMNS if frame is not None and c in frame.columns]
    if not cols:
        run.na("prix_bornes", "presentations", "plausibilité", "majeure", desc_bounds)
    else:
        parts = [
            frame.filter(pl.col(c).is_not_null()).select(
                pl.col("cip13").alias("cle") if "cip13" in frame.columns else _key_expr(frame, "presentations").alias("cle"),
                _line_expr(frame).alias("ligne"),
                pl.lit(c).alias("colonne"),
                pl.col(c).cast(pl.Float64).alias("valeur"),
            )
            for c in cols
        ]
        values = pl.concat(parts)
        bad = values.filter((pl.col("valeur") < 0) | (pl.col("valeur") >= PRICE_MAX))
        fails = bad.select("cle", "ligne", pl.format("{} = {} € hors bornes", pl.col("colonne"), pl.col("valeur")).alias("detail"))
        run.record("prix_bornes", "presentations", "plausibilité", "majeure", desc_bounds, values.height, fails, key_name="cip13")
    if frame is None or not {"prix_medicament_euro", "prix_public_euro"} <= set(frame.columns):
        run.na("prix_public_coherent", "presentations", "plausibilité", "majeure", desc_order)
        return
    both = frame.filter(pl.col("prix_medicament_euro").is_not_null() & pl.col("prix_public_euro").is_not_null())
    bad = both.filter(pl.col("prix_public_euro") < pl.col("prix_medicament_euro"))
    fails = bad.select(
        _key_expr(frame, "presentations").alias("cle"),
        _line_expr(frame).alias("ligne"),
        pl.format("prix public {} € inférieur au prix du médicament {} €", pl.col("prix_public_euro"), pl.col("prix_medicament_euro")).alias("detail"),
    )
    run.record("prix_public_coherent", "presentations", "plausibilité", "majeure", desc_order, both.height, fails, key_name="cip13")


ALLOWED_VALUES = (
    ("generiques", "type_generique", (0, 1, 2, 4), "Le type de générique vaut 0 (princeps), 1, 2 ou 4."),
    ("compositions", "nature_composant", ("SA", "FT"), "La nature du composant vaut SA (substance active) ou FT (fraction thérapeutique)."),
    ("disponibilites", "code_statut", (1, 2, 3, 4), "Le code de statut de disponibilité vaut 1, 2, 3 ou 4."),
    ("presentations", "taux_remboursement", REIMBURSEMENT_RATES, "Les taux de remboursement valent 15, 30, 65 ou 100 %."),
)


EXPECTED_LABELS = {
    "specialites": (
        ("statut_amm", r"^Autorisation ", "commence par « Autorisation »"),
        ("etat_commercialisation", r"^(Non c|C)ommercialisée$", "vaut « Commercialisée » ou « Non commercialisée »"),
    ),
    "presentations": (
        ("statut_admin_presentation", r"^Présentation ", "commence par « Présentation »"),
        ("etat_commercialisation", r"ommercialisation", "parle de commercialisation"),
    ),
}


def _check_expected_labels(run: _Run) -> None:
    """Status columns hold the official wording (catches columns swapped or shifted)."""
    for jeu, rules in EXPECTED_LABELS.items():
        description = "Les colonnes de statut ont le libellé officiel attendu (" + " ; ".join(
            f"{col} {what}" for col, _, what in rules
        ) + ")."
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
                    _key_expr(frame, jeu).alias("cle"), _line_expr(frame).alias("ligne"),
                    pl.format("{} = « {} » : attendu un libellé qui {}", pl.lit(col), pl.col(col).str.slice(0, 60), pl.lit(what)).alias("detail"),
                )
            )  # fmt: skip
        run.record("libelles_attendus", jeu, "plausibilité", "majeure", description, n, pl.concat(parts), key_name=KEYS.get(jeu, "cle"))


def _check_allowed_values(run: _Run) -> None:
    for jeu, col, allowed, description in ALLOWED_VALUES:
        frame = run.frame(jeu)
        if frame is None or col not in frame.columns:
            run.na("valeurs_autorisees", jeu, "plausibilité", "majeure", description)
            continue
        values = frame.select(_key_expr(frame, jeu).alias("cle"), _line_expr(frame).alias("ligne"), pl.col(col).alias("valeur"))
        if _is_list(frame, col):
            values = values.explode("valeur")
        values = values.filter(pl.col("valeur").is_not_null())
        dtype = values.schema["valeur"]
        bad = values.filter(~pl.col("valeur").is_in(pl.Series(list(allowed)).cast(dtype, strict=False).implode()))
        fails = bad.select("cle", "ligne", pl.format("{} = {} : valeur non prévue", pl.lit(col), pl.col("valeur")).alias("detail"))
        run.record("valeurs_autorisees", jeu, "plausibilité", "majeure", description, values.height, fails, key_name=KEYS.get(jeu, "cle"))


def _check_coordinates(run: _Run) -> None:
    description = "Les coordonnées sont dans les bornes terrestres (latitude ±90°, longitude ±180°) et ne valent pas (0, 0)."
    for jeu in ("sites", "communes"):
        frame = run.frame(jeu)
        if frame is None or not {"latitude", "longitude"} <= set(frame.columns):
            run.na("coordonnees_plausibles", jeu, "plausibilité", "majeure", description)
            continue
        both = frame.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
        bad = both.filter(
            (pl.col("latitude").abs() > 90) | (pl.col("longitude").abs() > 180) | ((pl.col("latitude") == 0) & (pl.col("longitude") == 0))
        )
        fails = bad.select(
            _key_expr(frame, jeu).alias("cle"),
            _line_expr(frame).alias("ligne"),
            pl.format("coordonnées invraisemblables ({}, {})", pl.col("latitude"), pl.col("longitude")).alias("detail"),
        )
        run.record("coordonnees_plausibles", jeu, "plausibilité", "majeure", description, both.height, fails, key_name=KEYS.get(jeu, "cle"))


# --- evolution -------------------------------------------------------------------------

SNAPSHOT_FILES = (
    # (spec key, dataset, key column, label column, state columns -> change label, added, removed, checks)
    {
        "key": "CIS_bdpm", "dataset": "specialites", "col": "cis", "label": "denomination",
        "states": (("etat_commercialisation", "changement d'état de commercialisation"), ("statut_amm", "changement de statut AMM")),
        "added": "CIS ajouté", "removed": "CIS retiré",
        "count_check": ("evolution_nombre_cis", "Le nombre de CIS ne baisse pas de plus de 5 % entre les deux derniers instantanés de CIS_bdpm."),
        "gone_check": ("evolution_cis_disparus", "Moins de 5 % des CIS de l'avant-dernier instantané de CIS_bdpm ont disparu du dernier."),
        "noun": "CIS", "gone": "disparus",
    },
    {
        "key": "CIS_CIP_bdpm", "dataset": "presentations", "col": "cip13", "label": "libelle_presentation",
        "states": (("etat_commercialisation", "changement d'état de commercialisation"),),
        "added": "présentation ajoutée", "removed": "présentation retirée",
        "count_check": ("evolution_nombre_presentations", "Le nombre de présentations ne baisse pas de plus de 5 % entre les deux derniers instantanés de CIS_CIP_bdpm."),
        "gone_check": ("evolution_presentations_disparues", "Moins de 5 % des présentations de l'avant-dernier instantané de CIS_CIP_bdpm ont disparu du dernier."),
        "noun": "présentations", "gone": "disparues",
    },
)  # fmt: skip


def _raw_snapshots(raw: Path | None, spec_key: str) -> list[tuple[str, Path, str]]:
    """(snapshot, path, rel) of a BDPM file in raw/bdpm/<YYYY-MM-DD>/, newest first."""
    from datamed.sources.bdpm import spec_for_filename

    bdpm = raw / "bdpm" if raw else None
    if bdpm is None or not bdpm.is_dir():
        return []
    out = []
    for snap in bdpm.iterdir():
        if not snap.is_dir() or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", snap.name):
            continue
        for path in snap.iterdir():
            spec = spec_for_filename(path.name) if path.is_file() else None
            if spec is not None and spec.key == spec_key:
                out.append((snap.name, path, f"bdpm/{snap.name}/{path.name}"))
    return sorted(out, reverse=True)


def _light_spec(spec):
    """The file's spec without typing the columns the comparison never reads
    (prices, rates, booleans, integers, lists): keys, labels and states are
    still validated, at a third of the cost."""
    used = {c["col"] for c in SNAPSHOT_FILES} | {c["label"] for c in SNAPSHOT_FILES}
    used |= {s for c in SNAPSHOT_FILES for s, _ in c["states"]}
    costly = ("price", "rates", "oui_non", "int", "list")
    columns = tuple((n, "str" if k in costly and n not in used else k) for n, k in spec.columns)
    return dataclasses.replace(spec, columns=columns)


def _read_raw_snapshot(path: Path, rel: str) -> pl.DataFrame | None:
    from datamed.sources.bdpm import read_bdpm_file, spec_for_filename

    try:
        return read_bdpm_file(path, _light_spec(spec_for_filename(path.name)), file_label=rel).frame
    except Exception:  # an unreadable old snapshot only disables the comparison
        return None


def _start_snapshot_reads(run: _Run) -> None:
    """Read the raw snapshots the comparison needs in a background thread (the
    reader is mostly Python; the checks are mostly polars, which releases the
    GIL), reusing the prepared frame when it comes from that very file."""
    jobs = {}
    for conf in SNAPSHOT_FILES:
        snaps = _raw_snapshots(run.raw, conf["key"])[:2]
        run.snapshots[conf["key"]] = snaps
        if len(snaps) < 2:
            continue
        for _, path, rel in snaps:
            current = run.frame(conf["dataset"])
            if current is not None and any(str(s.get("path")) == rel for s in run.by_dataset.get(conf["dataset"], [])):
                run.snapshot_frames[rel] = current
            else:
                jobs[rel] = path
    if jobs:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qualite")
        for rel, path in jobs.items():
            run.snapshot_frames[rel] = pool.submit(_read_raw_snapshot, path, rel)
        pool.shutdown(wait=False)


def _snapshot_frame(run: _Run, rel: str) -> pl.DataFrame | None:
    value = run.snapshot_frames.get(rel)
    if isinstance(value, Future):
        value = run.snapshot_frames[rel] = value.result()
    return value


def _compare_snapshots(run: _Run) -> None:
    for conf in SNAPSHOT_FILES:
        jeu, col = conf["dataset"], conf["col"]
        checks = (conf["count_check"], conf["gone_check"])
        snaps = run.snapshots.get(conf["key"], [])
        frames = []
        if len(snaps) >= 2:
            frames = [_snapshot_frame(run, rel) for _, _, rel in snaps[:2]]
        if len(frames) < 2 or any(f is None or col not in f.columns for f in frames):
            for controle, description in checks:
                run.na(controle, jeu, "évolution", "majeure", description)
            continue
        (snap_new, _, rel_new), (snap_old, _, rel_old) = snaps[0], snaps[1]
        new, old = frames
        label = conf["label"]
        keep = [c for c in dict.fromkeys([col, label, *(s for s, _ in conf["states"])]) if c in new.columns and c in old.columns]
        new_k = new.select(keep).filter(pl.col(col).is_not_null()).unique(col, keep="first")
        old_k = old.select(keep).filter(pl.col(col).is_not_null()).unique(col, keep="first")
        added = new_k.join(old_k.select(col), on=col, how="anti")
        removed = old_k.join(new_k.select(col), on=col, how="anti")
        state0 = conf["states"][0][0] if conf["states"][0][0] in keep else None
        parts = [
            added.select(
                pl.lit(conf["added"]).alias("changement"), pl.col(col).alias("cle"),
                (pl.col(label) if label in keep else pl.lit(None, pl.String)).alias("libelle"),
                pl.lit(None, pl.String).alias("avant"),
                (pl.col(state0) if state0 else pl.lit(None, pl.String)).alias("apres"),
            ),
            removed.select(
                pl.lit(conf["removed"]).alias("changement"), pl.col(col).alias("cle"),
                (pl.col(label) if label in keep else pl.lit(None, pl.String)).alias("libelle"),
                (pl.col(state0) if state0 else pl.lit(None, pl.String)).alias("avant"),
                pl.lit(None, pl.String).alias("apres"),
            ),
        ]  # fmt: skip
        both = new_k.join(old_k, on=col, how="inner", suffix="_avant")
        for state, change in conf["states"]:
            if state not in keep:
                continue
            diff = both.filter(pl.col(state).ne_missing(pl.col(f"{state}_avant")))
            parts.append(
                diff.select(
                    pl.lit(change).alias("changement"), pl.col(col).alias("cle"),
                    (pl.col(label) if label in keep else pl.lit(None, pl.String)).alias("libelle"),
                    pl.col(f"{state}_avant").alias("avant"), pl.col(state).alias("apres"),
                )
            )  # fmt: skip
        run.evolution.append(
            pl.concat(parts).with_columns(
                pl.lit(jeu).alias("jeu"), pl.lit(snap_old).alias("instantane_avant"), pl.lit(snap_new).alias("instantane_apres")
            )
        )
        n_old, n_new = old_k.height, new_k.height
        fichier = f"{rel_old}, {rel_new}"
        noun = conf["noun"]
        (count_id, count_desc), (gone_id, gone_desc) = checks
        drop = (n_old - n_new) / n_old if n_old else 0.0
        detail = f"{noun} : {fr_int(n_old)} au {snap_old}, {fr_int(n_new)} au {snap_new} ({_fr_pct(-drop)}), seuil −5 %"
        fails = pl.DataFrame({"cle": [conf["key"]], "ligne": [None], "detail": [detail]}, schema=_FAILS_SCHEMA)
        failed = drop > SNAPSHOT_DROP
        run.record(count_id, jeu, "évolution", "majeure", count_desc, 1 if n_old else 0, fails if failed else None, fichier=fichier, key_name="fichier")
        share = removed.height / n_old if n_old else 0.0
        detail = f"{fr_int(removed.height)} {noun} {conf['gone']} sur {fr_int(n_old)} ({_fr_pct(share).lstrip('+')}) entre le {snap_old} et le {snap_new}, seuil 5 %"
        fails = pl.DataFrame({"cle": [conf["key"]], "ligne": [None], "detail": [detail]}, schema=_FAILS_SCHEMA)
        failed = share > SNAPSHOT_DROP
        run.record(gone_id, jeu, "évolution", "majeure", gone_desc, 1 if n_old else 0, fails if failed else None, fichier=fichier, key_name="fichier")


def _availability_changes(run: _Run) -> None:
    """Per-CIS availability status between consecutive snapshots of disponibilites."""
    dispo = run.frame("disponibilites")
    if dispo is None or not {"snapshot", "cis", "libelle_statut"} <= set(dispo.columns):
        return
    snaps = sorted(d for d in dispo["snapshot"].unique().to_list() if d is not None)
    if len(snaps) < 2:
        return
    status = (
        dispo.filter(pl.col("snapshot").is_not_null() & pl.col("cis").is_not_null())
        .group_by("snapshot", "cis")
        .agg(pl.col("libelle_statut").drop_nulls().unique().sort().str.join(" ; ").alias("statut"))
    )
    absent = "absent de la liste"
    parts = []
    for before, after in zip(snaps, snaps[1:]):
        a = status.filter(pl.col("snapshot") == before).select("cis", pl.col("statut").alias("avant"))
        b = status.filter(pl.col("snapshot") == after).select("cis", pl.col("statut").alias("apres"))
        joined = a.join(b, on="cis", how="full", coalesce=True).with_columns(pl.col("avant").fill_null(absent), pl.col("apres").fill_null(absent))
        diff = joined.filter(pl.col("avant") != pl.col("apres"))
        parts.append(diff.with_columns(pl.lit(before.isoformat()).alias("instantane_avant"), pl.lit(after.isoformat()).alias("instantane_apres")))
    changes = pl.concat(parts)
    names = run.frame("specialites")
    if names is not None and {"cis", "denomination"} <= set(names.columns):
        changes = changes.join(names.select("cis", pl.col("denomination").alias("libelle")).unique("cis"), on="cis", how="left")
    else:
        changes = changes.with_columns(pl.lit(None, pl.String).alias("libelle"))
    run.evolution.append(
        changes.select(
            pl.lit("disponibilites").alias("jeu"), pl.lit("changement de statut de disponibilité").alias("changement"),
            pl.col("cis").alias("cle"), "libelle", "avant", "apres", "instantane_avant", "instantane_apres",
        ).sort("instantane_avant", "cle")
    )  # fmt: skip


def _previous_counts(previous: Path | None) -> tuple[dict[str, int], str]:
    """Rows per dataset of the previous build (manifest, else the parquet files) and its date."""
    if previous is None or not previous.is_dir():
        return {}, ""
    counts: dict[str, int] = {}
    built = ""
    manifest = previous / "manifest.json"
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            built = str(data.get("built_at") or "")[:10]
            for name, entry in (data.get("datasets") or {}).items():
                if isinstance(entry, dict) and isinstance(entry.get("rows"), int):
                    counts[name] = entry["rows"]
        except (OSError, ValueError, AttributeError):
            counts = {}
    if not counts:
        for p in previous.glob("*.parquet"):
            try:
                counts[p.stem] = int(pl.scan_parquet(p).select(pl.len()).collect().item())
            except Exception:  # an unreadable file is simply not compared
                continue
    return counts, built


def _compare_previous(run: _Run) -> None:
    description = "Le nombre de lignes du jeu ne varie pas de plus de 10 % depuis la construction précédente."
    counts, built = _previous_counts(run.previous)
    rows = []
    for jeu in sorted(run.datasets):
        if jeu.startswith("qualite"):
            continue
        n_new = run.datasets[jeu].height
        if jeu not in counts:
            run.na("evolution_lignes", jeu, "évolution", "majeure", description)
            continue
        n_old = counts[jeu]
        change = (n_new - n_old) / n_old if n_old else (0.0 if n_new == 0 else float("inf"))
        jump = abs(change) > ROWS_JUMP
        pct = _fr_pct(change) if n_old else "nouveau"
        fails = None
        if jump:
            detail = f"{fr_int(n_old)} → {fr_int(n_new)} lignes ({pct}), seuil ±10 %"
            fails = pl.DataFrame({"cle": [jeu], "ligne": [None], "detail": [detail]}, schema=_FAILS_SCHEMA)
            rows.append(
                {"jeu": jeu, "changement": "variation du nombre de lignes", "cle": jeu, "libelle": pct, "avant": str(n_old),
                 "apres": str(n_new), "instantane_avant": built or "construction précédente", "instantane_apres": run.today.isoformat()}
            )  # fmt: skip
        run.record("evolution_lignes", jeu, "évolution", "majeure", description, 1, fails, key_name="jeu")
    if rows:
        run.evolution.append(pl.DataFrame(rows, schema=EVOLUTION_SCHEMA))


# --- public API ----------------------------------------------------------------------------


def run_checks(
    datasets: dict[str, pl.DataFrame],
    sources: list[dict],
    rejects: pl.DataFrame | None,
    raw: Path | None,
    previous: Path | None,
    *,
    today: date | None = None,
) -> dict[str, pl.DataFrame]:
    """Run every check; return ``{"qualite", "qualite_echecs", "qualite_evolution"}``.

    ``today`` (default: the UTC date) is the build date, reference of the dates
    of derived datasets and of the evolution rows.
    """
    run = _Run(datasets, sources, rejects, raw, previous, today)
    _start_snapshot_reads(run)
    _check_rejects(run)
    _check_required(run)
    _check_codes(run)
    _check_integrity(run)
    _check_duplicates(run)
    _check_dates(run)
    _check_labels(run)
    _check_pv_columns(run)
    _check_prices(run)
    _check_allowed_values(run)
    _check_expected_labels(run)
    _check_coordinates(run)
    _compare_snapshots(run)
    _availability_changes(run)
    _compare_previous(run)
    return run.results()


def scores(qualite: pl.DataFrame) -> pl.DataFrame:
    """Score per source (0-100, gravity-weighted; see the module docstring)."""
    if qualite is None or qualite.is_empty():
        return pl.DataFrame(schema=SCORES_SCHEMA)
    frame = qualite.with_columns(
        (pl.col("statut") != "non applicable").alias("_applicable"),
        pl.col("gravite").replace_strict(SCORE_WEIGHTS, default=1.0, return_dtype=pl.Float64).alias("_w"),
        pl.col("taux_echec").cast(pl.Float64).fill_null(0.0).clip(0.0, 1.0).alias("_t"),
    )
    applicable = pl.col("_applicable")
    out = frame.group_by("source").agg(
        (
            100
            * (pl.col("_w") * (1 - pl.col("_t"))).filter(applicable).sum()
            / pl.col("_w").filter(applicable).sum()
        ).alias("score"),
        applicable.sum().cast(pl.Int64).alias("n_controles"),
        (pl.col("statut") == "réussi").sum().cast(pl.Int64).alias("n_reussis"),
        (pl.col("statut") == "échoué").sum().cast(pl.Int64).alias("n_echecs_controles"),
    )
    out = out.with_columns(pl.when(pl.col("n_controles") > 0).then(pl.col("score")).otherwise(None).cast(pl.Float64).alias("score"))
    return out.select(list(SCORES_SCHEMA)).cast(SCORES_SCHEMA).sort("source")


def integrity_failure_rate(qualite: pl.DataFrame) -> float:
    """Failed / verified items over the applicable referential-integrity checks (0.0 if none)."""
    if qualite is None or qualite.is_empty():
        return 0.0
    part = qualite.filter((pl.col("categorie") == "intégrité référentielle") & (pl.col("statut") != "non applicable"))
    verified = int(part["n_verifies"].sum() or 0)
    failed = int(part["n_echecs"].sum() or 0)
    return failed / verified if verified else 0.0
