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
name only (never the registrant, which is sometimes a person), pharmacies have
no name in the sources (the name shown is "Pharmacie — street, commune").
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz

from datamed.sources.textfile import MAX_RAW_CHARS, Reject, decode
from datamed.core.text import normalise

# --- vocabularies ----------------------------------------------------------------
KINDS = {
    "fabrication": "Site de fabrication",
    "principe_actif": "Fabrication de principe actif",
    "analyse_conditionnement": "Analyse / conditionnement",
    "distribution": "Distribution en gros",
    "pharmacie": "Pharmacie",
}
PRECISIONS = ("exacte", "centroïde commune", "aucune")

SOURCE_COORDS = "coordonnées de la source"
SOURCE_COORDS_SWAPPED = "coordonnées de la source (latitude et longitude inversées, corrigées)"
BY_POSTAL_AND_NAME = "code postal + commune"
BY_NAME_IN_DEPARTEMENT = "commune dans le département"
FIRST_OF_POSTAL = "premier lieu du code postal"
BY_INSEE = "code commune INSEE"
UNPLACED = "non placé"
PLACEMENTS = (SOURCE_COORDS, SOURCE_COORDS_SWAPPED, BY_POSTAL_AND_NAME, BY_NAME_IN_DEPARTEMENT,
              FIRST_OF_POSTAL, BY_INSEE, UNPLACED)  # fmt: skip

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

# a source point farther than this from its commune's centroid is a geocoding error
# (Guyane's communes are huge: Maripasoula spans ~130 km)
MAX_KM_FROM_COMMUNE = 30.0
MAX_KM_FROM_COMMUNE_BY_DEPARTEMENT = {"973": 150.0}

# France + DROM/COM bounding boxes (lat_min, lat_max, lon_min, lon_max)
FRANCE_BOXES = {
    "métropole": (41.2, 51.2, -5.3, 9.7),
    "Antilles": (14.3, 18.2, -63.2, -60.7),  # Guadeloupe, Martinique, Saint-Martin, Saint-Barthélemy
    "Guyane": (2.0, 6.0, -54.7, -51.5),
    "La Réunion": (-21.5, -20.8, 55.1, 55.9),
    "Mayotte": (-13.1, -12.5, 44.9, 45.4),
    "Saint-Pierre-et-Miquelon": (46.7, 47.2, -56.5, -56.0),
}

# département code -> (name, 2016 région)
_ARA, _BFC, _BRE, _CVL, _COR, _GE = (
    "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté", "Bretagne", "Centre-Val de Loire", "Corse", "Grand Est",
)  # fmt: skip
_HDF, _IDF, _NOR, _NA, _OCC, _PDL, _PACA = (
    "Hauts-de-France", "Île-de-France", "Normandie", "Nouvelle-Aquitaine", "Occitanie", "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
)  # fmt: skip
DEPARTEMENTS: dict[str, tuple[str, str]] = {
    "01": ("Ain", _ARA), "02": ("Aisne", _HDF), "03": ("Allier", _ARA),
    "04": ("Alpes-de-Haute-Provence", _PACA), "05": ("Hautes-Alpes", _PACA), "06": ("Alpes-Maritimes", _PACA),
    "07": ("Ardèche", _ARA), "08": ("Ardennes", _GE), "09": ("Ariège", _OCC), "10": ("Aube", _GE),
    "11": ("Aude", _OCC), "12": ("Aveyron", _OCC), "13": ("Bouches-du-Rhône", _PACA), "14": ("Calvados", _NOR),
    "15": ("Cantal", _ARA), "16": ("Charente", _NA), "17": ("Charente-Maritime", _NA), "18": ("Cher", _CVL),
    "19": ("Corrèze", _NA), "2A": ("Corse-du-Sud", _COR), "2B": ("Haute-Corse", _COR),
    "21": ("Côte-d'Or", _BFC), "22": ("Côtes-d'Armor", _BRE), "23": ("Creuse", _NA), "24": ("Dordogne", _NA),
    "25": ("Doubs", _BFC), "26": ("Drôme", _ARA), "27": ("Eure", _NOR), "28": ("Eure-et-Loir", _CVL),
    "29": ("Finistère", _BRE), "30": ("Gard", _OCC), "31": ("Haute-Garonne", _OCC), "32": ("Gers", _OCC),
    "33": ("Gironde", _NA), "34": ("Hérault", _OCC), "35": ("Ille-et-Vilaine", _BRE), "36": ("Indre", _CVL),
    "37": ("Indre-et-Loire", _CVL), "38": ("Isère", _ARA), "39": ("Jura", _BFC), "40": ("Landes", _NA),
    "41": ("Loir-et-Cher", _CVL), "42": ("Loire", _ARA), "43": ("Haute-Loire", _ARA),
    "44": ("Loire-Atlantique", _PDL), "45": ("Loiret", _CVL), "46": ("Lot", _OCC),
    "47": ("Lot-et-Garonne", _NA), "48": ("Lozère", _OCC), "49": ("Maine-et-Loire", _PDL),
    "50": ("Manche", _NOR), "51": ("Marne", _GE), "52": ("Haute-Marne", _GE), "53": ("Mayenne", _PDL),
    "54": ("Meurthe-et-Moselle", _GE), "55": ("Meuse", _GE), "56": ("Morbihan", _BRE), "57": ("Moselle", _GE),
    "58": ("Nièvre", _BFC), "59": ("Nord", _HDF), "60": ("Oise", _HDF), "61": ("Orne", _NOR),
    "62": ("Pas-de-Calais", _HDF), "63": ("Puy-de-Dôme", _ARA), "64": ("Pyrénées-Atlantiques", _NA),
    "65": ("Hautes-Pyrénées", _OCC), "66": ("Pyrénées-Orientales", _OCC), "67": ("Bas-Rhin", _GE),
    "68": ("Haut-Rhin", _GE), "69": ("Rhône", _ARA), "70": ("Haute-Saône", _BFC),
    "71": ("Saône-et-Loire", _BFC), "72": ("Sarthe", _PDL), "73": ("Savoie", _ARA),
    "74": ("Haute-Savoie", _ARA), "75": ("Paris", _IDF), "76": ("Seine-Maritime", _NOR),
    "77": ("Seine-et-Marne", _IDF), "78": ("Yvelines", _IDF), "79": ("Deux-Sèvres", _NA),
    "80": ("Somme", _HDF), "81": ("Tarn", _OCC), "82": ("Tarn-et-Garonne", _OCC), "83": ("Var", _PACA),
    "84": ("Vaucluse", _PACA), "85": ("Vendée", _PDL), "86": ("Vienne", _NA), "87": ("Haute-Vienne", _NA),
    "88": ("Vosges", _GE), "89": ("Yonne", _BFC), "90": ("Territoire de Belfort", _BFC),
    "91": ("Essonne", _IDF), "92": ("Hauts-de-Seine", _IDF), "93": ("Seine-Saint-Denis", _IDF),
    "94": ("Val-de-Marne", _IDF), "95": ("Val-d'Oise", _IDF),
    "971": ("Guadeloupe", "Guadeloupe"), "972": ("Martinique", "Martinique"), "973": ("Guyane", "Guyane"),
    "974": ("La Réunion", "La Réunion"), "976": ("Mayotte", "Mayotte"),
    # collectivités d'outre-mer found in La Poste's file (not régions)
    "975": ("Saint-Pierre-et-Miquelon", "Saint-Pierre-et-Miquelon"),
    "977": ("Saint-Barthélemy", "Saint-Barthélemy"), "978": ("Saint-Martin", "Saint-Martin"),
}  # fmt: skip
_DEPARTEMENT_BY_NAME = {normalise(name): code for code, (name, _) in DEPARTEMENTS.items()}

