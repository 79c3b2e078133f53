"""Synthetic "pharmaceutical sites" files, in the formats of the real raw folder's
``sites/`` files and ``geo/laposte_hexasmal.csv`` (see ``datamed.sources.sites``).

Communes are real (real INSEE and postal codes, coordinates typed by hand,
rounded: a few hundred metres off at most); every firm is fictional (the
holder names of ``datamed.demo.vocabulary``), FEI/DUNS/FINESS numbers are made up (they
start with 99 / 9999), streets are invented. Nothing is read from elsewhere.
Deterministic: the same seed writes the same bytes.

Deliberate quirks (``DEMO_SITES_QUIRKS``): swapped latitude/longitude, a
malformed postal code (placed by its commune in the département named in the
address), another malformed one that cannot be placed, an FDA row with an
unknown operation (rejected), rows without coordinates that La Poste places,
out-of-range coordinates, a point far from its commune (replaced by the
commune centroid), a CEDEX postal code, Corsica, DROM, duplicate SIRENE rows, a
SIRENE name hidden by INSEE ("[ND]"). The SIRENE file has the INSEE API's street
number, postal code and trade name columns (the real Île-de-France extract has
none of them); trade names are fictional and generic ("PHARMACIE DE LA GARE").
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from collections import Counter
from pathlib import Path

from datamed.demo.vocabulary import GENERIC_HOLDERS, PRINCEPS_HOLDERS

SNAPSHOT = "2025-08"
FILES = {
    "irep": "sites/irep_2015_pharma_sites_fr.csv",
    "fda_world": f"sites/fda_decrs_drug_establishments_{SNAPSHOT}.csv",
    "fda_country": f"sites/fda_decrs_establishments_by_country_{SNAPSHOT}.csv",
    "fda_france": f"sites/fda_decrs_france_establishments_{SNAPSHOT}.csv",
    "santefr": "sites/pharmacies_vaccination_grippe_santefr_2025-10.csv",
    "sirene": "sites/pharmacies_idf_sirene.csv",
    "laposte": "geo/laposte_hexasmal.csv",
}

# (INSEE, La Poste name, postal code, lat, lon, usual spelling); real codes,
# approximate coordinates; one row (Saint-Martin) has none, as in La Poste's file
COMMUNES = (
    ("75112", "PARIS 12", "75012", 48.8352, 2.4198, "Paris"),
    ("75115", "PARIS 15", "75015", 48.8401, 2.2935, "Paris"),
    ("75118", "PARIS 18", "75018", 48.8925, 2.3484, "Paris"),
    ("92012", "BOULOGNE BILLANCOURT", "92100", 48.8365, 2.2399, "Boulogne-Billancourt"),
    ("92050", "NANTERRE", "92000", 48.8961, 2.2067, "Nanterre"),
    ("93048", "MONTREUIL", "93100", 48.8633, 2.4485, "Montreuil"),
    ("94028", "CRETEIL", "94000", 48.7837, 2.4545, "Créteil"),
    ("91692", "LES ULIS", "91940", 48.6815, 2.1694, "Les Ulis"),
    ("78646", "VERSAILLES", "78000", 48.8025, 2.1185, "Versailles"),
    ("95127", "CERGY", "95000", 49.0401, 2.0510, "Cergy"),
    ("77288", "MELUN", "77000", 48.5444, 2.6578, "Melun"),
    ("69383", "LYON 03", "69003", 45.7534, 4.8692, "Lyon"),
    ("69387", "LYON 07", "69007", 45.7330, 4.8390, "Lyon"),
    ("69199", "ST FONS", "69190", 45.7087, 4.8530, "Saint-Fons"),
    ("38185", "GRENOBLE", "38000", 45.1821, 5.7215, "Grenoble"),
    ("38425", "ST MAURICE L EXIL", "38550", 45.3946, 4.7812, "Saint-Maurice-l'Exil"),
    ("63113", "CLERMONT FERRAND", "63000", 45.7856, 3.1151, "Clermont-Ferrand"),
    ("63454", "VERTOLAYE", "63480", 45.6539, 3.7375, "Vertolaye"),
    ("13206", "MARSEILLE 06", "13006", 43.2871, 5.3810, "Marseille"),
    ("06088", "NICE", "06000", 43.7120, 7.2382, "Nice"),
    ("06033", "CARROS", "06510", 43.7886, 7.1847, "Carros"),
    ("04209", "SISTERON", "04200", 44.1955, 5.9434, "Sisteron"),
    ("34172", "MONTPELLIER", "34000", 43.6134, 3.8691, "Montpellier"),
    ("31555", "TOULOUSE", "31000", 43.5963, 1.4320, "Toulouse"),
    ("31555", "TOULOUSE", "31100", 43.5963, 1.4320, "Toulouse"),
    ("31149", "COLOMIERS", "31770", 43.6115, 1.3268, "Colomiers"),
    ("33063", "BORDEAUX", "33000", 44.8572, -0.5737, "Bordeaux"),
    ("44109", "NANTES", "44000", 47.2316, -1.5484, "Nantes"),
    ("35238", "RENNES", "35000", 48.1116, -1.6819, "Rennes"),
    ("37261", "TOURS", "37000", 47.3986, 0.6966, "Tours"),
    ("45234", "ORLEANS", "45000", 47.8829, 1.9166, "Orléans"),
    ("76540", "ROUEN", "76000", 49.4413, 1.0927, "Rouen"),
    ("76114", "BOLBEC", "76210", 49.5730, 0.4730, "Bolbec"),
    ("27701", "VAL DE REUIL", "27100", 49.2736, 1.2164, "Val-de-Reuil"),
    ("59350", "LILLE", "59000", 50.6318, 3.0478, "Lille"),
    ("62502", "LESTREM", "62136", 50.6119, 2.6781, "Lestrem"),
    ("02173", "CHAUNY", "02300", 49.6199, 3.2188, "Chauny"),
    ("60159", "COMPIEGNE", "60200", 49.3990, 2.8536, "Compiègne"),
    ("51454", "REIMS", "51100", 49.2515, 4.0424, "Reims"),
    ("67482", "STRASBOURG", "67000", 48.5712, 7.7676, "Strasbourg"),
    ("21231", "DIJON", "21000", 47.3230, 5.0378, "Dijon"),
    ("2A004", "AJACCIO", "20000", 41.9348, 8.7013, "Ajaccio"),
    ("2A004", "AJACCIO", "20090", 41.9348, 8.7013, "Ajaccio"),
    ("2B033", "BASTIA", "20200", 42.6970, 9.4509, "Bastia"),
    ("2B033", "BASTIA", "20600", 42.6970, 9.4509, "Bastia"),
    ("97101", "LES ABYMES", "97139", 16.2710, -61.5049, "Les Abymes"),
    ("97120", "POINTE A PITRE", "97110", 16.2411, -61.5331, "Pointe-à-Pitre"),
    ("97209", "FORT DE FRANCE", "97200", 14.6411, -61.0694, "Fort-de-France"),
    ("97411", "ST DENIS", "97400", -20.9332, 55.4471, "Saint-Denis"),
    ("97411", "ST DENIS", "97490", -20.9332, 55.4471, "Saint-Denis"),
    ("97801", "ST MARTIN", "97150", None, None, "Saint-Martin"),
)
IDF_DEPARTEMENTS = ("75", "77", "78", "91", "92", "93", "94", "95")
STREETS = (
    ("rue", "de la Démonstration"),
    ("avenue", "des Exemples"),
    ("boulevard", "du Prototype"),
    ("rue", "des Essais"),
    ("place", "de la Maquette"),
    ("allée", "des Simulations"),
    ("rue", "du Fictif"),
    ("avenue", "de l'Échantillon"),
    ("chemin", "des Données Factices"),
)

IREP_COLUMNS = (
    "identifiant_irep",
    "nom_etablissement",
    "siret",
    "adresse",
    "code_postal",
    "commune",
    "departement",
    "region_2015",
    "x_lambert2e",
    "y_lambert2e",
    "code_ape",
    "libelle_ape",
    "code_eprtr",
    "libelle_eprtr",
    "latitude",
    "longitude",
    "annee_donnees",
    "selection",
)
FDA_WORLD_COLUMNS = (
    "fei_number",
    "duns_number",
    "firm_name",
    "address",
    "country_iso3",
    "country_name",
    "operations",
    "api_manufacture",
    "manufacture",
    "registration_expiration_date",
    "registrant_name",
    "registrant_duns",
    "exclusion_flag",
)
FDA_FRANCE_COLUMNS = (
    "fei_number",
    "duns_number",
    "firm_name",
    "address",
    "operations",
    "api_manufacture",
    "manufacture",
    "registration_expiration_date",
    "registrant_name",
    "registrant_duns",
    "exclusion_flag",
    "postal_code",
    "city_as_written",
    "code_commune_insee",
    "nom_commune_laposte",
    "latitude_approx",
    "longitude_approx",
    "geocoding_precision",
)
COUNTRY_COLUMNS = (
    "country_iso3",
    "country_name",
    "n_establishments",
    "n_api_manufacture",
    "n_manufacture",
    "share_of_api_manufacture_sites",
)
SANTEFR_COLUMNS = ("finess_et", "adresse_voie_1", "adresse_voie_2", "code_postal", "commune", "latitude", "longitude")
SIRENE_COLUMNS = (
    "activitePrincipaleEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "libelleCommuneEtablissement",
    "codeCommuneEtablissement",
    "departement",
    "geometry",
    "long",
    "lat",
    # columns of the INSEE API that the real Île-de-France extract lacks (name, street number)
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "codePostalEtablissement",
    "enseigne1Etablissement",
    "statutDiffusionEtablissement",
)
LAPOSTE_COLUMNS = (
    "Code_commune_INSEE",
    "Nom_commune",
    "Code_postal",
    "Ligne_5",
    "Libellé_d_acheminement",
    "coordonnees_gps",
)

APE = {
    "2110Z": "Fabrication de produits pharmaceutiques de base",
    "2120Z": "Fabrication de préparations pharmaceutiques",
    "4646Z": "Commerce de gros (commerce interentreprises) de produits pharmaceutiques",
    "2014Z": "Fabrication d'autres produits chimiques organiques de base",
}
EPRTR_4E = (
    "4.(e)",
    "Installations utilisant un procédé chimique ou biologique pour la fabrication industrielle "
    "de produits pharmaceutiques de base",
)
REGION_2015 = {  # pre-2016 régions, as IREP 2015 writes them
    "75": "ILE-DE-FRANCE",
    "92": "ILE-DE-FRANCE",
    "91": "ILE-DE-FRANCE",
    "69": "RHONE-ALPES",
    "38": "RHONE-ALPES",
    "63": "AUVERGNE",
    "04": "PROVENCE-ALPES-COTE-D'AZUR",
    "06": "PROVENCE-ALPES-COTE-D'AZUR",
    "31": "MIDI-PYRENEES",
    "76": "HAUTE-NORMANDIE",
    "27": "HAUTE-NORMANDIE",
    "62": "NORD-PAS-DE-CALAIS",
    "59": "NORD-PAS-DE-CALAIS",
    "02": "PICARDIE",
    "60": "PICARDIE",
    "45": "CENTRE",
    "37": "CENTRE",
    "67": "ALSACE",
    "33": "AQUITAINE",
    "44": "PAYS-DE-LA-LOIRE",
    "35": "BRETAGNE",
    "21": "BOURGOGNE",
}
DEP_NAMES = {
    "75": "PARIS",
    "92": "HAUTS-DE-SEINE",
    "91": "ESSONNE",
    "69": "RHONE",
    "38": "ISERE",
    "63": "PUY-DE-DOME",
    "04": "ALPES-DE-HAUTE-PROVENCE",
    "06": "ALPES-MARITIMES",
    "31": "HAUTE-GARONNE",
    "76": "SEINE-MARITIME",
    "27": "EURE",
    "62": "PAS-DE-CALAIS",
    "59": "NORD",
    "02": "AISNE",
    "60": "OISE",
    "45": "LOIRET",
    "37": "INDRE-ET-LOIRE",
    "67": "BAS-RHIN",
    "33": "GIRONDE",
    "44": "LOIRE-ATLANTIQUE",
    "35": "ILLE-ET-VILAINE",
    "21": "COTE-D'OR",
}

# (iso3, name, establishments, share declaring API MANUFACTURE, city, postal code); France comes from the France rows
WORLD = (
    ("USA", "United States", 40, 0.10, "Springfield", "62701"),
    ("IND", "India", 22, 0.55, "Hyderabad", "500001"),
    ("CHN", "China", 24, 0.45, "Shijiazhuang", "050000"),
    ("DEU", "Germany", 8, 0.35, "Frankfurt am Main", "60311"),
    ("ITA", "Italy", 7, 0.45, "Milano", "20121"),
    ("JPN", "Japan", 5, 0.55, "Osaka", "530-0001"),
    ("ESP", "Spain", 5, 0.40, "Barcelona", "08001"),
    ("GBR", "United Kingdom", 5, 0.20, "Cambridge", "CB1 1AA"),
    ("KOR", "Korea, South", 4, 0.30, "Seoul", "04524"),
    ("CHE", "Switzerland", 4, 0.30, "Basel", "4051"),
    ("IRL", "Ireland", 3, 0.34, "Cork", "T12"),
    ("CAN", "Canada", 4, 0.0, "Toronto", "M5H 2N2"),
    ("BRA", "Brazil", 2, 0.0, "Sao Paulo", "01000-000"),
)
WORLD_OPS = ("ANALYSIS", "LABEL", "PACK", "REPACK", "RELABEL", "STERILIZE")
UNKNOWN_OPERATION = "TELEPORTATION"

DEMO_SITES_QUIRKS = {
    "swapped_coordinates": {
        "file": FILES["santefr"],
        "site_id": "santefr:449800001",
        "description": "latitude et longitude inversées : la ligne est gardée, les coordonnées sont remises "
        "dans l'ordre (placement « coordonnées de la source (latitude et longitude inversées, corrigées) »)",
    },
    "missing_coordinates": {
        "file": FILES["santefr"],
        "site_id": "santefr:699800001",
        "description": "pharmacie sans coordonnées (69190 Saint-Fons) : placée au centroïde de la commune par "
        "La Poste (« code postal + commune », ST -> SAINT)",
    },
    "out_of_range_coordinates": {
        "file": FILES["santefr"],
        "site_id": "santefr:339800001",
        "description": "latitude hors bornes (448.5) : coordonnée écartée, pharmacie placée par La Poste",
    },
    "malformed_postal_code": {
        "file": FILES["fda_france"],
        "site_id": "fda:9999000102",
        "description": "code postal mal formé (« 3800 ») : commune retrouvée par son nom dans le département "
        "nommé dans l'adresse (Isère) — « commune dans le département »",
    },
    "unplaced": {
        "file": FILES["fda_france"],
        "site_id": "fda:9999000103",
        "description": "code postal mal formé (« 323 ») sans département connu : établissement gardé, non placé "
        "(listé dans unplaced)",
    },
    "unknown_operation": {
        "file": FILES["fda_france"],
        "fei_number": "9999000104",
        "description": f"opération FDA inconnue (« {UNKNOWN_OPERATION} ») : ligne rejetée (« unknown kind »)",
    },
    "cedex": {
        "file": FILES["fda_france"],
        "site_id": "fda:9999000101",
        "description": "code postal CEDEX (59011 Lille Cedex), absent du fichier de La Poste : commune trouvée "
        "par son nom dans le département (59350 Lille)",
    },
    "far_from_commune": {
        "file": FILES["sirene"],
        "commune": "93048",
        "description": "point SIRENE géocodé à Montreuil-sur-Mer (62) pour Montreuil (93) : remplacé par le "
        "centroïde de la commune (« code commune INSEE »)",
    },
    "duplicate_rows": {
        "file": FILES["sirene"],
        "description": "deux lignes SIRENE identiques (deux pharmacies de la même rue, sans numéro ni nom) : deux "
        "sites distincts (identifiant suffixé « -2 »)",
    },
    "undisclosed_name": {
        "file": FILES["sirene"],
        "description": "établissement SIRENE en diffusion partielle (enseigne « [ND] », statut « P ») : nom non lu, "
        "la pharmacie est désignée par son adresse",
    },
}


def _csv_text(columns, rows, delimiter=",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def _fmt(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _commune(insee: str, postal: str | None = None):
    for c in COMMUNES:
        if c[0] == insee and (postal is None or c[2] == postal):
            return c
    raise KeyError(insee)


def _dep(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def _jitter(rng: random.Random, lat: float, lon: float, km: float = 1.5) -> tuple[float, float]:
    return lat + rng.uniform(-km, km) / 111.0, lon + rng.uniform(-km, km) / 78.0


def _upper_plain(text: str) -> str:
    """ "Saint-Maurice-l'Exil" -> "SAINT-MAURICE-L'EXIL" (IREP's spelling)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).upper()


def _firms() -> list[str]:
    return list(PRINCEPS_HOLDERS) + [holder for _, holder in GENERIC_HOLDERS]


def _laposte_rows() -> list[list[str]]:
    rows = []
    for insee, name, cp, lat, lon, _ in COMMUNES:
        gps = "" if lat is None else f"{lat},{lon}"
        rows.append([insee, name, cp, "", name.rsplit(" ", 1)[0] if name[-1].isdigit() else name, gps])
    return rows


def _irep_rows(rng: random.Random) -> list[list[str]]:
    plan = (  # (INSEE, postal code as written, APE, selection)
        ("63454", "63480", "2110Z", "naf_pharma"),
        ("04209", "04200", "2110Z", "naf_pharma"),
        ("76114", "76210", "2014Z", "eprtr_4e_other_naf"),
        ("62502", "62136", "2014Z", "eprtr_4e_other_naf"),
        ("02173", "02300", "2110Z", "naf_pharma"),
        ("69199", "69190", "2110Z", "naf_pharma"),
        ("38425", "38550", "2120Z", "naf_pharma"),
        ("27701", "27106", "2120Z", "naf_pharma"),  # CEDEX code
        ("37261", "37000", "2120Z", "naf_pharma"),
        ("45234", "45000", "2120Z", "naf_pharma"),
        ("31149", "31770", "2120Z", "naf_pharma"),
        ("06033", "06511", "2120Z", "naf_pharma"),  # CEDEX code
        ("60159", "60200", "2120Z", "naf_pharma"),
        ("67482", "67000", "2120Z", "naf_pharma"),
        ("21231", "21000", "2120Z", "naf_pharma"),
        ("33063", "33000", "4646Z", "naf_pharma"),
        ("91692", "91940", "4646Z", "naf_pharma"),
    )
    firms = _firms()
    rows = []
    for i, (insee, cp, ape, selection) in enumerate(plan):
        _, _, _, lat, lon, spelled = _commune(insee)
        dep = _dep(insee)
        lat, lon = _jitter(rng, lat, lon, 2.0)
        kind, street = rng.choice(STREETS)
        eprtr = EPRTR_4E if selection == "eprtr_4e_other_naf" or ape == "2110Z" else ("", "")
        x = round(600000 + (lon - 2.337) * 76000)
        y = round(2200000 + (lat - 46.8) * 111000)
        rows.append(
            [
                f"099.{i + 1:05d}",
                f"{firms[i % len(firms)]} - Site de {spelled}",
                f"999{i:011d}",
                f"{rng.randint(1, 120)} {kind} {street}",
                cp,
                _upper_plain(spelled),
                DEP_NAMES[dep],
                REGION_2015[dep],
                str(x),
                str(y),
                ape,
                APE[ape],
                eprtr[0],
                eprtr[1],
                _fmt(lat),
                _fmt(lon),
                "2015",
                selection,
            ]
        )
    return rows


def _fda_france_rows(rng: random.Random) -> list[dict]:
    plan = [  # (INSEE, postal code or None, city as written, operations, state written in the address)
        ("59350", "59011", "Lille Cedex", "ANALYSIS; PACK", "Nord"),  # CEDEX
        ("38185", "3800", "Grenoble", "MANUFACTURE", "Isere"),  # malformed, département named
        ("13206", "323", "Marseille", "STERILIZE", ""),  # malformed, nothing else: unplaced
        ("69383", "69003", "Lyon", UNKNOWN_OPERATION, ""),  # unknown operation: rejected
        ("63454", "63480", "Vertolaye", "ANALYSIS; API MANUFACTURE; LABEL; PACK", ""),
        ("04209", "04200", "Sisteron", "API MANUFACTURE", "Alpes-de-Haute-Provence"),
        ("76114", "76210", "Bolbec", "API MANUFACTURE", ""),
        ("62502", "62136", "Lestrem", "API MANUFACTURE", "Pas-de-Calais"),
        ("02173", "02300", "Chauny", "API MANUFACTURE", ""),
        ("69199", "69190", "SAINT-FONS", "API MANUFACTURE; ANALYSIS", ""),
        ("38425", "38550", "St Maurice l'Exil", "MANUFACTURE; PACK", "Isere"),
        ("27701", "27100", "VAL DE REUIL", "MANUFACTURE; ANALYSIS; LABEL", "Normandie"),
        ("37261", "37000", "Tours", "MANUFACTURE", ""),
        ("45234", "45000", "Orleans", "ANALYSIS", ""),
        ("31149", "31770", "Colomiers", "MANUFACTURE; STERILIZE", ""),
        ("92050", "92000", "Nanterre", "ANALYSIS", "Hauts-de-Seine"),
        ("91692", "91940", "Les Ulis", "ANALYSIS; LABEL", ""),
        ("67482", "67000", "Strasbourg", "MANUFACTURE", ""),
        ("2A004", "20090", "Ajaccio", "PACK; LABEL", ""),
        ("97411", "97490", "Saint-Denis", "MANUFACTURE", "La Reunion"),
        ("75115", "75015", "Paris", "ANALYSIS", "Ile-de-France"),
        ("44109", "44000", "Nantes", "MANUFACTURE; ANALYSIS", ""),
    ]
    firms = _firms()
    rows = []
    for i, (insee, cp, city, ops, state) in enumerate(plan):
        c = next((x for x in COMMUNES if x[0] == insee and x[2] == cp), None) or _commune(insee)
        fei, duns = f"9999{i + 101:06d}", f"99{rng.randint(0, 9_999_999):07d}"
        kind, street = rng.choice(STREETS)
        address = f"{rng.randint(1, 99)} {kind} {street}, {city}, {(state + ' ') if state else ' '}{cp}, France (FRA)"
        split = ops.split("; ")
        good_cp = cp if len(cp) == 5 else ""
        if good_cp and good_cp == c[2]:
            precision = "commune (postal code + name match)"
        elif good_cp:
            precision = "commune (name match within departement; CEDEX/special postal code)"
        else:
            precision = "none"
        placed = precision != "none"
        firm = firms[(i + 3) % len(firms)]
        registrant = "Camille EXEMPLE" if i == 6 else firm  # a registrant named like a person: never carried
        rows.append(
            {
                "fei_number": fei,
                "duns_number": duns,
                "firm_name": firm,
                "address": address,
                "operations": ops,
                "api_manufacture": str(int("API MANUFACTURE" in split)),
                "manufacture": str(int("MANUFACTURE" in split)),
                "registration_expiration_date": "2025-12-31",
                "registrant_name": registrant,
                "registrant_duns": duns,
                "exclusion_flag": "N",
                "postal_code": good_cp,
                "city_as_written": city,
                "code_commune_insee": insee if placed else "",
                "nom_commune_laposte": c[1] if placed else "",
                "latitude_approx": _fmt(c[3]) if placed else "",
                "longitude_approx": _fmt(c[4]) if placed else "",
                "geocoding_precision": precision,
            }
        )
    return rows


def _fda_world_rows(rng: random.Random, france: list[dict]) -> list[list[str]]:
    rows = []
    for r in france:
        rows.append(
            [
                r["fei_number"],
                r["duns_number"],
                r["firm_name"],
                r["address"],
                "FRA",
                "France",
                r["operations"],
                r["api_manufacture"],
                r["manufacture"],
                r["registration_expiration_date"],
                r["registrant_name"],
                r["registrant_duns"],
                r["exclusion_flag"],
            ]
        )
    stems = [h.split()[-1] if h.startswith("LABORATOIRES") else h.split()[0] for h in _firms()]
    n = 0
    for iso, name, count, api_share, city, cp in WORLD:
        for _ in range(count):
            n += 1
            ops = set(rng.sample(WORLD_OPS, rng.randint(0, 2)))
            if rng.random() < api_share:
                ops.add("API MANUFACTURE")
            if rng.random() < 0.6 or not ops:
                ops.add("MANUFACTURE")
            ops_text = "; ".join(sorted(ops))
            firm = f"{rng.choice(stems)} {name.split(',')[0].upper()} {rng.choice(('LTD', 'INC.', 'GMBH', 'S.P.A.', 'CO., LTD.'))}"
            fei, duns = f"9998{n:06d}", f"98{rng.randint(0, 9_999_999):07d}"
            address = f"{rng.randint(1, 999)} Demo Road, {city}, {cp}, {name} ({iso})"
            rows.append(
                [
                    fei,
                    duns,
                    firm,
                    address,
                    iso,
                    name,
                    ops_text,
                    str(int("API MANUFACTURE" in ops)),
                    str(int("MANUFACTURE" in ops)),
                    "2025-12-31",
                    firm,
                    duns,
                    "N",
                ]
            )
    return rows


def _by_country_rows(world: list[list[str]]) -> list[list[str]]:
    est, api, man, names = Counter(), Counter(), Counter(), {}
    for r in world:
        iso, ops = r[4], set(r[6].split("; "))
        names[iso] = r[5]
        est[iso] += 1
        api[iso] += "API MANUFACTURE" in ops
        man[iso] += "MANUFACTURE" in ops
    total = sum(api.values())
    order = sorted(est, key=lambda k: (-api[k], -est[k], k))
    return [[k, names[k], str(est[k]), str(api[k]), str(man[k]), f"{api[k] / total:.5f}"] for k in order]


def _santefr_rows(rng: random.Random) -> list[list[str]]:
    rows = []
    n = 0
    for insee, _, cp, lat, lon, spelled in COMMUNES:
        for _ in range(2 if insee[:2] in ("75", "69", "97") else 1):
            n += 1
            dep = _dep(insee)
            finess = f"{dep}99{n:0{7 - len(dep)}d}" if len(dep) == 2 else f"{dep}9{n:05d}"
            kind, street = rng.choice(STREETS)
            if lat is None:  # Saint-Martin: La Poste has no coordinate, the source has one
                la, lo = 18.0708 + rng.uniform(-0.01, 0.01), -63.0501 + rng.uniform(-0.01, 0.01)
            else:
                la, lo = _jitter(rng, lat, lon)
            rows.append(
                [finess, f"{rng.randint(1, 150)} {kind.capitalize()} {street}", "", cp, spelled, _fmt(la), _fmt(lo)]
            )
    # the quirks (FINESS numbers fixed so that DEMO_SITES_QUIRKS can name them)
    nantes, bordeaux = _commune("44109"), _commune("33063")
    la, lo = _jitter(rng, nantes[3], nantes[4])
    rows.insert(3, ["449800001", "8 Rue de la Maquette", "", "44000", "Nantes", _fmt(lo), _fmt(la)])  # swapped
    rows.insert(7, ["699800001", "3 Place des Essais", "", "69190", "Saint-Fons", "", ""])  # no coordinates
    la, lo = _jitter(rng, bordeaux[3], bordeaux[4])
    rows.insert(
        11, ["339800001", "21 Rue du Fictif", "Bâtiment B", "33000", "Bordeaux", "448.5", _fmt(lo)]
    )  # out of range
    return rows


# fictional trade names, shaped like real ones ({street}: the street, {commune}: the commune)
SIRENE_TRADE_NAMES = (
    "PHARMACIE {street}",
    "GRANDE PHARMACIE {street}",
    "PHARMACIE CENTRALE DE {commune}",
    "PHARMACIE DU MARCHE",
    "PHARMACIE DE LA GARE",
    "",  # no trade name
)


def _sirene_rows(rng: random.Random) -> list[list[str]]:
    rows = []
    for insee, name, cp, lat, lon, spelled in COMMUNES:
        if insee[:2] not in IDF_DEPARTEMENTS:
            continue
        for _ in range(4 if insee.startswith("75") else 2):
            kind, street = rng.choice(STREETS)
            la, lo = _jitter(rng, lat, lon, 1.0)
            commune = "BOULOGNE-BILLANCOURT" if insee == "92012" else name
            number = str(rng.randint(1, 180)) if rng.random() < 0.85 else ""
            repetition = "B" if number and rng.random() < 0.15 else ""
            trade = rng.choice(SIRENE_TRADE_NAMES).format(street=street.upper(), commune=_upper_plain(spelled))
            rows.append(
                [
                    "47.73Z",
                    kind,
                    street.upper(),
                    commune,
                    insee,
                    insee[:2],
                    f"POINT ({lo:.7f} {la:.7f})",
                    f"{lo:.7f}",
                    f"{la:.7f}",
                    number,
                    repetition,
                    cp,
                    trade,
                    "O",
                ]
            )
    # two pharmacies of the same street, without number nor name: identical rows
    rows[4][9:11], rows[4][12] = ["", ""], ""
    rows.insert(5, list(rows[4]))
    # an establishment under partial diffusion: INSEE hides its name ("[ND]")
    rows[6][12:14] = ["[ND]", "P"]
    # Montreuil (93) geocoded to Montreuil-sur-Mer (62)
    rows.append(
        [
            "47.73Z",
            "rue",
            "DE LA PAIX",
            "MONTREUIL",
            "93048",
            "93",
            "POINT (1.7635 50.4640)",
            "1.7635",
            "50.4640",
            "7",
            "",
            "93100",
            "PHARMACIE DE LA PAIX",
            "O",
        ]
    )
    return rows


def write_demo_sites(out_dir: Path, seed: int = 20261128) -> dict:
    """Write the synthetic sites files (and La Poste's gazetteer for the demo
    communes) under ``out_dir``; return {relative file: data rows}. Only the
    files of ``FILES`` are replaced; anything else is left alone."""
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    france = _fda_france_rows(rng)
    world = _fda_world_rows(rng, france)
    tables = {
        "laposte": (LAPOSTE_COLUMNS, _laposte_rows(), ";"),
        "irep": (IREP_COLUMNS, _irep_rows(rng), ","),
        "fda_france": (FDA_FRANCE_COLUMNS, [[r[c] for c in FDA_FRANCE_COLUMNS] for r in france], ","),
        "fda_world": (FDA_WORLD_COLUMNS, world, ","),
        "fda_country": (COUNTRY_COLUMNS, _by_country_rows(world), ","),
        "santefr": (SANTEFR_COLUMNS, _santefr_rows(rng), ","),
        "sirene": (SIRENE_COLUMNS, _sirene_rows(rng), ","),
    }
    summary = {}
    for key, (columns, rows, delimiter) in tables.items():
        path = out_dir / FILES[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_csv_text(columns, rows, delimiter).encode("utf-8"))
        summary[FILES[key]] = len(rows)
    return summary
