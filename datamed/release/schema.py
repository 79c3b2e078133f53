"""What goes into an open-data release: licences, and the public datasets of the registry.

Only the datasets the registry (``datamed.datasets.registry``) declares public are
published, and only their public columns (``Dataset.drop`` and ``INTERNAL_COLUMNS``
remove internal ones such as reader line numbers). Internal datasets carry the
reason they stay out (``Dataset.internal``), listed in the release README.
"""

from __future__ import annotations

from datamed.datasets.registry import COLUMNS_FR, INTERNAL_COLUMNS, PUBLIC, REGISTRY, Dataset

LICENCE_OUTPUTS = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}

# Source families, by the ``source`` field of the manifest entries.
SOURCE_LICENCES = {
    "BDPM": "Licence Ouverte / Open Licence (Etalab) — Base de données publique des médicaments, ANSM / HAS / Assurance maladie",
    "ATC": "Classification ATC de l'OMS : seuls les codes sont publiés ici ; libellés français issus du programme EIG DataMed (ANSM), licence non précisée",
    "ANSM DataMed": "Agrégats ANSM préparés par le programme EIG « DataMed » ; licence non précisée, données publiques de l'ANSM, citer « ANSM »",
    "Pharmacovigilance": "Base nationale de pharmacovigilance (ANSM, 2014-2018) croisée avec Open Medic (Assurance maladie) ; licence non précisée, citer « ANSM » ; publiée ici uniquement après masquage des petits effectifs",
    "MedDRA": "MedDRA® est une marque de l'ICH ; seuls les codes des 27 classes de systèmes d'organes sont publiés, pas la terminologie",
    "IREP": "Licence Ouverte (Etalab) — Géorisques, registre des émissions polluantes 2015",
    "FDA DECRS": "Données du gouvernement fédéral des États-Unis (domaine public aux États-Unis)",
    "Santé.fr": "Licence Ouverte (Etalab) — Santé.fr, lieux de vaccination (pharmacies)",
    "SIRENE": "Licence Ouverte (Etalab) — INSEE, répertoire SIRENE",
    "La Poste": "Licence Ouverte 2.0 — base officielle des codes postaux (géolocalisation des sites)",
}


RESOURCES: tuple[Dataset, ...] = PUBLIC
BY_NAME: dict[str, Dataset] = {d.name: d for d in PUBLIC}
# Prepared datasets deliberately kept out of releases, with the reason (shown in the release README).
NOT_PUBLISHED: dict[str, str] = {d.name: d.internal for d in REGISTRY if d.internal}

__all__ = [
    "BY_NAME",
    "COLUMNS_FR",
    "INTERNAL_COLUMNS",
    "LICENCE_OUTPUTS",
    "NOT_PUBLISHED",
    "RESOURCES",
    "SOURCE_LICENCES",
]