SITES_SCHEMA = {
    "site_id": pl.String, "nom": pl.String, "type": pl.String, "operations": pl.List(pl.String),
    "adresse": pl.String, "code_postal": pl.String, "commune": pl.String, "code_insee": pl.String,
    "departement": pl.String, "region": pl.String, "pays": pl.String, "latitude": pl.Float64,
    "longitude": pl.Float64, "precision": pl.String, "placement": pl.String, "source": pl.String,
    "source_date": pl.String,
}  # fmt: skip
COUNTRIES_SCHEMA = {
    "country_iso3": pl.String, "country_name": pl.String, "n_establishments": pl.Int64,
    "n_api_manufacture": pl.Int64, "n_manufacture": pl.Int64, "share_api": pl.Float64,
}  # fmt: skip
UNPLACED_SCHEMA = {"site_id": pl.String, "nom": pl.String, "reason": pl.String}


# --- text / code helpers -----------------------------------------------------------
_ARRONDISSEMENT = re.compile(r"\b(paris|lyon|marseille) (\d{1,2})(?: ?(?:e|er|eme|ieme|em))?\b")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


@functools.lru_cache(maxsize=200_000)
def normalise_commune(name: str | None) -> str:
    """Comparable commune name: accent/case/punctuation-free, "ST" -> "SAINT",
    "CEDEX ..." dropped, arrondissement numbers on two digits ("Paris 5e" -> "paris 05")."""
    text = normalise(name or "")
    if not text:
        return ""
    words = text.split()
    if "cedex" in words:
        words = words[: words.index("cedex")]
    text = " ".join(_ABBREVIATIONS.get(w, w) for w in words)
    return _ARRONDISSEMENT.sub(lambda m: f"{m.group(1)} {int(m.group(2)):02d}", text)


def _base_name(name: str) -> str:
    """"paris 12" -> "paris" (La Poste names arrondissements "PARIS 12")."""
    return re.sub(r" \d{1,2}$", "", name)


_POSTAL_PREFIX = re.compile(r"^(?:f|fr|france)\s*[- ]\s*", re.I)


def clean_postal_code(raw: str | None) -> str | None:
    """A 5-digit postal code, or None: spaces, a leading "F-" and a trailing
    "CEDEX ..." are removed ("F-02300" -> "02300", "38 300" -> "38300",
    "92042 CEDEX" -> "92042")."""
    text = (raw or "").strip()
    text = re.split(r"\bcedex\b", text, flags=re.I)[0]
    text = _POSTAL_PREFIX.sub("", text)
    text = re.sub(r"[\s.]", "", text)
    return text if re.fullmatch(r"\d{5}", text) else None


def departement_of_insee(insee: str | None) -> str | None:
    """INSEE commune code -> département code ("2A004" -> "2A", "97411" -> "974")."""
    if not insee or len(insee) != 5:
        return None
    return insee[:3] if insee.startswith("97") else insee[:2]


def postal_prefix(code: str) -> str:
    """The part of a postal code that names its département area ("97411" -> "974", "75012" -> "75")."""
    return code[:3] if code.startswith("97") else code[:2]


def departement_code(value: str | None) -> str | None:
    """A département given as code ("1", "01", "2a", "974") or name ("MANCHE", "Côtes-d'Armor")."""
    text = (value or "").strip()
    if not text:
        return None
    code = text.upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    if code in DEPARTEMENTS:
        return code
    return _DEPARTEMENT_BY_NAME.get(normalise(text))


def region_of(departement: str | None) -> str | None:
    entry = DEPARTEMENTS.get(departement or "")
    return entry[1] if entry else None


def in_france(lat: float, lon: float) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in FRANCE_BOXES.values())


