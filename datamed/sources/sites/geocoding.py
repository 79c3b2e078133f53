"""Offline geocoding of French sites: France's départements and bounding boxes,
commune-name and postal-code normalisation, validation of source coordinates, and
``Gazetteer`` (La Poste's postal codes with commune coordinates), which places a
site at its commune's centroid."""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz

from datamed.core.text import normalise
from datamed.sources.sites.vocabulary import (
    BY_INSEE,
    BY_NAME_IN_DEPARTEMENT,
    BY_POSTAL_AND_NAME,
    FIRST_OF_POSTAL,
    UNPLACED,
)
from datamed.sources.textfile import MAX_RAW_CHARS, Reject, decode

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
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
)
_HDF, _IDF, _NOR, _NA, _OCC, _PDL, _PACA = (
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
)
DEPARTEMENTS: dict[str, tuple[str, str]] = {
    "01": ("Ain", _ARA),
    "02": ("Aisne", _HDF),
    "03": ("Allier", _ARA),
    "04": ("Alpes-de-Haute-Provence", _PACA),
    "05": ("Hautes-Alpes", _PACA),
    "06": ("Alpes-Maritimes", _PACA),
    "07": ("Ardèche", _ARA),
    "08": ("Ardennes", _GE),
    "09": ("Ariège", _OCC),
    "10": ("Aube", _GE),
    "11": ("Aude", _OCC),
    "12": ("Aveyron", _OCC),
    "13": ("Bouches-du-Rhône", _PACA),
    "14": ("Calvados", _NOR),
    "15": ("Cantal", _ARA),
    "16": ("Charente", _NA),
    "17": ("Charente-Maritime", _NA),
    "18": ("Cher", _CVL),
    "19": ("Corrèze", _NA),
    "2A": ("Corse-du-Sud", _COR),
    "2B": ("Haute-Corse", _COR),
    "21": ("Côte-d'Or", _BFC),
    "22": ("Côtes-d'Armor", _BRE),
    "23": ("Creuse", _NA),
    "24": ("Dordogne", _NA),
    "25": ("Doubs", _BFC),
    "26": ("Drôme", _ARA),
    "27": ("Eure", _NOR),
    "28": ("Eure-et-Loir", _CVL),
    "29": ("Finistère", _BRE),
    "30": ("Gard", _OCC),
    "31": ("Haute-Garonne", _OCC),
    "32": ("Gers", _OCC),
    "33": ("Gironde", _NA),
    "34": ("Hérault", _OCC),
    "35": ("Ille-et-Vilaine", _BRE),
    "36": ("Indre", _CVL),
    "37": ("Indre-et-Loire", _CVL),
    "38": ("Isère", _ARA),
    "39": ("Jura", _BFC),
    "40": ("Landes", _NA),
    "41": ("Loir-et-Cher", _CVL),
    "42": ("Loire", _ARA),
    "43": ("Haute-Loire", _ARA),
    "44": ("Loire-Atlantique", _PDL),
    "45": ("Loiret", _CVL),
    "46": ("Lot", _OCC),
    "47": ("Lot-et-Garonne", _NA),
    "48": ("Lozère", _OCC),
    "49": ("Maine-et-Loire", _PDL),
    "50": ("Manche", _NOR),
    "51": ("Marne", _GE),
    "52": ("Haute-Marne", _GE),
    "53": ("Mayenne", _PDL),
    "54": ("Meurthe-et-Moselle", _GE),
    "55": ("Meuse", _GE),
    "56": ("Morbihan", _BRE),
    "57": ("Moselle", _GE),
    "58": ("Nièvre", _BFC),
    "59": ("Nord", _HDF),
    "60": ("Oise", _HDF),
    "61": ("Orne", _NOR),
    "62": ("Pas-de-Calais", _HDF),
    "63": ("Puy-de-Dôme", _ARA),
    "64": ("Pyrénées-Atlantiques", _NA),
    "65": ("Hautes-Pyrénées", _OCC),
    "66": ("Pyrénées-Orientales", _OCC),
    "67": ("Bas-Rhin", _GE),
    "68": ("Haut-Rhin", _GE),
    "69": ("Rhône", _ARA),
    "70": ("Haute-Saône", _BFC),
    "71": ("Saône-et-Loire", _BFC),
    "72": ("Sarthe", _PDL),
    "73": ("Savoie", _ARA),
    "74": ("Haute-Savoie", _ARA),
    "75": ("Paris", _IDF),
    "76": ("Seine-Maritime", _NOR),
    "77": ("Seine-et-Marne", _IDF),
    "78": ("Yvelines", _IDF),
    "79": ("Deux-Sèvres", _NA),
    "80": ("Somme", _HDF),
    "81": ("Tarn", _OCC),
    "82": ("Tarn-et-Garonne", _OCC),
    "83": ("Var", _PACA),
    "84": ("Vaucluse", _PACA),
    "85": ("Vendée", _PDL),
    "86": ("Vienne", _NA),
    "87": ("Haute-Vienne", _NA),
    "88": ("Vosges", _GE),
    "89": ("Yonne", _BFC),
    "90": ("Territoire de Belfort", _BFC),
    "91": ("Essonne", _IDF),
    "92": ("Hauts-de-Seine", _IDF),
    "93": ("Seine-Saint-Denis", _IDF),
    "94": ("Val-de-Marne", _IDF),
    "95": ("Val-d'Oise", _IDF),
    "971": ("Guadeloupe", "Guadeloupe"),
    "972": ("Martinique", "Martinique"),
    "973": ("Guyane", "Guyane"),
    "974": ("La Réunion", "La Réunion"),
    "976": ("Mayotte", "Mayotte"),
    # collectivités d'outre-mer found in La Poste's file (not régions)
    "975": ("Saint-Pierre-et-Miquelon", "Saint-Pierre-et-Miquelon"),
    "977": ("Saint-Barthélemy", "Saint-Barthélemy"),
    "978": ("Saint-Martin", "Saint-Martin"),
}
_DEPARTEMENT_BY_NAME = {normalise(name): code for code, (name, _) in DEPARTEMENTS.items()}


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
    """ "paris 12" -> "paris" (La Poste names arrondissements "PARIS 12")."""
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


