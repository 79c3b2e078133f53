"""The pharmacy finder: a postal code or a commune -> the nearest pharmacies of the
sites lists (Santé.fr, SIRENE), with their name and address where the source has
them, and the coverage of those lists as measured on the data (pure: frames in,
frames and dataclasses out)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.text import fr_int, fr_percent, fr_plural, fr_snapshot, normalise
from datamed.datasets import DS
from datamed.store import Store
from datamed.views.sites import placed, sites

EARTH_KM = 6371.0088
MAX_RESULTS = 20
#: the source that lists every pharmacy of its area (a register), against which the others are measured
REGISTER = "SIRENE"
#: two rows of different sources within this distance, on the same street, are one pharmacy
SAME_PHARMACY_KM = 0.15
FAR_KM = 30
NOT_FOUND = "Code postal ou commune introuvable : vérifiez l'orthographe ou essayez un code postal à 5 chiffres."

_NUMBER = re.compile(r"^\s*(\d+)\s*(?:(bis|ter|quater|quinquies|[a-z])\b)?", re.I)


class Place(NamedTuple):
    label: str  # what the query was understood as, e.g. "75011 (Paris 11)"
    lat: float
    lon: float
    departement: str | None = None


@dataclass
class PharmacySearch:
    place: Place | None
    #: rang, site_id, nom (None: the source publishes none), adresse (full), numero (street number), commune,
    #: departement, distance_km, nombre (pharmacies at that point), source (every source listing it),
    #: latitude, longitude
    results: pl.DataFrame
    message: str | None = None
    #: an ambiguous commune name: (label, commune name, département) of each candidate
    choices: list[tuple[str, str, str]] = field(default_factory=list)


class AmbiguousPlace(ValueError):
    """Several communes bear that name; the message lists them with their postal codes."""

    def __init__(self, message: str, choices: list[tuple[str, str, str]]):
        super().__init__(message)
        self.choices = choices


def departements(store: Store) -> list[str]:
    """The codes of the départements (and overseas collectivities) with a placed commune, in order
    (01 … 19, 2A, 2B, 21 … 95, 971 …)."""

    def compute():
        communes = store.table(DS.COMMUNES)
        if communes.is_empty():
            return []
        codes = communes.filter(pl.col("latitude").is_not_null())["departement"].drop_nulls().unique().to_list()
        return sorted(codes, key=lambda c: (len(c), c.replace("2A", "20A").replace("2B", "20B")))

    return store.memo("pharmacy_departements", compute)


OVERSEAS = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
}


def departement_names(store: Store) -> dict[str, str]:
    """Code -> name: the départements whose outline the prepared data has, and overseas France."""
    geo = store.table(DS.DEPARTEMENTS_GEO)
    return {**OVERSEAS, **({} if geo.is_empty() else dict(geo.select("code", "nom").rows()))}


def _key(name: str) -> str:
    return normalise(name).replace("saint ", "st ")


def find_place(store: Store, query: str, departement: str | None = None) -> Place | None:
    """A postal code or a commune name (optionally within a département) -> a Place, offline.

    Raises ``AmbiguousPlace`` when several communes share the name."""
    communes = store.table(DS.COMMUNES)
    if communes.is_empty():
        return None
    if departement:
        communes = communes.filter(pl.col("departement") == departement)
        if communes.is_empty():
            return None
    q = (query or "").strip()[:80]
    digits = q.replace(" ", "")
    if digits.isdigit():
        if len(digits) != 5:
            return None
        rows = communes.filter((pl.col("code_postal") == digits) & pl.col("latitude").is_not_null())
        if rows.is_empty():
            return None
        names = ", ".join(sorted(set(rows["nom"].to_list()))[:3])
        deps = rows["departement"].drop_nulls().unique().to_list()
        return Place(
            f"{digits} ({names.title()})",
            float(rows["latitude"].mean()),
            float(rows["longitude"].mean()),
            deps[0] if len(deps) == 1 else None,
        )
    key = _key(q)
    if not key:
        return None
    placed_communes = (
        communes.filter(pl.col("latitude").is_not_null()).unique("code_insee", keep="first").sort("code_insee")
    )
    keys = [_key(n) for n in placed_communes["nom"].to_list()]
    exact = [i for i, k in enumerate(keys) if k == key]
    if not exact:  # arrondissements: "lyon" -> LYON 01 ... LYON 09
        exact = [i for i, k in enumerate(keys) if k.startswith(key + " ") and k[len(key) + 1 :].isdigit()]
        if exact:
            rows = placed_communes[exact]
            deps = rows["departement"].drop_nulls().unique().to_list()
            return Place(
                q.title(),
                float(rows["latitude"].mean()),
                float(rows["longitude"].mean()),
                deps[0] if len(deps) == 1 else None,
            )
    if not exact:
        best = process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=88, limit=2)
        if not best or (len(best) > 1 and best[0][1] - best[1][1] < 3):
            return None
        exact = [best[0][2]]
    if len(exact) > 1:
        options = placed_communes[exact].join(
            communes.group_by("code_insee").agg(pl.col("code_postal").min()), on="code_insee", suffix="_min"
        )
        choices = [
            (f"{r['nom'].title()} ({r['code_postal_min']})", r["nom"].title(), r["departement"])
            for r in options.sort("code_postal_min").iter_rows(named=True)
        ]
        listed = ", ".join(label for label, _, _ in choices[:6])
        raise AmbiguousPlace(
            f"Plusieurs communes portent ce nom : {listed}. Précisez le code postal ou le département.", choices
        )
    row = placed_communes.row(exact[0], named=True)
    return Place(
        f"{row['nom'].title()} ({row['departement'] or ''})", row["latitude"], row["longitude"], row["departement"]
    )


def _haversine_km(lat: float, lon: float, lats: pl.Expr, lons: pl.Expr) -> pl.Expr:
    la = math.radians(lat)
    dlat = lats.radians() - la
    dlon = lons.radians() - math.radians(lon)
    a = (dlat / 2).sin() ** 2 + math.cos(la) * lats.radians().cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_KM * a.sqrt().arcsin()


def pharmacies(store: Store) -> pl.DataFrame:
    """Every placed pharmacy of the sites lists (with ``enseigne`` even from an older build)."""
    frame = sites(store)
    if frame.is_empty():
        return frame
    if "enseigne" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("enseigne"))
    return placed(frame.filter(pl.col("type") == "pharmacie"))


_POINT_KEY = ("source", "enseigne", "adresse", "code_postal", "commune", "departement", "latitude", "longitude")


def pharmacy_points(store: Store) -> pl.DataFrame:
    """The placed pharmacies, one row per source, name, address and point, with the number of
    pharmacies there (``nombre``): an extract without street numbers (SIRENE Île-de-France)
    places the pharmacies of a street at one point of the street."""

    def compute():
        frame = pharmacies(store)
        if frame.is_empty():
            return frame
        return frame.group_by(list(_POINT_KEY)).agg(pl.len().alias("nombre"), pl.col("site_id").min()).sort("site_id")

    return store.memo("pharmacy_points", compute)


def street_number(address: str | None) -> str | None:
    """ "12 bis rue X" -> "12 bis"; "Rue du 8 Mai 1945" -> None."""
    m = _NUMBER.match(address or "")
    if not m:
        return None
    return m.group(1) + (f" {m.group(2).lower()}" if m.group(2) else "")


def _street_key(address: str | None) -> str:
    """The street of an address, without number nor complement: "237 Rue de Charenton" -> "rue de charenton"."""
    head = (address or "").split(",")[0]
    return _key(_NUMBER.sub("", head)).strip()


def _same_pharmacy(a: dict, b: dict) -> bool:
    if a["source"] == b["source"] or a["_street"] == "" or a["_street"] != b["_street"]:
        return False
    na, nb = street_number(a["adresse"]), street_number(b["adresse"])
    if na and nb and na != nb:
        return False
    la1, la2 = math.radians(a["latitude"]), math.radians(b["latitude"])
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin(math.radians(b["longitude"] - a["longitude"]) / 2) ** 2
    )
    return 2 * EARTH_KM * math.asin(math.sqrt(h)) <= SAME_PHARMACY_KM


def _richness(r: dict) -> tuple[bool, bool]:
    return r["enseigne"] is not None, street_number(r["adresse"]) is not None


def _merge_sources(rows: list[dict]) -> list[dict]:
    """One row per pharmacy: a row of another source on the same street, less than
    ``SAME_PHARMACY_KM`` away, with no conflicting street number, is the same pharmacy
    when neither has another such match (one-to-one only: a street with two pharmacies
    in one list is never merged). The row with a name, else with a street number, is kept."""
    matches: dict[int, list[int]] = {i: [] for i in range(len(rows))}
    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            if _same_pharmacy(a, rows[j]):
                matches[i].append(j)
                matches[j].append(i)
    dropped: set[int] = set()
    for i, js in matches.items():
        if len(js) != 1 or i in dropped or js[0] in dropped or len(matches[js[0]]) != 1:
            continue
        j = js[0]
        if rows[i]["nombre"] > 1 or rows[j]["nombre"] > 1:  # several pharmacies at one point: which one?
            continue
        keep, drop = (i, j) if _richness(rows[i]) >= _richness(rows[j]) else (j, i)
        rows[keep]["sources"] = sorted({rows[keep]["source"], rows[drop]["source"]})
        rows[keep]["enseigne"] = rows[keep]["enseigne"] or rows[drop]["enseigne"]
        dropped.add(drop)
    return [r for i, r in enumerate(rows) if i not in dropped]


def _full_address(r: dict) -> str:
    town = " ".join(x for x in (r["code_postal"], r["commune"]) if x)
    return ", ".join(x for x in (r["adresse"], town) if x) or "—"


RESULT_SCHEMA = {
    "rang": pl.Int64,
    "site_id": pl.String,  # the first site at that point (the one kept when two sources are merged)
    "nom": pl.String,
    "adresse": pl.String,
    "numero": pl.String,
    "commune": pl.String,
    "departement": pl.String,
    "distance_km": pl.Float64,
    "nombre": pl.UInt32,  # pharmacies at this point (> 1: a street without numbers)
    "source": pl.String,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
}


def nearest_pharmacies(store: Store, query: str, n: int = 10, departement: str | None = None) -> PharmacySearch:
    """The ``n`` nearest pharmacies (at most ``MAX_RESULTS``) of a postal code or commune, nearest first."""
    n = max(1, min(int(n), MAX_RESULTS))
    empty = pl.DataFrame(schema=RESULT_SCHEMA)
    if departement and departement not in departements(store):
        return PharmacySearch(None, empty, "Département inconnu : choisissez-le dans la liste, ou laissez-le vide.")
    try:
        found = find_place(store, query, departement)
    except AmbiguousPlace as exc:
        return PharmacySearch(None, empty, str(exc), exc.choices)
    if found is None:
        where = f" dans le département {departement}" if departement else ""
        return PharmacySearch(None, empty, NOT_FOUND.replace("introuvable", f"introuvable{where}", 1))
    frame = pharmacy_points(store)
    if frame.is_empty():
        return PharmacySearch(found, empty, "Aucune pharmacie n'est disponible dans ce jeu de données.")
    candidates = (
        frame.with_columns(_haversine_km(found.lat, found.lon, pl.col("latitude"), pl.col("longitude")).alias("d"))
        .sort("d", "source", "site_id")
        .head(3 * n + 20)  # room for the rows merged across sources
        .to_dicts()
    )
    for r in candidates:
        r["_street"] = _street_key(r["adresse"])
        r["sources"] = [r["source"]]
    rows = _merge_sources(candidates)[:n]
    out = pl.DataFrame(
        [
            {
                "rang": i + 1,
                "site_id": r["site_id"],
                "nom": r["enseigne"],
                "adresse": _full_address(r),
                "numero": street_number(r["adresse"]),
                "commune": r["commune"],
                "departement": r["departement"],
                "distance_km": r["d"],
                "nombre": r["nombre"],
                "source": ", ".join(r["sources"]),
                "latitude": r["latitude"],
                "longitude": r["longitude"],
            }
            for i, r in enumerate(rows)
        ],
        schema=RESULT_SCHEMA,
        orient="row",
    )
    message = None
    if out["distance_km"].min() > FAR_KM:
        message = (
            f"Aucune pharmacie de nos listes à moins de {FAR_KM} km : ces listes sont partielles "
            "(voir la couverture ci-dessous)."
        )
    return PharmacySearch(found, out, message)


# --- coverage, measured on the data --------------------------------------------------------


@dataclass(frozen=True)
class SourceCoverage:
    source: str
    date: str | None
    pharmacies: int
    departements: int
    with_number: int  # addresses that begin with a street number
    with_name: int  # rows whose source publishes the pharmacy's name
    region: str | None  # the one region it covers, if only one
    shared_points: int = 0  # rows placed at the very point and address of another row (street-level positions)
    operations: tuple[str, ...] = ()  # what the source says the pharmacies do (Santé.fr: flu vaccination)
    collectivities: bool = False  # some of its "départements" are overseas collectivities


@dataclass(frozen=True)
class Coverage:
    sources: list[SourceCoverage]
    #: where the register (SIRENE) lists every pharmacy: its départements, its own count and each
    #: other source's count there (None: no register in the data)
    register_departements: list[str]
    register_count: int
    others_in_register_area: dict[str, int]

    def share_in_register_area(self, source: str) -> float | None:
        n = self.others_in_register_area.get(source)
        return n / self.register_count if n is not None and self.register_count else None


def coverage(store: Store) -> Coverage:
    def compute():
        all_rows = sites(store)
        if all_rows.is_empty():
            return Coverage([], [], 0, {})
        all_rows = all_rows.filter(pl.col("type") == "pharmacie")  # placed or not
        if all_rows.is_empty():
            return Coverage([], [], 0, {})
        if "enseigne" not in all_rows.columns:
            all_rows = all_rows.with_columns(pl.lit(None, dtype=pl.String).alias("enseigne"))
        stats = (
            all_rows.group_by("source")
            .agg(
                pl.col("source_date").drop_nulls().max().alias("date"),
                pl.len().alias("pharmacies"),
                pl.col("departement").drop_nulls().n_unique().alias("departements"),
                # overseas collectivities (Saint-Martin 978...) are no départements
                pl.col("departement").drop_nulls().unique().str.contains(r"^(97[5-8]|98)").any().alias("com"),
                pl.col("adresse").fill_null("").str.contains(r"^\s*\d").sum().alias("with_number"),
                pl.col("enseigne").is_not_null().sum().alias("with_name"),
                pl.col("region").drop_nulls().unique().alias("regions"),
                pl.col("operations").explode().drop_nulls().unique().sort().alias("ops"),
            )
            .sort("pharmacies", descending=True)
        )
        points = pharmacy_points(store)
        shared = dict(points.filter(pl.col("nombre") > 1).group_by("source").agg(pl.col("nombre").sum()).rows())
        sources = [
            SourceCoverage(
                r["source"],
                r["date"],
                r["pharmacies"],
                r["departements"],
                r["with_number"],
                r["with_name"],
                r["regions"][0] if len(r["regions"]) == 1 else None,
                int(shared.get(r["source"], 0)),
                tuple(r["ops"]),
                bool(r["com"]),
            )
            for r in stats.iter_rows(named=True)
        ]
        register = all_rows.filter(pl.col("source") == REGISTER)
        deps = sorted(register["departement"].drop_nulls().unique().to_list())
        others = {
            s.source: all_rows.filter((pl.col("source") == s.source) & pl.col("departement").is_in(deps)).height
            for s in sources
            if s.source != REGISTER and deps
        }
        return Coverage(sources, deps, register.height, others)

    return store.memo("pharmacy_coverage", compute)


def _share(part: int, whole: int) -> str:
    return fr_percent(part / whole, 0) if whole else "—"


def coverage_statement(cov: Coverage) -> list[str]:
    """The coverage of the pharmacy lists, in French sentences (Markdown), from the measures of ``cov``."""
    if not cov.sources:
        return ["Aucune liste de pharmacies n'est disponible dans ce jeu de données."]
    lines = []
    for s in cov.sources:
        dated = f" ({fr_snapshot(s.date)})" if s.date else ""
        if s.region and s.departements <= 13:
            where = f"{s.region} uniquement ({fr_plural(s.departements, 'département')})"
        else:
            where = fr_plural(s.departements, "département")
            if s.collectivities:
                where = f"{fr_int(s.departements)} départements et collectivités d'outre-mer"
        what = ""
        if s.source != REGISTER and s.operations:
            what = " ; seulement celles qui proposent : " + ", ".join(f"« {o.lower()} »" for o in s.operations)
        numbers = (
            "aucune adresse n'a de numéro de rue"
            if s.with_number == 0
            else f"{_share(s.with_number, s.pharmacies)} des adresses ont un numéro de rue"
        )
        street_level = ""
        if s.shared_points and s.with_number == 0:
            street_level = (
                f", et {fr_int(s.shared_points)} pharmacies ({_share(s.shared_points, s.pharmacies)}) sont placées "
                "au même point qu'une autre de leur rue : la position est celle de la rue, la distance est approchée"
            )
        lines.append(
            f"**{s.source}**{dated} : {fr_plural(s.pharmacies, 'pharmacie')}, {where}{what} ; {numbers}{street_level}."
        )
    for source in cov.others_in_register_area:
        share = cov.share_in_register_area(source)
        region = next((s.region for s in cov.sources if s.source == REGISTER and s.region), None)
        area = region or fr_plural(len(cov.register_departements), "département")
        lines.append(
            f"Là où le répertoire {REGISTER} est disponible ({area} : {fr_plural(cov.register_count, 'pharmacie')}), "
            f"{source} n'en liste que {fr_int(cov.others_in_register_area[source])}, soit {fr_percent(share, 1)} : "
            f"ailleurs, où {source} est la seule liste, "
            + (
                "la plupart des pharmacies n'y figurent sans doute pas."
                if share is not None and share < 0.5
                else "une partie des pharmacies n'y figure sans doute pas."
            )
        )
    named = sum(s.with_name for s in cov.sources)
    total = sum(s.pharmacies for s in cov.sources)
    if named == 0:
        lines.append("Aucune de ces listes ne publie le nom des pharmacies : chacune est désignée par son adresse.")
    else:
        lines.append(
            f"Le nom de la pharmacie est publié pour {fr_int(named)} des {fr_int(total)} pharmacies "
            f"({_share(named, total)}) ; les autres sont désignées par leur adresse."
        )
    return lines


def local_statement(store: Store, departement: str | None) -> str | None:
    """How many pharmacies the lists have in one département, by source (French)."""
    counts = local_counts(store, departement)
    if not departement:
        return None
    if not counts:
        return f"Aucune pharmacie de ces listes dans le département {departement}."
    detail = " ; ".join(f"{source} : {fr_int(n)}" for source, n in counts.items())
    return f"Dans le département {departement}, ces listes comptent {fr_plural(sum(counts.values()), 'pharmacie')} ({detail})."


def local_counts(store: Store, departement: str | None) -> dict[str, int]:
    """Source -> pharmacies listed in one département."""
    if not departement:
        return {}
    frame = pharmacies(store)
    if frame.is_empty():
        return {}
    rows = frame.filter(pl.col("departement") == departement).group_by("source").len().sort("source")
    return dict(rows.rows())