def _to_float(text: str | None) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_coordinates(lat_raw: str | None, lon_raw: str | None) -> tuple[float | None, float | None, str]:
    """Validate a source coordinate of a French site.

    Returns (lat, lon, status) with status "ok", "swapped" (values returned in
    the right order), "absent", "invalid" (unparseable), "out of range" or
    "outside France"; lat/lon are None unless status is ok or swapped."""
    if not (lat_raw or "").strip() and not (lon_raw or "").strip():
        return None, None, "absent"
    lat, lon = _to_float(lat_raw), _to_float(lon_raw)
    if lat is None or lon is None:
        return None, None, "invalid"
    if in_france(lat, lon):
        return lat, lon, "ok"
    if in_france(lon, lat):
        return lon, lat, "swapped"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None, "out of range"
    return None, None, "outside France"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


# --- offline geocoding ---------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    lat: float | None
    lon: float | None
    precision: str  # one of PRECISIONS
    method: str  # one of PLACEMENTS
    insee: str | None = None
    commune: str | None = None  # La Poste's name of the commune
    departement: str | None = None
    postal_code: str | None = None  # cleaned postal code (or La Poste's, when unique for the commune)

    @property
    def placed(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class _Place:
    insee: str
    nom: str  # as written by La Poste
    postal_code: str
    departement: str | None
    key_nom: str
    key_ligne5: str
    key_acheminement: str
    lat: float | None
    lon: float | None


_GENERIC_WORDS = frozenset({"saint", "sainte", "le", "la", "les", "l", "d", "de", "du", "des", "sur", "sous", "en"})


def _prefix_match(a: str, b: str) -> bool:
    """One name's words start the other's ("neuvic" / "neuvic sur l isle", "ales" / "ales gard")."""
    wa, wb = a.split(), b.split()
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if not short or long_[: len(short)] != short:
        return False
    return len(" ".join(short)) >= 3 and not set(short) <= _GENERIC_WORDS


def communes_frame(gazetteer: "Gazetteer") -> pl.DataFrame:
    """One row per (commune, postal code) with the commune's coordinates."""
    rows = {}
    for p in gazetteer.places:
        lat, lon = gazetteer._coords.get(p.insee, (None, None))
        rows.setdefault((p.insee, p.postal_code), (p.insee, p.nom, p.postal_code, p.departement, lat, lon))
    return pl.DataFrame(
        list(rows.values()),
        schema={"code_insee": pl.String, "nom": pl.String, "code_postal": pl.String, "departement": pl.String, "latitude": pl.Float64, "longitude": pl.Float64},
        orient="row",
    )


@dataclass
class Gazetteer:
    """La Poste's postal codes with commune coordinates, indexed for ``locate``."""

    places: list[_Place] = field(default_factory=list, repr=False)
    source_rows: int = 0
    rejects: list[Reject] = field(default_factory=list, repr=False)

    def __post_init__(self):
        self._by_postal: dict[str, list[_Place]] = defaultdict(list)
        self._by_dep: dict[str, list[_Place]] = defaultdict(list)
        self._by_insee: dict[str, list[_Place]] = defaultdict(list)
        self._deps_of_prefix: dict[str, set[str]] = defaultdict(set)
        for p in self.places:
            self._by_postal[p.postal_code].append(p)
            self._by_insee[p.insee].append(p)
            if p.departement:
                self._by_dep[p.departement].append(p)
                self._deps_of_prefix[postal_prefix(p.postal_code)].add(p.departement)
        # one coordinate per commune: the first of its rows that has one
        self._coords: dict[str, tuple[float, float]] = {}
        for p in self.places:
            if p.lat is not None and p.insee not in self._coords:
                self._coords[p.insee] = (p.lat, p.lon)

    @classmethod
    def read(cls, path: Path, label: str | None = None) -> Gazetteer:
        """Read ``laposte_hexasmal.csv`` (``;``-separated, header, codes as strings).
        Rows with a bad INSEE or postal code become rejects; rows without
        coordinates are kept (they still name the commune). ``label`` names the
        file in errors and rejects (default ``geo/<file name>``)."""
        name = label or f"geo/{Path(path).name}"
        text, _ = decode(Path(path).read_bytes())
        if not text.strip():
            raise ValueError(f"{name}: empty file")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
        header = next(reader, None) or []
        cols = {normalise(h).replace(" ", "_"): i for i, h in enumerate(header)}
        need = {"code_commune_insee": "insee", "nom_commune": "nom", "code_postal": "cp",
                "ligne_5": "l5", "libelle_d_acheminement": "ach", "coordonnees_gps": "gps"}  # fmt: skip
        missing = [k for k in need if k not in cols]
        if missing:
            raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
        idx = {v: cols[k] for k, v in need.items()}
        places, rejects, n = [], [], 0
        for row in reader:
            if not row or row == [""]:
                continue
            n += 1
            line = reader.line_num
            if len(row) != len(header):
                rejects.append(Reject(name, line, f"expected {len(header)} fields, found {len(row)}", ";".join(row)[:MAX_RAW_CHARS]))
                continue
            insee, cp = row[idx["insee"]].strip().upper(), row[idx["cp"]].strip()
            if not re.fullmatch(r"\d[\dAB]\d{3}", insee) or not re.fullmatch(r"\d{5}", cp):
                rejects.append(Reject(name, line, "invalid INSEE or postal code", ";".join(row)[:MAX_RAW_CHARS]))
                continue
            lat = lon = None
            gps = row[idx["gps"]].split(",")
            if len(gps) == 2:
                lat, lon = _to_float(gps[0]), _to_float(gps[1])
                if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    lat = lon = None
            nom = row[idx["nom"]].strip()
            places.append(
                _Place(insee, nom, cp, departement_of_insee(insee), normalise_commune(nom),
                       normalise_commune(row[idx["l5"]]), normalise_commune(row[idx["ach"]]), lat, lon)
            )  # fmt: skip
        if not places:
            raise ValueError(f"{name}: no usable row")
        return cls(places, n, rejects)

    # -- look-ups
    def commune_coordinates(self, insee: str) -> tuple[float, float] | None:
        return self._coords.get(insee)

    def postal_codes_of(self, insee: str) -> list[str]:
        return sorted({p.postal_code for p in self._by_insee.get(insee, [])})

    def departements_of_postal_code(self, code: str) -> set[str]:
        """Départements whose communes use this postal code, else those of its prefix
        (CEDEX and special codes are not in La Poste's file)."""
        deps = {p.departement for p in self._by_postal.get(code, []) if p.departement}
        return deps or set(self._deps_of_prefix.get(postal_prefix(code), set()))

    def _placement(self, place: _Place, method: str, postal_code: str | None) -> Placement:
        coords = (place.lat, place.lon) if place.lat is not None else self._coords.get(place.insee)
        if postal_code is None:
            codes = self.postal_codes_of(place.insee)
            postal_code = codes[0] if len(codes) == 1 else None
        if coords is None:  # the commune is known but La Poste has no coordinate for it
            return Placement(None, None, "aucune", UNPLACED, place.insee, place.nom, place.departement, postal_code)
        return Placement(coords[0], coords[1], "centroïde commune", method, place.insee, place.nom,
                         place.departement, postal_code)  # fmt: skip

    @staticmethod
    def _match(cands: list[_Place], key: str, fuzzy: bool) -> _Place | None:
        """Best candidate for a normalised name, by tiers: La Poste name, lieu-dit
        (Ligne 5), name without arrondissement, delivery label, then (``fuzzy``)
        a word-prefix or a close spelling. Within a tier, rows with coordinates first."""
        if not key or not cands:
            return None
        tiers = [
            lambda p: p.key_nom == key,
            lambda p: p.key_ligne5 == key,
            lambda p: _base_name(p.key_nom) == key,
            lambda p: p.key_acheminement == key,
        ]
        if fuzzy:
            tiers += [lambda p: _prefix_match(p.key_nom, key), lambda p: _prefix_match(p.key_acheminement, key)]
        for test in tiers:
            found = [p for p in cands if test(p)]
            if found:
                return next((p for p in found if p.lat is not None), found[0])
        if fuzzy:
            scored = [(fuzz.ratio(p.key_nom, key), i) for i, p in enumerate(cands)]
            best, i = max(scored)
            if best >= 88:
                return cands[i]
        return None

    def locate(self, postal_code: str | None, commune: str | None, *, departement: str | None = None,
               insee: str | None = None) -> Placement:  # fmt: skip
        """Place a site at its commune's centroid, offline.

        0. ``insee`` (when given and known): that commune ("code commune INSEE");
        1. postal code + normalised commune name ("code postal + commune");
        2. commune name within the département(s) of the postal code, or within
           ``departement`` when the postal code is malformed ("commune dans le
           département": CEDEX and special codes are not in La Poste's file);
        3. the first commune of the postal code ("premier lieu du code postal");
        else unplaced (precision "aucune", method "non placé")."""
        code = clean_postal_code(postal_code)
        key = normalise_commune(commune)
        if insee and insee.strip().upper() in self._by_insee:
            places = self._by_insee[insee.strip().upper()]
            if key:
                place = self._match(places, key, fuzzy=True) or places[0]
            else:
                place = next((p for p in places if p.lat is not None), places[0])
            return self._placement(place, BY_INSEE, code)
        in_code = self._by_postal.get(code, []) if code else []
        place = self._match(in_code, key, fuzzy=True)
        if place:
            return self._placement(place, BY_POSTAL_AND_NAME, code)
        deps = self.departements_of_postal_code(code) if code else set()
        if not deps and departement_code(departement):
            deps = {departement_code(departement)}
        if key and deps:
            cands = [p for d in sorted(deps) for p in self._by_dep.get(d, [])]
            place = self._match(cands, key, fuzzy=False)
            if place:
                return self._placement(place, BY_NAME_IN_DEPARTEMENT, code)
        if in_code:
            place = next((p for p in in_code if p.lat is not None), in_code[0])
            return self._placement(place, FIRST_OF_POSTAL, code)
        dep = next(iter(deps)) if len(deps) == 1 else None
        return Placement(None, None, "aucune", UNPLACED, None, None, dep, code)


# --- reading the source files -----------------------------------------------------
@dataclass
class SitesResult:
    sites: pl.DataFrame
    countries: pl.DataFrame
    rejects: list[Reject]
    sources: list[dict]
    unplaced: pl.DataFrame
    # rows kept but fixed, with the fix: source coordinate swapped back or replaced
    # (invalid, out of range, outside France, far from the commune), malformed
    # postal code; and countries of the world file missing from the by-country file
    corrections: list[Reject] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # older snapshots of a source, not read
    communes: pl.DataFrame | None = None  # the gazetteer's communes with coordinates (pharmacy finder)


@dataclass(frozen=True)
class _Spec:
    key: str
    pattern: re.Pattern
    dataset: str
    label: str  # short source label
    prefix: str  # site_id prefix
    required: tuple[str, ...]


SPECS = (
    _Spec("irep", re.compile(r"^irep_.*pharma.*\.csv$", re.I), "sites", "IREP", "irep",
          ("identifiant_irep", "nom_etablissement", "adresse", "code_postal", "commune", "departement",
           "code_ape", "libelle_ape", "latitude", "longitude")),
    _Spec("fda_france", re.compile(r"^fda_decrs_france_establishments_.*\.csv$", re.I), "sites", "FDA DECRS", "fda",
          ("fei_number", "duns_number", "firm_name", "address", "operations", "postal_code", "city_as_written",
           "latitude_approx", "longitude_approx")),
    _Spec("santefr", re.compile(r"^pharmacies_.*santefr.*\.csv$", re.I), "sites", "Santé.fr", "santefr",
          ("finess_et", "adresse_voie_1", "code_postal", "commune", "latitude", "longitude")),
    _Spec("sirene", re.compile(r"^pharmacies_.*sirene.*\.csv$", re.I), "sites", "SIRENE", "sirene",
          ("activitePrincipaleEtablissement", "typeVoieEtablissement", "libelleVoieEtablissement",
           "libelleCommuneEtablissement", "codeCommuneEtablissement")),
    _Spec("fda_world", re.compile(r"^fda_decrs_drug_establishments_.*\.csv$", re.I), "sites_pays", "FDA DECRS", "",
          ("country_iso3", "country_name", "operations")),
    _Spec("fda_country", re.compile(r"^fda_decrs_establishments_by_country_.*\.csv$", re.I), "sites_pays",
          "FDA DECRS", "", ("country_iso3", "country_name", "n_establishments", "n_api_manufacture", "n_manufacture")),
)  # fmt: skip
LAPOSTE_FILE = "laposte_hexasmal.csv"


def snapshot_of(name: str) -> str | None:
    """"..._2025-08.csv" -> "2025-08"; "irep_2015_..." -> "2015"; else None."""
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?:-(0[1-9]|1[0-2]))?(?!\d)", name)
    if not m:
        return None
    return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)


