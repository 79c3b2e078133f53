"""Vocabularies of the pharmaceutical sites: site kinds, placement precisions and
methods (French labels shown in the app), the source operations and activity
codes that decide a site's kind, and the schemas of the output tables."""

from __future__ import annotations

import polars as pl

KINDS = {
    "fabrication": "Site de fabrication",
    "principe_actif": "Fabrication de principe actif",
    "analyse_conditionnement": "Analyse / conditionnement",
    "distribution": "Distribution en gros",
    "pharmacie": "Pharmacie",
}
#: "voie (sans numéro)": the source's point stands for an address without a street number
#: (the SIRENE extract's), so it is somewhere along the street, not at the pharmacy's door
STREET_PRECISION = "voie (sans numéro)"
PRECISIONS = ("exacte", STREET_PRECISION, "centroïde commune", "aucune")

SOURCE_COORDS = "coordonnées de la source"
SOURCE_COORDS_SWAPPED = "coordonnées de la source (latitude et longitude inversées, corrigées)"
BY_POSTAL_AND_NAME = "code postal + commune"
BY_NAME_IN_DEPARTEMENT = "commune dans le département"
FIRST_OF_POSTAL = "premier lieu du code postal"
BY_INSEE = "code commune INSEE"
UNPLACED = "non placé"
PLACEMENTS = (
    SOURCE_COORDS,
    SOURCE_COORDS_SWAPPED,
    BY_POSTAL_AND_NAME,
    BY_NAME_IN_DEPARTEMENT,
    FIRST_OF_POSTAL,
    BY_INSEE,
    UNPLACED,
)

# FDA DECRS business operations -> kind (the strongest operation wins:
# API manufacture > manufacture > analysis/packaging > distribution)
FDA_API_OPERATIONS = frozenset({"API MANUFACTURE"})
FDA_MANUFACTURE_OPERATIONS = frozenset(
    {"MANUFACTURE", "MEDICATED ANIMAL FEED MANUFACTURE", "POSITRON EMISSION TOMOGRAPHY DRUG PRODUCTION"}
)
FDA_ANALYSIS_OPERATIONS = frozenset(
    {"ANALYSIS", "LABEL", "PACK", "REPACK", "RELABEL", "STERILIZE", "PARTICLE SIZE REDUCTION", "TRANSFILL", "SALVAGE"}
)
FDA_DISTRIBUTION_OPERATIONS = frozenset({"DISTRIBUTE", "SIP FOREIGN SELLER"})
FDA_OPERATIONS = FDA_API_OPERATIONS | FDA_MANUFACTURE_OPERATIONS | FDA_ANALYSIS_OPERATIONS | FDA_DISTRIBUTION_OPERATIONS

# IREP: NAF code (dots removed) -> kind; E-PRTR 4.(e) plants with another NAF code
# ("eprtr_4e_other_naf": API chemistry) are principe_actif
IREP_APE_KINDS = {"2110Z": "principe_actif", "2120Z": "fabrication", "4646Z": "distribution"}
IREP_EPRTR_API_SELECTION = "eprtr_4e_other_naf"
PHARMACY_NAF = "4773Z"
PHARMACY_NAF_LABEL = "Commerce de détail de produits pharmaceutiques en magasin spécialisé"
SANTEFR_OPERATION = "Vaccination contre la grippe"

SITES_SCHEMA = {
    "site_id": pl.String,
    "nom": pl.String,
    "enseigne": pl.String,  # a pharmacy's name as its source publishes it (None: the source has none)
    "type": pl.String,
    "operations": pl.List(pl.String),
    "adresse": pl.String,
    "code_postal": pl.String,
    "commune": pl.String,
    "code_insee": pl.String,
    "departement": pl.String,
    "region": pl.String,
    "pays": pl.String,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
    "precision": pl.String,
    "placement": pl.String,
    "source": pl.String,
    "source_date": pl.String,
}
COUNTRIES_SCHEMA = {
    "country_iso3": pl.String,
    "country_name": pl.String,
    "n_establishments": pl.Int64,
    "n_api_manufacture": pl.Int64,
    "n_manufacture": pl.Int64,
    "share_api": pl.Float64,
}
UNPLACED_SCHEMA = {"site_id": pl.String, "nom": pl.String, "reason": pl.String}
