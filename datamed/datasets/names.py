"""Names of every prepared dataset, as constants.

Code refers to a dataset only through ``DS`` (a ``StrEnum``: ``DS.SPECIALITES ==
"specialites"``, which is also its Parquet file stem). What each dataset holds is
declared once, in ``datamed.datasets.registry``; a test checks that every member has
an entry there and that the build writes exactly the registered datasets.
"""

from __future__ import annotations

from enum import StrEnum


class UnknownDataset(KeyError):
    """A dataset name that the registry does not know."""


class DS(StrEnum):
    # BDPM and derived catalogue
    SPECIALITES = "specialites"
    PRESENTATIONS = "presentations"
    COMPOSITIONS = "compositions"
    GENERIQUES = "generiques"
    CONDITIONS = "conditions"
    HAS_SMR = "has_smr"
    HAS_ASMR = "has_asmr"
    HAS_LIENS_CT = "has_liens_ct"
    DISPONIBILITES = "disponibilites"
    MITM = "mitm"
    INFOS_IMPORTANTES = "infos_importantes"
    SUBSTANCES = "substances"
    NOMS_SUBSTANCES = "noms_substances"
    SPECIALITE_ATC = "specialite_atc"
    ATC = "atc"
    # shortages
    RUPTURES_EPISODES = "ruptures_episodes"
    RUPTURES_CLASSES = "ruptures_classes"
    RISQUE_EVALUATION = "risque_evaluation"
    RISQUE_CALIBRATION = "risque_calibration"
    RISQUE_RAPPORT = "risque_rapport"
    RISQUE_RUPTURES = "risque_ruptures"
    # pharmacovigilance (masked in the pipeline)
    SOC = "soc"
    EI_COLONNES = "ei_colonnes"
    EI_SUBSTANCES = "ei_substances"
    EI_ANNEE = "ei_annee"
    EI_AGE = "ei_age"
    EI_SEXE = "ei_sexe"
    EI_SOC = "ei_soc"
    EI_SOC_AGE = "ei_soc_age"
    EI_SOC_SEXE = "ei_soc_sexe"
    EI_NOTIF_AGE = "ei_notif_age"
    EI_NOTIF_SEXE = "ei_notif_sexe"
    EI_NATIONAL_ANNEE = "ei_national_annee"
    EI_NATIONAL_AGE = "ei_national_age"
    EI_NATIONAL_SEXE = "ei_national_sexe"
    EI_NATIONAL_SOC = "ei_national_soc"
    EI_FRACTIONS = "ei_fractions"
    EI_FRACTIONS_MEMBRES = "ei_fractions_membres"
    EI_FRACTIONS_ANNEE = "ei_fractions_annee"
    EI_FRACTIONS_AGE = "ei_fractions_age"
    EI_FRACTIONS_SEXE = "ei_fractions_sexe"
    EI_EXPOSITION_ALERTES = "ei_exposition_alertes"
    EI_SERIES_IDENTIQUES = "ei_series_identiques"
    EI_LIENS = "ei_liens"
    EI_NON_LIES = "ei_non_lies"
    # pharmacovigilance, product level (internal)
    EI_PRODUIT_SUBSTANCES = "ei_produit_substances"
    EI_PRODUIT_ANNEE = "ei_produit_annee"
    EI_PRODUIT_AGE = "ei_produit_age"
    EI_PRODUIT_SEXE = "ei_produit_sexe"
    EI_PRODUIT_SOC = "ei_produit_soc"
    EI_PRODUIT_SOC_AGE = "ei_produit_soc_age"
    EI_PRODUIT_SOC_SEXE = "ei_produit_soc_sexe"
    EI_PRODUIT_NOTIF_AGE = "ei_produit_notif_age"
    EI_PRODUIT_NOTIF_SEXE = "ei_produit_notif_sexe"
    # sites and reference geometries
    SITES = "sites"
    SITES_PAYS = "sites_pays"
    SITES_NON_PLACES = "sites_non_places"
    TITULAIRES_SITES = "titulaires_sites"
    TITULAIRES_NON_RELIES = "titulaires_non_relies"
    COMMUNES = "communes"
    PAYS_GEO = "pays_geo"
    DEPARTEMENTS_GEO = "departements_geo"
    # quality and linking reports; build rejects
    QUALITE = "qualite"
    QUALITE_ECHECS = "qualite_echecs"
    QUALITE_EVOLUTION = "qualite_evolution"
    LIENS_SYNTHESE = "liens_synthese"
    LIENS_SCORES = "liens_scores"
    LIENS_NON_RELIES = "liens_non_relies"
    REJETS = "rejets"

    @classmethod
    def of(cls, name: str) -> DS:
        """The dataset called ``name``; ``UnknownDataset`` if there is none."""
        try:
            return cls(name)
        except ValueError:
            raise UnknownDataset(f"unknown dataset {name!r}") from None


def pv_dataset(level: str, table: str) -> DS:
    """The pharmacovigilance dataset of a level (``substance`` or ``produit``) and a table."""
    return DS.of(("ei_" if level == "substance" else "ei_produit_") + table)