@dataclass
class _Table:
    rel: str
    header: list[str]
    records: list[tuple[int, dict[str, str], str]]  # (line, values, raw text)
    rejects: list[Reject]
    encoding: str
    n_records: int  # data records read (kept in ``records`` or rejected)


def _read_csv(path: Path, rel: str, required: tuple[str, ...]) -> _Table:
    """Read a header + RFC-4180 CSV, every value a stripped string. A record
    with the wrong number of fields becomes a reject; an empty file, a file with
    no data row or without a required column raises ValueError naming it."""
    data = path.read_bytes()
    text, encoding = decode(data)
    if not text.strip():
        raise ValueError(f"{rel}: empty file")
    lines = re.split(r"\r\n|\r|\n", text)  # as io.StringIO(newline="") counts them
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ValueError(f"{rel}: unreadable header ({exc})") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f"{rel}: missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
    records, rejects, n = [], [], 0
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a NUL byte or an unterminated quote
            n += 1
            rejects.append(Reject(rel, start, f"unreadable CSV record ({exc})", "\n".join(lines[start - 1 : start + 1])[:MAX_RAW_CHARS]))
            start = reader.line_num + 1
            continue
        end = reader.line_num
        raw = "\n".join(lines[start - 1 : end]).rstrip("\r")
        line, start = start, end + 1
        if not row or all(not v.strip() for v in row):
            continue
        n += 1
        if len(row) != len(header):
            rejects.append(Reject(rel, line, f"expected {len(header)} fields, found {len(row)}", raw[:MAX_RAW_CHARS]))
            continue
        records.append((line, {h: v.strip() for h, v in zip(header, row)}, raw))
    if n == 0:
        raise ValueError(f"{rel}: no data row (empty file)")
    return _Table(rel, header, records, rejects, encoding, n)