def communes_frame(gazetteer: Gazetteer) -> pl.DataFrame:
    """One row per (commune, postal code) with the commune's coordinates."""
    rows = {}
    for p in gazetteer.places:
        lat, lon = gazetteer._coords.get(p.insee, (None, None))
        rows.setdefault((p.insee, p.postal_code), (p.insee, p.nom, p.postal_code, p.departement, lat, lon))
    return pl.DataFrame(
        list(rows.values()),
        schema={
            "code_insee": pl.String,
            "nom": pl.String,
            "code_postal": pl.String,
            "departement": pl.String,
            "latitude": pl.Float64,
            "longitude": pl.Float64,
        },
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
        need = {
            "code_commune_insee": "insee",
            "nom_commune": "nom",
            "code_postal": "cp",
            "ligne_5": "l5",
            "libelle_d_acheminement": "ach",
            "coordonnees_gps": "gps",
        }
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
                rejects.append(
                    Reject(
                        name, line, f"expected {len(header)} fields, found {len(row)}", ";".join(row)[:MAX_RAW_CHARS]
                    )
                )
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
                _Place(
                    insee,
                    nom,
                    cp,
                    departement_of_insee(insee),
                    normalise_commune(nom),
                    normalise_commune(row[idx["l5"]]),
                    normalise_commune(row[idx["ach"]]),
                    lat,
                    lon,
                )
            )
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
        return Placement(
            coords[0], coords[1], "centroïde commune", method, place.insee, place.nom, place.departement, postal_code
        )

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

    def locate(
        self, postal_code: str | None, commune: str | None, *, departement: str | None = None, insee: str | None = None
    ) -> Placement:
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
