"""Pharmaceutical sites: one harmonised table of French sites, a per-country
table of FDA-registered establishments, and an offline geocoder.

Inputs, laid out like ``shared/data`` (every file optional)::

    sites/irep_*pharma*.csv                        IREP industrial sites (coordinates)
    sites/fda_decrs_drug_establishments_*.csv      FDA DECRS, world (feeds ``countries`` only)
    sites/fda_decrs_establishments_by_country_*.csv  per-country counts (checked / fallback)
    sites/fda_decrs_france_establishments_*.csv    FDA DECRS, France (commune-level coordinates)
    sites/pharmacies_*santefr*.csv                 Santé.fr flu-vaccination pharmacies (national, partial)
    sites/pharmacies_*sirene*.csv                  SIRENE pharmacies, Île-de-France (WKT POINT + long/lat)
    geo/laposte_hexasmal.csv                       La Poste postal codes (``;``, commune coordinates)

All files are UTF-8 (a BOM is tolerated, Windows-1252 is the fallback), comma
separated with a header and RFC-4180 quoting; every value is read as a string
(codes keep their leading zeros) and typed explicitly.

Every data row ends up either in ``sites`` (or in the per-country counts) or in
``rejects`` with its file, line and reason; an empty file raises ``ValueError``
naming it. Coordinates are validated:

- absent, unparseable, out of range (lat outside [-90, 90], lon outside
  [-180, 180]) or outside France + DROM: the source coordinate is discarded and
  the site is placed from La Poste (``Gazetteer.locate``); the row is kept and
  the correction is listed in ``SitesResult.corrections``;
- swapped (``(lat, lon)`` outside France but ``(lon, lat)`` inside): swapped
  back, kept as a source coordinate, and said so in ``placement``;
- inside France but more than ``MAX_KM_FROM_COMMUNE`` km from the centroid of
  the site's own commune (a source geocoding error, e.g. Montreuil (93) placed
  in Montreuil-sur-Mer): replaced by the commune centroid.

A site that cannot be placed is kept, without coordinates, and listed in
``unplaced`` with the reason. No personal data is kept: FDA rows keep the firm
name only (never the registrant, which is sometimes a person). Pharmacies: the
Santé.fr extract has no name (left out on purpose: often the pharmacists'
surnames), and the Île-de-France SIRENE extract has neither name nor street
number. A SIRENE extract with the INSEE API's columns gives the street number
(``numeroVoieEtablissement``, ``indiceRepetitionEtablissement``), the postal code
and the trade name (``enseigne1Etablissement``, else
``denominationUsuelleEtablissement``), which INSEE hides for an establishment
under partial diffusion (``[ND]``, ``statutDiffusionEtablissement`` "P": not
read). The name goes to ``enseigne`` (None when the source has none) and to
``nom``; without one, ``nom`` is "Pharmacie — street, commune".

Modules:

- ``vocabulary``: site kinds, placement precisions and methods, source
  operations and activity codes, output schemas;
- ``geocoding``: départements, name and postal-code normalisation, coordinate
  checks, ``Gazetteer`` (La Poste);
- ``files``: which file is which source, newest snapshots, the CSV reader;
- ``readers``: one reader per source family and ``read_sites``.
"""

from datamed.sources.sites.files import LAPOSTE_FILE, SPECS, discover, snapshot_of
from datamed.sources.sites.geocoding import (
    DEPARTEMENTS,
    FRANCE_BOXES,
    MAX_KM_FROM_COMMUNE,
    Gazetteer,
    Placement,
    check_coordinates,
    clean_postal_code,
    communes_frame,
    departement_code,
    departement_of_insee,
    distance_km,
    in_france,
    normalise_commune,
    postal_prefix,
    region_of,
)
from datamed.sources.sites.readers import SitesResult, fda_kind, fda_operations, read_sites
from datamed.sources.sites.vocabulary import (
    BY_INSEE,
    BY_NAME_IN_DEPARTEMENT,
    BY_POSTAL_AND_NAME,
    COUNTRIES_SCHEMA,
    FDA_OPERATIONS,
    FIRST_OF_POSTAL,
    KINDS,
    PLACEMENTS,
    PRECISIONS,
    SITES_SCHEMA,
    SOURCE_COORDS,
    SOURCE_COORDS_SWAPPED,
    STREET_PRECISION,
    UNPLACED,
    UNPLACED_SCHEMA,
)

__all__ = [
    "BY_INSEE",
    "BY_NAME_IN_DEPARTEMENT",
    "BY_POSTAL_AND_NAME",
    "COUNTRIES_SCHEMA",
    "DEPARTEMENTS",
    "FDA_OPERATIONS",
    "FIRST_OF_POSTAL",
    "FRANCE_BOXES",
    "KINDS",
    "LAPOSTE_FILE",
    "MAX_KM_FROM_COMMUNE",
    "PLACEMENTS",
    "PRECISIONS",
    "SITES_SCHEMA",
    "SOURCE_COORDS",
    "SOURCE_COORDS_SWAPPED",
    "SPECS",
    "STREET_PRECISION",
    "UNPLACED",
    "UNPLACED_SCHEMA",
    "Gazetteer",
    "Placement",
    "SitesResult",
    "check_coordinates",
    "clean_postal_code",
    "communes_frame",
    "departement_code",
    "departement_of_insee",
    "discover",
    "distance_km",
    "fda_kind",
    "fda_operations",
    "in_france",
    "normalise_commune",
    "postal_prefix",
    "read_sites",
    "region_of",
    "snapshot_of",
]