def discover(raw: Path) -> tuple[dict[str, Path], list[str]]:
    """The newest file of each source kind in ``raw/sites`` (by name: the
    snapshot date is in it), and the older ones, ignored."""
    found: dict[str, list[Path]] = defaultdict(list)
    folder = Path(raw) / "sites"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            for spec in SPECS:
                if spec.pattern.match(path.name):
                    found[spec.key].append(path)
                    break
    chosen, ignored = {}, []
    for key, paths in found.items():
        paths.sort(key=lambda p: (snapshot_of(p.name) or "", p.name))
        chosen[key] = paths[-1]
        ignored += [f"sites/{p.name} (older than {paths[-1].name})" for p in paths[:-1]]
    return chosen, ignored


@dataclass
class _Builder:
    """Accumulates site rows, unplaced sites and corrections for one source file."""

    gazetteer: Gazetteer
    table: _Table
    spec: _Spec
    date: str | None
    rows: list[dict] = field(default_factory=list)
    unplaced: list[tuple[str, str, str]] = field(default_factory=list)
    corrections: list[Reject] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list, repr=False)

    def reject(self, line: int, reason: str, raw: str) -> None:
        self.rejects.append(Reject(self.table.rel, line, reason, raw[:MAX_RAW_CHARS]))

    def add(self, line: int, raw: str, *, site_id: str, nom: str, kind: str, operations: list[str], adresse: str | None,
            postal_raw: str | None, commune: str | None, lat_raw: str | None, lon_raw: str | None,
            source_precision: str, insee: str | None = None, departement: str | None = None) -> None:  # fmt: skip
        lat, lon, status = check_coordinates(lat_raw, lon_raw)
        geo = self.gazetteer.locate(postal_raw, commune, departement=departement, insee=insee)
        note = None
        if status in ("ok", "swapped"):
            placement = SOURCE_COORDS if status == "ok" else SOURCE_COORDS_SWAPPED
            precision = source_precision
            if status == "swapped":
                note = f"latitude and longitude swapped in the source ({lat_raw}, {lon_raw}): corrected"
            named = geo.method in (BY_INSEE, BY_POSTAL_AND_NAME, BY_NAME_IN_DEPARTEMENT)
            limit = MAX_KM_FROM_COMMUNE_BY_DEPARTEMENT.get(geo.departement or "", MAX_KM_FROM_COMMUNE)
            if named and geo.placed and (d := distance_km(lat, lon, geo.lat, geo.lon)) > limit:
                note = (f"source coordinates ({lat_raw}, {lon_raw}) are {d:.0f} km from the centroid of "
                        f"{geo.commune} ({geo.insee}): replaced by the centroid ({geo.method})")  # fmt: skip
                lat, lon, precision, placement = geo.lat, geo.lon, geo.precision, geo.method
        else:
            lat, lon, precision, placement = geo.lat, geo.lon, geo.precision, geo.method
            if status != "absent":
                note = f"source coordinates {status} ({lat_raw}, {lon_raw}): discarded, placed by {geo.method}"
        code = clean_postal_code(postal_raw)
        if (postal_raw or "").strip() and not code:
            found = f"{geo.commune} ({geo.insee}) found by {geo.method}" if geo.insee else "commune not found"
            note = "; ".join(x for x in (note, f"malformed postal code {postal_raw!r}: {found}") if x)
        if note:
            self.corrections.append(Reject(self.table.rel, line, note, raw[:MAX_RAW_CHARS]))
        dep = geo.departement or departement_code(departement)
        if dep is None and code:
            deps = self.gazetteer.departements_of_postal_code(code)
            dep = next(iter(deps)) if len(deps) == 1 else None
        if dep is None and code and postal_prefix(code) in DEPARTEMENTS and code[:2] != "20":
            dep = postal_prefix(code)
        shown_commune = re.split(r"\s+cedex\b", commune or "", flags=re.I)[0].strip() or geo.commune
        self.rows.append({
            "site_id": site_id, "nom": nom, "type": kind, "operations": operations, "adresse": adresse or None,
            "code_postal": code or geo.postal_code, "commune": shown_commune, "code_insee": geo.insee,
            "departement": dep, "region": region_of(dep), "pays": "FRA", "latitude": lat, "longitude": lon,
            "precision": precision, "placement": placement, "source": self.spec.label, "source_date": self.date,
        })  # fmt: skip
        if lat is None:
            why = []
            if status != "absent":
                why.append(f"source coordinates {status}")
            else:
                why.append("no source coordinates")
            if (postal_raw or "").strip() and not code:
                why.append(f"malformed postal code {postal_raw!r}")
            if not self.gazetteer.places:
                why.append("no La Poste file to geocode with")
            elif geo.insee:
                why.append(f"no coordinates for {geo.commune} ({geo.insee}) in La Poste's file")
            else:
                why.append(f"commune {commune!r} not found" + (f" (postal code {code})" if code else ""))
            self.unplaced.append((site_id, nom, "; ".join(why)))


