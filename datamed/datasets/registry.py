"""The registry: every prepared dataset declared once.

Each ``Dataset`` says what the dataset holds (French title, description, column
docs), where it comes from (source families, raw files its quality checks point
at), its keys and required columns, whether it is published (and why not when
it is internal) and its disclosure class (counts masked under the threshold, the
values computed from them, and whether a series sums the published cells only).

Readers and pipeline steps write datasets under their ``DS`` name; the build
writes each one with its registry description; the store refuses unknown names;
quality checks take keys and required columns from here; the release publishes
exactly the public entries; the "Données ouvertes" page documents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from datamed.core import codes
from datamed.datasets.columns import (
    COLUMNS_FR,
    ECHECS_FR,
    EVOLUTION_FR,
    INTERNAL_COLUMNS,
    LIENS_FR,
    NON_RELIES_FR,
    QUALITE_FR,
    SCORES_FR,
)
from datamed.datasets.names import DS


@dataclass(frozen=True)
class Disclosure:
    counts: tuple[str, ...]  # counts subject to the threshold
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)  # count -> columns computed from it
    # each count is the sum of the *published* cells it covers (national series): it
    # adds no equation on a withheld cell
    sums_of_published: bool = False


@dataclass(frozen=True)
class Dataset:
    """One prepared dataset: what it holds, where it comes from, how it is checked and published."""

    name: DS
    title: str  # French
    description: str  # French, one or two sentences
    sources: tuple[str, ...]  # source families (licences: datamed.release.schema.SOURCE_LICENCES)
    quality_source: str | None = None  # the source its quality checks are scored under
    derived_from: tuple[str, ...] = ()  # manifest source datasets whose raw files it comes from
    row_key: str | None = None  # the column naming a row for people (quality failures)
    required: tuple[str, ...] = ()  # columns that must never be empty
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[tuple[str, DS, str], ...] = ()  # (column, dataset, column)
    drop: tuple[str, ...] = ()  # columns never published (besides INTERNAL_COLUMNS)
    columns: Mapping[str, str] = field(default_factory=dict)  # overrides of COLUMNS_FR
    disclosure: Disclosure | None = None  # protected counts: masked in the pipeline, audited at release
    enums: Mapping[str, tuple] = field(default_factory=dict)
    patterns: Mapping[str, str] = field(default_factory=dict)  # column -> datamed.core.codes pattern
    internal: str | None = None  # why it is not published (None: public)
    optional: str | None = None  # when a build may not write it (None: every build writes it)

    @property
    def public(self) -> bool:
        return self.internal is None


_RATES = ("taux", "taux_ic_bas", "taux_ic_haut")
_SOC_MEASURES = (
    "part_cas",
    "ror",
    "ror_ic_bas",
    "ror_ic_haut",
    "prr",
    "prr_ic_bas",
    "prr_ic_haut",
    "chi2",
    "ic",
    "ic025",
    "signal_evans",
    "signal_ror",
    "signal_ic",
)


def _stratified(stratum: str) -> Disclosure:
    return Disclosure(
        counts=("n_cas", "n_conso"),
        derived={"n_cas": _RATES + ("part_cas",), "n_conso": _RATES},
    )


def _national() -> Disclosure:
    return Disclosure(counts=("n_cas",), derived={"n_cas": ("part_cas",)}, sums_of_published=True)


REGISTRY: tuple[Dataset, ...] = (
    Dataset(
        DS.SPECIALITES,
        title="Spécialités pharmaceutiques",
        description="Médicaments autorisés en France (un CIS par spécialité) : dénomination, forme, voies, statut, titulaires.",
        sources=("BDPM",),
        quality_source="BDPM · spécialités (CIS_bdpm)",
        row_key="cis",
        required=("cis", "denomination"),
        primary_key=("cis",),
        patterns={"cis": codes.CIS},
    ),
    Dataset(
        DS.PRESENTATIONS,
        title="Présentations",
        description="Boîtes commercialisées ou non de chaque spécialité : codes CIP, prix, remboursement.",
        sources=("BDPM",),
        quality_source="BDPM · présentations (CIS_CIP_bdpm)",
        row_key="cip13",
        required=("cis", "cip7", "cip13"),
        primary_key=("cip13",),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
        patterns={"cip13": codes.CIP13, "cip7": codes.CIP7},
    ),
    Dataset(
        DS.COMPOSITIONS,
        title="Compositions",
        description="Substances actives et fractions thérapeutiques de chaque spécialité, avec leur dosage.",
        sources=("BDPM",),
        quality_source="BDPM · compositions (CIS_COMPO_bdpm)",
        row_key="cis",
        required=("cis", "code_substance"),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.GENERIQUES,
        title="Groupes génériques",
        description="Appartenance des spécialités aux groupes génériques (princeps et génériques).",
        sources=("BDPM",),
        quality_source="BDPM · groupes génériques (CIS_GENER_bdpm)",
        row_key="cis",
        required=("id_groupe_generique", "cis"),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.CONDITIONS,
        title="Conditions de prescription et de délivrance",
        description="Conditions de prescription et de délivrance de chaque spécialité.",
        sources=("BDPM",),
        quality_source="BDPM · conditions de prescription (CIS_CPD_bdpm)",
        row_key="cis",
        required=("cis", "condition_prescription_delivrance"),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.HAS_SMR,
        title="Avis SMR de la HAS",
        description="Service médical rendu évalué par la commission de la transparence de la HAS.",
        sources=("BDPM",),
        quality_source="BDPM · avis SMR de la HAS (CIS_HAS_SMR_bdpm)",
        row_key="cis",
        required=("cis", "code_dossier_has"),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.HAS_ASMR,
        title="Avis ASMR de la HAS",
        description="Amélioration du service médical rendu évaluée par la HAS.",
        sources=("BDPM",),
        quality_source="BDPM · avis ASMR de la HAS (CIS_HAS_ASMR_bdpm)",
        row_key="cis",
        required=("cis", "code_dossier_has"),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.HAS_LIENS_CT,
        title="Liens vers les avis de la HAS",
        description="Lien vers l'avis de la commission de la transparence de chaque dossier HAS.",
        sources=("BDPM",),
        quality_source="BDPM · liens vers les avis CT (HAS_LiensPageCT_bdpm)",
        row_key="code_dossier_has",
        required=("code_dossier_has", "lien_avis_ct"),
    ),
    Dataset(
        DS.DISPONIBILITES,
        title="Disponibilité des médicaments",
        description="Ruptures de stock, tensions d'approvisionnement, arrêts et remises à disposition déclarés à l'ANSM, pour chaque instantané du fichier.",
        sources=("BDPM",),
        quality_source="Disponibilité (CIS_CIP_Dispo_Spec)",
        row_key="cis",
        required=("cis", "code_statut"),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
        enums={"code_statut": (1, 2, 3, 4)},
    ),
    Dataset(
        DS.MITM,
        title="Médicaments d'intérêt thérapeutique majeur",
        description="Liste des médicaments d'intérêt thérapeutique majeur (MITM) avec leur code ATC.",
        sources=("BDPM",),
        quality_source="BDPM · MITM (CIS_MITM)",
        row_key="cis",
        required=("cis",),
        primary_key=("cis",),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.INFOS_IMPORTANTES,
        title="Informations importantes",
        description="Informations de sécurité importantes publiées sur les spécialités.",
        sources=("BDPM",),
        quality_source="BDPM · informations importantes (CIS_InfoImportantes)",
        row_key="cis",
        required=("cis",),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
        optional="only when the raw folder has CIS_InfoImportantes",
    ),
    Dataset(
        DS.SUBSTANCES,
        title="Substances",
        description="Substances de la BDPM avec leur dénomination la plus courante et le nombre de spécialités qui les contiennent.",
        sources=("BDPM",),
        quality_source="BDPM · compositions (CIS_COMPO_bdpm)",
        derived_from=("compositions",),
        row_key="code_substance",
        required=("code_substance", "denomination"),
        primary_key=("code_substance",),
    ),
    Dataset(
        DS.NOMS_SUBSTANCES,
        title="Noms des substances (tous instantanés)",
        description="Toutes les dénominations de substances des instantanés BDPM (pour relier les autres sources)",
        sources=(),
        quality_source="BDPM · compositions (CIS_COMPO_bdpm)",
        derived_from=("compositions",),
        row_key="code_substance",
        internal="table technique de liaison",
    ),
    Dataset(
        DS.SPECIALITE_ATC,
        title="Code ATC des spécialités",
        description="Code ATC de chaque spécialité : officiel (liste MITM) ou déduit d'un MITM de mêmes substances, voie et forme ; sinon inconnu.",
        sources=("BDPM", "ATC"),
        quality_source="BDPM · MITM (CIS_MITM)",
        derived_from=("mitm", "compositions"),
        row_key="cis",
        required=("cis", "code_atc"),
        primary_key=("cis",),
        foreign_keys=(("cis", DS.SPECIALITES, "cis"),),
    ),
    Dataset(
        DS.ATC,
        title="Classification ATC",
        description="Classification ATC : libellés français (à défaut, anglais de l'OMS)",
        sources=(),
        quality_source="ATC",
        row_key="code_atc",
        required=("code_atc", "libelle"),
        internal="libellés ATC de l'OMS et du programme DataMed : licence non précisée",
    ),
    Dataset(
        DS.RUPTURES_EPISODES,
        title="Épisodes de rupture et de tension",
        description="Un épisode par médicament et par présentation, reconstitué à partir de tous les instantanés de disponibilité, enrichi du catalogue (titulaire, ATC, MITM, groupe générique).",
        sources=("BDPM", "ATC"),
        quality_source="Disponibilité (CIS_CIP_Dispo_Spec)",
        derived_from=("disponibilites",),
        row_key="cis",
        required=("episode_id", "cis"),
        primary_key=("episode_id",),
    ),
    Dataset(
        DS.RUPTURES_CLASSES,
        title="Signalements de ruptures par classe ATC (2014-2020)",
        description="Nombre de signalements de ruptures par classe ATC de niveau 2 et par année, reliés aux codes ATC.",
        sources=("ANSM DataMed", "ATC"),
        quality_source="Historique des ruptures 2014-2020",
        row_key="libelle_source",
        required=("annee", "libelle_source"),
    ),
    Dataset(
        DS.RISQUE_EVALUATION,
        title="Modèle de risque : évaluation",
        description="Modèle de risque de rupture : indicateurs du modèle et des références à chaque date de coupure, et leur moyenne",
        sources=(),
        internal="modèle de risque expérimental de DataMed : non publié",
        optional="only when the availability archive spans two horizons (two times 182 days)",
    ),
    Dataset(
        DS.RISQUE_CALIBRATION,
        title="Modèle de risque : fiabilité des probabilités",
        description="Modèle de risque de rupture : probabilité prédite moyenne et fréquence observée (avec son intervalle) par décile, sur toutes les fenêtres de test",
        sources=(),
        internal="modèle de risque expérimental de DataMed : non publié",
        optional="only when some window could judge the model",
    ),
    Dataset(
        DS.RISQUE_RAPPORT,
        title="Modèle de risque : rapport",
        description="Modèle de risque de rupture : résumé de l'évaluation dans le temps, gains sur la meilleure référence et raison du masquage",
        sources=(),
        internal="modèle de risque expérimental de DataMed : non publié",
        optional="only when the risk step succeeds",
    ),
    Dataset(
        DS.RISQUE_RUPTURES,
        title="Modèle de risque : probabilités par médicament",
        description="Probabilité de nouvelle rupture ou tension dans les 6 mois par médicament, avec ses principaux facteurs",
        sources=(),
        row_key="cis",
        internal="modèle de risque expérimental de DataMed : non publié",
        optional="only when the model is shown (lower bound of its PR-AUC gain over the best baseline > 0)",
    ),
    Dataset(
        DS.SOC,
        title="Classes de systèmes d'organes MedDRA",
        description="Les 27 classes de systèmes d'organes MedDRA (SOC), en français et en anglais",
        sources=(),
        quality_source="Pharmacovigilance",
        internal="libellés MedDRA sous licence (MSSO) : seuls les codes sont publiés",
    ),
    Dataset(
        DS.EI_COLONNES,
        title="Inspection des colonnes de pharmacovigilance",
        description="Verdict sur chaque colonne des fichiers de pharmacovigilance : utilisable, normalisée, redondante ou inutilisable.",
        sources=("Pharmacovigilance",),
        primary_key=("fichier", "colonne"),
    ),
    Dataset(
        DS.EI_SUBSTANCES,
        title="Effets indésirables par substance",
        description="Cas notifiés à la pharmacovigilance (2014-2018) par substance, consommants par an et taux de notification pour 100 000 consommants (années d'exposition plausible seulement), masqués sous le seuil de diffusion.",
        sources=("Pharmacovigilance",),
        row_key="ei_id",
        primary_key=("ei_id",),
        disclosure=Disclosure(
            counts=("n_cas", "consommants_par_an"),
            derived={"n_cas": ("taux", "taux_ic_bas", "taux_ic_haut")},
        ),
        columns={
            "fraction": "Substance active (fraction thérapeutique) de la substance quand elle diffère de son nom "
            "(sel, ester, forme), orthographe de la BDPM ; ses chiffres regroupés sont dans ei_fractions quand "
            "d'autres formes la partagent",
        },
    ),
    Dataset(
        DS.EI_ANNEE,
        title="Effets indésirables par substance et par année",
        description="Cas et consommants par substance et par année, avec taux de notification pour 100 000 consommants (années d'exposition plausible) ; masqués sous le seuil.",
        sources=("Pharmacovigilance",),
        primary_key=("ei_id", "annee"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        disclosure=_stratified("annee"),
    ),
    Dataset(
        DS.EI_AGE,
        title="Effets indésirables par substance et classe d'âge",
        description="Cas et consommants par substance et classe d'âge, avec taux de notification ; masqués sous le seuil.",
        sources=("Pharmacovigilance",),
        primary_key=("ei_id", "age"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        disclosure=_stratified("age"),
    ),
    Dataset(
        DS.EI_SEXE,
        title="Effets indésirables par substance et sexe",
        description="Cas et consommants par substance et sexe, avec taux de notification ; masqués sous le seuil.",
        sources=("Pharmacovigilance",),
        primary_key=("ei_id", "sexe"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        disclosure=_stratified("sexe"),
    ),
    Dataset(
        DS.EI_SOC,
        title="Effets indésirables par classe d'organes",
        description="Cas par substance et classe de systèmes d'organes (SOC MedDRA), part des cas et mesures de disproportionnalité ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "MedDRA"),
        primary_key=("ei_id", "soc_code"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        disclosure=Disclosure(
            counts=("n_cas",),
            derived={
                "n_cas": (
                    "part_cas",
                    "ror",
                    "ror_ic_bas",
                    "ror_ic_haut",
                    "prr",
                    "prr_ic_bas",
                    "prr_ic_haut",
                    "chi2",
                    "ic",
                    "ic025",
                    "signal_evans",
                    "signal_ror",
                    "signal_ic",
                )
            },
        ),
    ),
    Dataset(
        DS.EI_SOC_AGE,
        title="Effets indésirables par classe d'organes et âge",
        description="Cas par substance, classe d'organes et classe d'âge ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "MedDRA"),
        primary_key=("ei_id", "soc_code", "age"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        disclosure=Disclosure(
            counts=("n_cas",),
            derived={"n_cas": ("part_cas",)},
        ),
    ),
    Dataset(
        DS.EI_SOC_SEXE,
        title="Effets indésirables par classe d'organes et sexe",
        description="Cas par substance, classe d'organes et sexe ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "MedDRA"),
        primary_key=("ei_id", "soc_code", "sexe"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        disclosure=Disclosure(counts=("n_cas",), derived={"n_cas": ("part_cas",)}),
    ),
    Dataset(
        DS.EI_NOTIF_AGE,
        title="Déclarations par notificateur et âge",
        description="Déclarations par substance, classe d'âge et type de notificateur (colonne inutilisable, non représentée)",
        sources=(),
        internal="colonne TYP_NOTIF inutilisable : jamais représentée",
    ),
    Dataset(
        DS.EI_NOTIF_SEXE,
        title="Déclarations par notificateur et sexe",
        description="Déclarations par substance, sexe et type de notificateur (colonne inutilisable, non représentée)",
        sources=(),
        internal="colonne TYP_NOTIF inutilisable : jamais représentée",
    ),
    Dataset(
        DS.EI_NATIONAL_ANNEE,
        title="Cas par année (toutes substances)",
        description="Paires cas-substance par année, toutes substances confondues.",
        sources=("Pharmacovigilance",),
        primary_key=("annee",),
        disclosure=_national(),
    ),
    Dataset(
        DS.EI_NATIONAL_AGE,
        title="Cas par classe d'âge (toutes substances)",
        description="Paires cas-substance par classe d'âge, toutes substances confondues.",
        sources=("Pharmacovigilance",),
        primary_key=("age",),
        disclosure=_national(),
    ),
    Dataset(
        DS.EI_NATIONAL_SEXE,
        title="Cas par sexe (toutes substances)",
        description="Paires cas-substance par sexe, toutes substances confondues.",
        sources=("Pharmacovigilance",),
        primary_key=("sexe",),
        disclosure=_national(),
    ),
    Dataset(
        DS.EI_NATIONAL_SOC,
        title="Cas par classe d'organes (toutes substances)",
        description="Paires cas-substance par classe de systèmes d'organes, toutes substances confondues.",
        sources=("Pharmacovigilance", "MedDRA"),
        primary_key=("soc_code",),
        disclosure=_national(),
    ),
    Dataset(
        DS.EI_FRACTIONS_MEMBRES,
        title="Substances actives : sels et formes regroupés",
        description="Substance active (fraction thérapeutique) de chaque substance de pharmacovigilance qui en partage une avec d'autres (sels, esters, hydrates), avec la règle qui l'a donnée.",
        sources=("Pharmacovigilance", "BDPM"),
        row_key="ei_id",
        required=("ei_id", "fraction_id"),
        primary_key=("ei_id",),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"), ("fraction_id", DS.EI_FRACTIONS, "fraction_id")),
        enums={"regle": ("bdpm", "nom")},
        columns={
            "doublon": "Vrai si les cas de cette forme sont exactement ceux d'une autre forme de la même substance "
            "active (mêmes déclarations, attribuées à chaque sel) : ils ne sont comptés qu'une fois, ses consommants "
            "s'ajoutent",
        },
    ),
    Dataset(
        DS.EI_FRACTIONS,
        title="Effets indésirables par substance active",
        description="Cas et consommants de chaque substance active, sommés sur ses sels et formes (paires cas-substance), avec le taux de notification des années d'exposition plausible ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "BDPM"),
        row_key="fraction_id",
        required=("fraction_id", "fraction"),
        primary_key=("fraction_id",),
        disclosure=Disclosure(
            counts=("n_cas", "consommants_par_an"),
            derived={"n_cas": ("taux", "taux_ic_bas", "taux_ic_haut")},
        ),
    ),
    Dataset(
        DS.EI_FRACTIONS_ANNEE,
        title="Effets indésirables par substance active et par année",
        description="Cas et consommants de chaque substance active par année, sommés sur ses sels et formes ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "BDPM"),
        primary_key=("fraction_id", "annee"),
        foreign_keys=(("fraction_id", DS.EI_FRACTIONS, "fraction_id"),),
        disclosure=_stratified("annee"),
    ),
    Dataset(
        DS.EI_FRACTIONS_AGE,
        title="Effets indésirables par substance active et classe d'âge",
        description="Cas et consommants de chaque substance active par classe d'âge, sommés sur ses sels et formes ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "BDPM"),
        primary_key=("fraction_id", "age"),
        foreign_keys=(("fraction_id", DS.EI_FRACTIONS, "fraction_id"),),
        disclosure=_stratified("age"),
    ),
    Dataset(
        DS.EI_FRACTIONS_SEXE,
        title="Effets indésirables par substance active et sexe",
        description="Cas et consommants de chaque substance active par sexe, sommés sur ses sels et formes ; masqués sous le seuil.",
        sources=("Pharmacovigilance", "BDPM"),
        primary_key=("fraction_id", "sexe"),
        foreign_keys=(("fraction_id", DS.EI_FRACTIONS, "fraction_id"),),
        disclosure=_stratified("sexe"),
    ),
    Dataset(
        DS.EI_SERIES_IDENTIQUES,
        title="Substances aux cas identiques",
        description="Substances dont les cas déclarés sont les mêmes chaque année, par âge et par sexe : les composants d'un même produit (valences d'un vaccin, association fixe), comptés une seule fois dans les comparaisons.",
        sources=("Pharmacovigilance",),
        row_key="ei_id",
        required=("ei_id", "groupe_id"),
        primary_key=("ei_id",),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
        columns={
            "groupe_id": "Identifiant du groupe : « groupe- » suivi de l'identifiant de son premier membre",
            "n_substances": "Nombre de substances du groupe",
        },
    ),
    Dataset(
        DS.EI_EXPOSITION_ALERTES,
        title="Années d'exposition écartées du taux",
        description="Années dont l'exposition (consommants) ne passe pas une règle de plausibilité et n'entre donc dans aucun taux de notification, avec la règle (docs/exposure.md).",
        sources=("Pharmacovigilance",),
        quality_source="Pharmacovigilance",
        required=("niveau", "id", "annee", "expo_motif"),
        primary_key=("niveau", "id", "annee"),
        enums={"niveau": ("substance", "fraction"), "expo_motif": ("cas_superieurs", "minimum", "population", "saut")},
        columns={
            "niveau": "Niveau : substance (nom de la source) ou fraction (substance active regroupant ses formes)",
            "id": "Identifiant : ei_id d'une substance ou fraction_id d'une substance active",
            "nom": "Nom de la substance ou de la substance active",
        },
    ),
    Dataset(
        DS.EI_LIENS,
        title="Liens pharmacovigilance → BDPM",
        description="Substance de la BDPM reliée à chaque substance de pharmacovigilance, avec la méthode et le score.",
        sources=("Pharmacovigilance", "BDPM"),
        row_key="ei_id",
        required=("ei_id", "code_substance"),
        foreign_keys=(("ei_id", DS.EI_SUBSTANCES, "ei_id"),),
    ),
    Dataset(
        DS.EI_NON_LIES,
        title="Substances de pharmacovigilance non reliées",
        description="Substances de pharmacovigilance sans correspondance dans la BDPM, avec des suggestions.",
        sources=("Pharmacovigilance", "BDPM"),
        primary_key=("ei_id",),
        disclosure=Disclosure(counts=("n_cas",), derived={}),
    ),
    Dataset(
        DS.EI_PRODUIT_SUBSTANCES,
        title="Effets indésirables par produit (niveau produit)",
        description="Même table que ei_substances, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_ANNEE,
        title="Effets indésirables par produit et par année (niveau produit)",
        description="Même table que ei_annee, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_AGE,
        title="Effets indésirables par produit et classe d'âge (niveau produit)",
        description="Même table que ei_age, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_SEXE,
        title="Effets indésirables par produit et sexe (niveau produit)",
        description="Même table que ei_sexe, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_SOC,
        title="Effets indésirables par classe d'organes (niveau produit)",
        description="Même table que ei_soc, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_SOC_AGE,
        title="Effets indésirables par classe d'organes et âge (niveau produit)",
        description="Même table que ei_soc_age, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_SOC_SEXE,
        title="Effets indésirables par classe d'organes et sexe (niveau produit)",
        description="Même table que ei_soc_sexe, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_NOTIF_AGE,
        title="Déclarations par notificateur et âge (niveau produit)",
        description="Même table que ei_notif_age, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.EI_PRODUIT_NOTIF_SEXE,
        title="Déclarations par notificateur et sexe (niveau produit)",
        description="Même table que ei_notif_sexe, au niveau du produit (nom de spécialité) : usage interne, non publiée.",
        sources=("Pharmacovigilance",),
        internal="table du niveau produit, non publiée : seules les substances sont publiées",
        optional="only when the raw folder has product-level (prod_data_*) files",
    ),
    Dataset(
        DS.SITES,
        title="Sites pharmaceutiques en France",
        description="Sites industriels (IREP 2015, établissements enregistrés auprès de la FDA) et pharmacies, harmonisés et géolocalisés.",
        sources=("IREP", "FDA DECRS", "Santé.fr", "SIRENE", "La Poste"),
        quality_source="Sites",
        row_key="site_id",
        required=("site_id", "nom"),
        primary_key=("site_id",),
        patterns={"code_postal": codes.POSTAL, "code_insee": codes.INSEE},
    ),
    Dataset(
        DS.SITES_PAYS,
        title="Établissements enregistrés auprès de la FDA par pays",
        description="Nombre d'établissements enregistrés auprès de la FDA par pays, dont fabrication de principe actif.",
        sources=("FDA DECRS",),
        quality_source="Sites",
        primary_key=("country_iso3",),
    ),
    Dataset(
        DS.SITES_NON_PLACES,
        title="Sites non placés sur la carte",
        description="Sites qui n'ont pas pu être placés sur la carte, avec la raison",
        sources=(),
        quality_source="Sites",
        internal="liste de travail",
    ),
    Dataset(
        DS.TITULAIRES_SITES,
        title="Liens titulaires → sites industriels",
        description="Sites industriels connus des titulaires de médicaments, avec la méthode et le score de la liaison.",
        sources=("BDPM", "IREP", "FDA DECRS"),
        quality_source="Sites",
        derived_from=("sites",),
        row_key="titulaire",
        required=("titulaire", "site_id"),
        primary_key=("titulaire", "site_id"),
        foreign_keys=(("site_id", DS.SITES, "site_id"),),
    ),
    Dataset(
        DS.TITULAIRES_NON_RELIES,
        title="Titulaires sans site connu",
        description="Titulaires de médicaments sans site industriel connu, avec des suggestions.",
        sources=("BDPM", "IREP", "FDA DECRS"),
        quality_source="Sites",
        primary_key=("titulaire",),
    ),
    Dataset(
        DS.COMMUNES,
        title="Communes et codes postaux",
        description="Communes et codes postaux avec leurs coordonnées (La Poste), pour chercher une pharmacie",
        sources=(),
        quality_source="Communes (La Poste)",
        derived_from=("sites_geocodage",),
        row_key="code_insee",
        required=("code_insee", "code_postal"),
        internal="table de référence de La Poste, disponible à la source",
    ),
    Dataset(
        DS.PAYS_GEO,
        title="Contours des pays",
        description="Contours simplifiés des pays (Natural Earth 1:110m, domaine public), fond de la carte du monde",
        sources=(),
        quality_source="Fonds de carte",
        internal="fond de carte (Natural Earth), disponible à la source",
    ),
    Dataset(
        DS.DEPARTEMENTS_GEO,
        title="Contours des départements",
        description="Contours simplifiés des départements (fond de carte hors ligne)",
        sources=(),
        quality_source="Fonds de carte",
        internal="fond de carte (IGN / INSEE), disponible à la source",
        optional="only when the raw folder has geo/ outlines",
    ),
    Dataset(
        DS.QUALITE,
        title="Contrôles de qualité des données",
        description="Résultat de chaque contrôle de qualité par source et jeu de données, avec des exemples de lignes en échec.",
        sources=("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS", "Santé.fr", "SIRENE"),
        columns=QUALITE_FR,
    ),
    Dataset(
        DS.QUALITE_ECHECS,
        title="Lignes en échec des contrôles de qualité",
        description="Lignes en échec de chaque contrôle de qualité (au plus 500 par contrôle).",
        sources=("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS", "Santé.fr", "SIRENE"),
        columns=ECHECS_FR,
    ),
    Dataset(
        DS.QUALITE_EVOLUTION,
        title="Évolutions entre instantanés",
        description="CIS et présentations ajoutés ou retirés, changements de statut et variations du nombre de lignes entre instantanés.",
        sources=("BDPM",),
        columns=EVOLUTION_FR,
    ),
    Dataset(
        DS.LIENS_SYNTHESE,
        title="Rapport de liaison entre bases",
        description="Pour chaque liaison entre bases : couverture, méthodes et scores.",
        sources=("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS"),
        primary_key=("lien",),
        columns=LIENS_FR,
    ),
    Dataset(
        DS.LIENS_SCORES,
        title="Distribution des scores de liaison",
        description="Nombre d'éléments reliés par tranche de score, pour chaque liaison.",
        sources=("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS"),
        primary_key=("lien", "tranche"),
        columns=SCORES_FR,
    ),
    Dataset(
        DS.LIENS_NON_RELIES,
        title="Éléments non reliés",
        description="Éléments sans correspondance pour chaque liaison, avec des suggestions (au plus 500 par liaison).",
        sources=("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS"),
        columns=NON_RELIES_FR,
    ),
    Dataset(
        DS.REJETS,
        title="Lignes rejetées",
        description="Lignes rejetées à la construction, avec fichier, numéro de ligne et motif",
        sources=(),
        internal="lignes brutes rejetées : document de travail interne (leur nombre par fichier figure dans le README)",
    ),
)


BY_NAME: dict[DS, Dataset] = {d.name: d for d in REGISTRY}
PUBLIC: tuple[Dataset, ...] = tuple(d for d in REGISTRY if d.public)


def get(name: str) -> Dataset:
    """The declaration of a dataset; ``UnknownDataset`` for a name the registry does not know."""
    return BY_NAME[DS.of(name)]


__all__ = [
    "BY_NAME",
    "COLUMNS_FR",
    "INTERNAL_COLUMNS",
    "PUBLIC",
    "REGISTRY",
    "Dataset",
    "Disclosure",
    "get",
]