def _row_hash(values: dict[str, str]) -> str:
    return hashlib.sha1("\x1f".join(values.values()).encode("utf-8")).hexdigest()[:12]


def _read_irep(b: _Builder) -> None:
    seen: set[str] = set()
    for line, r, raw in b.table.records:
        key = r["identifiant_irep"]
        if not key:
            b.reject(line, "missing identifiant_irep", raw)
            continue
        if key in seen:
            b.reject(line, f"duplicate identifiant_irep {key}", raw)
            continue
        ape = r["code_ape"].replace(".", "").upper()
        kind = IREP_APE_KINDS.get(ape)
        if kind is None and (r.get("selection") == IREP_EPRTR_API_SELECTION or r.get("code_eprtr", "").startswith("4.(e)")):
            kind = "principe_actif"
        if kind is None:
            b.reject(line, f"unknown kind (code_ape {r['code_ape']!r})", raw)
            continue
        seen.add(key)
        b.add(line, raw, site_id=f"irep:{key}", nom=r["nom_etablissement"] or f"Site IREP {key}", kind=kind,
              operations=[r["libelle_ape"]] if r["libelle_ape"] else [], adresse=r["adresse"],
              postal_raw=r["code_postal"], commune=r["commune"], lat_raw=r["latitude"], lon_raw=r["longitude"],
              source_precision="exacte", departement=r["departement"])  # fmt: skip


def fda_operations(text: str) -> list[str]:
    return [o.strip().upper() for o in re.split(r"[;|]", text or "") if o.strip()]


def fda_kind(operations: list[str]) -> str | None:
    ops = set(operations)
    if ops & FDA_API_OPERATIONS:
        return "principe_actif"
    if ops & FDA_MANUFACTURE_OPERATIONS:
        return "fabrication"
    if ops & FDA_ANALYSIS_OPERATIONS:
        return "analyse_conditionnement"
    if ops & FDA_DISTRIBUTION_OPERATIONS:
        return "distribution"
    return None


_ADDRESS_POSTAL = re.compile(r"(?<![\d])(\d{2}\s?\d{3})(?![\d])")
_FRANCE_SUFFIX = re.compile(r",?\s*France\s*\(FRA\)\s*$", re.I)


def _address_postal_and_state(address: str) -> tuple[str, str | None]:
    """(postal code as written, département code named next to it) from an FDA
    address ending "..., <State> <postal code>, France (FRA)": "- 38 300" ->
    ("38 300", None), "Nord 59011" -> ("59011", "59"), "Isere 3800" -> ("3800", "38")."""
    head = _FRANCE_SUFFIX.sub("", address or "")
    tail = head.rsplit(",", 1)[-1].strip()
    state = re.sub(r"[\d\s-]+$", "", tail).strip()
    dep = departement_code(state) if state else None
    found = _ADDRESS_POSTAL.findall(head)
    if found:
        return found[-1], dep
    m = re.search(r"(\d[\d ]*)$", tail)  # what stands where the postal code should be
    return (m.group(1).strip() if m else ""), dep


def _fda_keys(records) -> list[str]:
    """Stable source keys: the FEI number; FEI-DUNS when the FEI repeats; DUNS when the FEI is blank or zeros."""
    def base(r):
        fei = r["fei_number"]
        return fei if fei and fei.strip("0") else f"duns-{r['duns_number'] or 'na'}"

    counts = Counter(base(r) for _, r, _ in records)
    keys = [base(r) if counts[base(r)] == 1 else f"{base(r)}-{r['duns_number'] or 'na'}" for _, r, _ in records]
    seen: Counter = Counter()
    out = []
    for k in keys:
        seen[k] += 1
        out.append(k if seen[k] == 1 else f"{k}-{seen[k]}")
    return out


def _read_fda_france(b: _Builder) -> None:
    for (line, r, raw), key in zip(b.table.records, _fda_keys(b.table.records)):
        ops = fda_operations(r["operations"])
        kind = fda_kind(ops)
        if kind is None:
            b.reject(line, f"unknown kind (operations {r['operations']!r})", raw)
            continue
        postal, state = _address_postal_and_state(r["address"])
        adresse = _FRANCE_SUFFIX.sub("", r["address"]).strip()
        b.add(line, raw, site_id=f"fda:{key}", nom=r["firm_name"] or f"Établissement FDA {key}", kind=kind,
              operations=ops, adresse=adresse, postal_raw=r["postal_code"] or postal, commune=r["city_as_written"],
              lat_raw=r["latitude_approx"], lon_raw=r["longitude_approx"], source_precision="centroïde commune",
              departement=state)  # fmt: skip


def _pharmacy_name(street: str, commune: str) -> str:
    where = ", ".join(x for x in (street, commune) if x)
    return f"Pharmacie — {where}" if where else "Pharmacie"


def _read_santefr(b: _Builder) -> None:
    seen: set[str] = set()
    for line, r, raw in b.table.records:
        finess = r["finess_et"].upper()
        if not re.fullmatch(r"\d[\dAB]\d{7}", finess):
            b.reject(line, f"invalid FINESS number {r['finess_et']!r}", raw)
            continue
        if finess in seen:
            b.reject(line, f"duplicate FINESS number {finess}", raw)
            continue
        seen.add(finess)
        adresse = ", ".join(x for x in (r["adresse_voie_1"], r.get("adresse_voie_2", "")) if x)
        commune = re.split(r"\s+cedex\b", r["commune"], flags=re.I)[0].strip()
        b.add(line, raw, site_id=f"santefr:{finess}", nom=_pharmacy_name(r["adresse_voie_1"], commune),
              kind="pharmacie", operations=[SANTEFR_OPERATION], adresse=adresse, postal_raw=r["code_postal"],
              commune=r["commune"], lat_raw=r["latitude"], lon_raw=r["longitude"], source_precision="exacte")  # fmt: skip


_WKT_POINT = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.I)


def _read_sirene(b: _Builder) -> None:
    seen: Counter = Counter()
    for line, r, raw in b.table.records:
        h = _row_hash(r)
        seen[h] += 1
        # identical rows are distinct pharmacies in the same street (SIRENE gives no street number)
        site_id = f"sirene:{h}" if seen[h] == 1 else f"sirene:{h}-{seen[h]}"
        naf = r["activitePrincipaleEtablissement"].replace(".", "").upper()
        if naf != PHARMACY_NAF:
            b.reject(line, f"unknown kind (activitePrincipaleEtablissement {r['activitePrincipaleEtablissement']!r})", raw)
            continue
        lon, lat = r.get("long", ""), r.get("lat", "")
        if not (lat and lon) and (m := _WKT_POINT.match(r.get("geometry", ""))):
            lon, lat = m.group(1), m.group(2)
        street = " ".join(x for x in (r["typeVoieEtablissement"], r["libelleVoieEtablissement"]) if x)
        insee = r["codeCommuneEtablissement"].upper()
        b.add(line, raw, site_id=site_id, nom=_pharmacy_name(street, r["libelleCommuneEtablissement"]),
              kind="pharmacie", operations=[PHARMACY_NAF_LABEL], adresse=street, postal_raw=None,
              commune=r["libelleCommuneEtablissement"], lat_raw=lat, lon_raw=lon, source_precision="exacte",
              insee=insee if re.fullmatch(r"\d[\dAB]\d{3}", insee) else None,
              departement=r.get("departement"))  # fmt: skip


_READERS = {"irep": _read_irep, "fda_france": _read_fda_france, "santefr": _read_santefr, "sirene": _read_sirene}


def _country_counts_from_world(table: _Table) -> tuple[dict[str, dict], list[Reject]]:
    counts: dict[str, dict] = {}
    rejects: list[Reject] = []
    for line, r, raw in table.records:
        iso = r["country_iso3"].upper()
        if not re.fullmatch(r"[A-Z]{3}", iso):
            rejects.append(Reject(table.rel, line, f"invalid country_iso3 {r['country_iso3']!r}", raw[:MAX_RAW_CHARS]))
            continue
        ops = set(fda_operations(r["operations"]))
        c = counts.setdefault(iso, {"country_iso3": iso, "country_name": r["country_name"], "n_establishments": 0,
                                    "n_api_manufacture": 0, "n_manufacture": 0})  # fmt: skip
        c["n_establishments"] += 1
        c["n_api_manufacture"] += "API MANUFACTURE" in ops
        c["n_manufacture"] += "MANUFACTURE" in ops
    return counts, rejects


def _country_counts_from_file(table: _Table) -> tuple[dict[str, dict], dict[str, tuple[int, str]], list[Reject]]:
    counts: dict[str, dict] = {}
    where: dict[str, tuple[int, str]] = {}
    rejects: list[Reject] = []
    for line, r, raw in table.records:
        iso = r["country_iso3"].upper()
        try:
            values = {k: int(r[k]) for k in ("n_establishments", "n_api_manufacture", "n_manufacture")}
            if min(values.values()) < 0 or not re.fullmatch(r"[A-Z]{3}", iso) or iso in counts:
                raise ValueError
        except ValueError:
            rejects.append(Reject(table.rel, line, "invalid or duplicate country row", raw[:MAX_RAW_CHARS]))
            continue
        counts[iso] = {"country_iso3": iso, "country_name": r["country_name"], **values}
        where[iso] = (line, raw)
    return counts, where, rejects


def _countries_frame(counts: dict[str, dict]) -> pl.DataFrame:
    total_api = sum(c["n_api_manufacture"] for c in counts.values())
    rows = [{**c, "share_api": c["n_api_manufacture"] / total_api if total_api else None} for c in counts.values()]
    frame = pl.DataFrame(rows, schema=COUNTRIES_SCHEMA, orient="row") if rows else pl.DataFrame(schema=COUNTRIES_SCHEMA)
    return frame.sort(["n_api_manufacture", "n_establishments", "country_iso3"], descending=[True, True, False])


def _source_entry(spec: _Spec, path: Path, table: _Table, snapshot: str | None, rows: int, rejected: int) -> dict:
    return {
        "path": f"sites/{path.name}", "source": spec.label, "file": path.name, "dataset": spec.dataset,
        "snapshot": snapshot, "bytes": path.stat().st_size, "encoding": table.encoding,
        "lines": table.n_records, "rows": rows, "rejected": rejected,
    }  # fmt: skip


def read_sites(raw: Path) -> SitesResult:
    """Read every sites file present under ``raw/sites`` (and La Poste's file
    under ``raw/geo``). Raises ValueError naming a file that is empty, has no
    data row or lacks a required column; every other problem is a reject, a
    correction or an unplaced site."""
    raw = Path(raw)
    files, ignored = discover(raw)
    specs = {s.key: s for s in SPECS}
    sources: list[dict] = []
    rejects: list[Reject] = []
    corrections: list[Reject] = []
    site_rows: list[dict] = []
    unplaced: list[tuple[str, str, str]] = []

    gazetteer = Gazetteer()
    geo_path = raw / "geo" / LAPOSTE_FILE
    if geo_path.is_file():
        gazetteer = Gazetteer.read(geo_path, f"geo/{LAPOSTE_FILE}")
        rejects += gazetteer.rejects
        sources.append({
            "path": f"geo/{LAPOSTE_FILE}", "source": "La Poste", "file": LAPOSTE_FILE, "dataset": "sites_geocodage",
            "snapshot": snapshot_of(LAPOSTE_FILE), "bytes": geo_path.stat().st_size, "encoding": "utf-8",
            "lines": gazetteer.source_rows, "rows": len(gazetteer.places), "rejected": len(gazetteer.rejects),
        })  # fmt: skip

    for key in ("irep", "fda_france", "santefr", "sirene"):
        if key not in files:
            continue
        spec, path = specs[key], files[key]
        table = _read_csv(path, f"sites/{path.name}", spec.required)
        snapshot = snapshot_of(path.name)
        if snapshot is None and key == "irep":
            years = Counter(r.get("annee_donnees", "") for _, r, _ in table.records if r.get("annee_donnees"))
            snapshot = years.most_common(1)[0][0] if years else None
        builder = _Builder(gazetteer, table, spec, snapshot)
        _READERS[key](builder)
        rejected = table.rejects + builder.rejects
        rejects += rejected
        corrections += builder.corrections
        site_rows += builder.rows
        unplaced += builder.unplaced
        sources.append(_source_entry(spec, path, table, snapshot, len(builder.rows), len(rejected)))

    counts: dict[str, dict] = {}
    world = files.get("fda_world")
    if world is not None:
        table = _read_csv(world, f"sites/{world.name}", specs["fda_world"].required)
        counts, world_rejects = _country_counts_from_world(table)
        rejected = table.rejects + world_rejects
        rejects += rejected
        sources.append(_source_entry(specs["fda_world"], world, table, snapshot_of(world.name),
                                     len(table.records) - len(world_rejects), len(rejected)))  # fmt: skip
    by_country = files.get("fda_country")
    if by_country is not None:
        table = _read_csv(by_country, f"sites/{by_country.name}", specs["fda_country"].required)
        file_counts, where, file_rejects = _country_counts_from_file(table)
        if world is None:
            counts = file_counts
        else:  # check the published aggregate against the world file
            for iso, c in file_counts.items():
                mine = counts.get(iso)
                diffs = [f"{k} {c[k]} != {mine[k]}" for k in ("n_establishments", "n_api_manufacture", "n_manufacture")
                         if mine is not None and c[k] != mine[k]]  # fmt: skip
                if mine is None or diffs:
                    line, raw_text = where[iso]
                    reason = "country absent from the world file" if mine is None else "differs from the world file: " + ", ".join(diffs)
                    file_rejects.append(Reject(table.rel, line, reason, raw_text[:MAX_RAW_CHARS]))
            for iso in sorted(set(counts) - set(file_counts)):  # no row to reject: noted, world counts used
                corrections.append(Reject(table.rel, 0, f"country {iso} of the world file is missing here", ""))
        rejected = table.rejects + file_rejects
        rejects += rejected
        sources.append(_source_entry(specs["fda_country"], by_country, table, snapshot_of(by_country.name),
                                     len(table.records) - len(file_rejects), len(rejected)))  # fmt: skip

    sites = pl.DataFrame(site_rows, schema=SITES_SCHEMA, orient="row") if site_rows else pl.DataFrame(schema=SITES_SCHEMA)
    unplaced_frame = (pl.DataFrame(unplaced, schema=UNPLACED_SCHEMA, orient="row") if unplaced
                      else pl.DataFrame(schema=UNPLACED_SCHEMA))  # fmt: skip
    return SitesResult(
        sites, _countries_frame(counts), rejects, sources, unplaced_frame, corrections, ignored, communes_frame(gazetteer)
    )
