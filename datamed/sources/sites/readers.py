"""Reading the sites source files: one reader per source family (IREP, FDA DECRS
France, Santé.fr, SIRENE) feeding ``_Builder``, which validates and places each
site; the per-country counts of the FDA world files; and ``read_sites``, which
reads every file present into one ``SitesResult``."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from datamed.sources.sites.files import LAPOSTE_FILE, SPECS, CsvTable, SourceSpec, discover, read_csv, snapshot_of
from datamed.sources.sites.geocoding import (
    DEPARTEMENTS,
    MAX_KM_FROM_COMMUNE,
    MAX_KM_FROM_COMMUNE_BY_DEPARTEMENT,
    Gazetteer,
    check_coordinates,
    clean_postal_code,
    communes_frame,
    departement_code,
    distance_km,
    postal_prefix,
    region_of,
)
from datamed.sources.sites.vocabulary import (
    BY_INSEE,
    BY_NAME_IN_DEPARTEMENT,
    BY_POSTAL_AND_NAME,
    COUNTRIES_SCHEMA,
    FDA_ANALYSIS_OPERATIONS,
    FDA_API_OPERATIONS,
    FDA_DISTRIBUTION_OPERATIONS,
    FDA_MANUFACTURE_OPERATIONS,
    IREP_APE_KINDS,
    IREP_EPRTR_API_SELECTION,
    PHARMACY_NAF,
    PHARMACY_NAF_LABEL,
    SANTEFR_OPERATION,
    SITES_SCHEMA,
    SOURCE_COORDS,
    SOURCE_COORDS_SWAPPED,
    STREET_PRECISION,
    UNPLACED_SCHEMA,
)
from datamed.sources.textfile import MAX_RAW_CHARS, Reject


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


@dataclass
class _Builder:
    """Accumulates site rows, unplaced sites and corrections for one source file."""

    gazetteer: Gazetteer
    table: CsvTable
    spec: SourceSpec
    date: str | None
    rows: list[dict] = field(default_factory=list)
    unplaced: list[tuple[str, str, str]] = field(default_factory=list)
    corrections: list[Reject] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list, repr=False)

    def reject(self, line: int, reason: str, raw: str) -> None:
        self.rejects.append(Reject(self.table.rel, line, reason, raw[:MAX_RAW_CHARS]))

    def add(
        self,
        line: int,
        raw: str,
        *,
        site_id: str,
        nom: str,
        kind: str,
        operations: list[str],
        adresse: str | None,
        postal_raw: str | None,
        commune: str | None,
        lat_raw: str | None,
        lon_raw: str | None,
        source_precision: str,
        insee: str | None = None,
        departement: str | None = None,
        enseigne: str | None = None,
    ) -> None:
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
                note = (
                    f"source coordinates ({lat_raw}, {lon_raw}) are {d:.0f} km from the centroid of "
                    f"{geo.commune} ({geo.insee}): replaced by the centroid ({geo.method})"
                )
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
        self.rows.append(
            {
                "site_id": site_id,
                "nom": nom,
                "enseigne": enseigne or None,
                "type": kind,
                "operations": operations,
                "adresse": adresse or None,
                "code_postal": code or geo.postal_code,
                "commune": shown_commune,
                "code_insee": geo.insee,
                "departement": dep,
                "region": region_of(dep),
                "pays": "FRA",
                "latitude": lat,
                "longitude": lon,
                "precision": precision,
                "placement": placement,
                "source": self.spec.label,
                "source_date": self.date,
            }
        )
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
        if kind is None and (
            r.get("selection") == IREP_EPRTR_API_SELECTION or r.get("code_eprtr", "").startswith("4.(e)")
        ):
            kind = "principe_actif"
        if kind is None:
            b.reject(line, f"unknown kind (code_ape {r['code_ape']!r})", raw)
            continue
        seen.add(key)
        b.add(
            line,
            raw,
            site_id=f"irep:{key}",
            nom=r["nom_etablissement"] or f"Site IREP {key}",
            kind=kind,
            operations=[r["libelle_ape"]] if r["libelle_ape"] else [],
            adresse=r["adresse"],
            postal_raw=r["code_postal"],
            commune=r["commune"],
            lat_raw=r["latitude"],
            lon_raw=r["longitude"],
            source_precision="exacte",
            departement=r["departement"],
        )


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
        b.add(
            line,
            raw,
            site_id=f"fda:{key}",
            nom=r["firm_name"] or f"Établissement FDA {key}",
            kind=kind,
            operations=ops,
            adresse=adresse,
            postal_raw=r["postal_code"] or postal,
            commune=r["city_as_written"],
            lat_raw=r["latitude_approx"],
            lon_raw=r["longitude_approx"],
            source_precision="centroïde commune",
            departement=state,
        )


def _pharmacy_name(street: str, commune: str) -> str:
    """The label of a pharmacy whose source publishes no name (the ``enseigne`` column stays empty)."""
    where = ", ".join(x for x in (street, commune) if x)
    return f"Pharmacie — {where}" if where else "Pharmacie"


# SIRENE establishment columns read when the extract has them (the INSEE API's names; the
# Île-de-France extract of shared/data has none of them: no name, no street number, no postal code)
SIRENE_NUMBER = "numeroVoieEtablissement"
SIRENE_REPETITION = "indiceRepetitionEtablissement"
SIRENE_COMPLEMENT = "complementAdresseEtablissement"
SIRENE_POSTAL_CODE = "codePostalEtablissement"
SIRENE_NAMES = ("enseigne1Etablissement", "denominationUsuelleEtablissement")  # first non-empty one wins
SIRENE_DIFFUSION = "statutDiffusionEtablissement"  # "P": partial diffusion, the person asked INSEE to hide it
SIRENE_UNDISCLOSED = "[ND]"  # what INSEE writes in place of a value it does not diffuse
_REPETITION = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}


def _sirene_value(r: dict[str, str], column: str) -> str:
    value = (r.get(column) or "").strip()
    return "" if value.upper() == SIRENE_UNDISCLOSED else value


def sirene_street(r: dict[str, str]) -> str:
    """ "12 bis rue de la Paix" from a SIRENE record (the number only when the extract has it)."""
    number = _sirene_value(r, SIRENE_NUMBER)
    repetition = _sirene_value(r, SIRENE_REPETITION)
    if number and repetition:
        number += " " + _REPETITION.get(repetition.upper(), repetition.lower())
    street = " ".join(x for x in (number, r["typeVoieEtablissement"], r["libelleVoieEtablissement"]) if x)
    complement = _sirene_value(r, SIRENE_COMPLEMENT)
    return ", ".join(x for x in (street, complement) if x)


def sirene_name(r: dict[str, str]) -> str | None:
    """The establishment's trade name (enseigne, else usual name) as SIRENE diffuses it; None when
    the extract has none or the establishment is under partial diffusion (its data is then hidden)."""
    if _sirene_value(r, SIRENE_DIFFUSION).upper() == "P":
        return None
    return next((v for c in SIRENE_NAMES if (v := _sirene_value(r, c))), None)


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
        # the street number is in adresse_voie_1; no name: the officine names (Santé.fr's "Titre",
        # very often the pharmacists' surnames) are left out of the extract on purpose and never read
        b.add(
            line,
            raw,
            site_id=f"santefr:{finess}",
            nom=_pharmacy_name(r["adresse_voie_1"], commune),
            kind="pharmacie",
            operations=[SANTEFR_OPERATION],
            adresse=adresse,
            postal_raw=r["code_postal"],
            commune=r["commune"],
            lat_raw=r["latitude"],
            lon_raw=r["longitude"],
            source_precision="exacte",
        )


_WKT_POINT = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.I)


def _read_sirene(b: _Builder) -> None:
    seen: Counter = Counter()
    for line, r, raw in b.table.records:
        h = _row_hash(r)
        seen[h] += 1
        # identical rows are distinct pharmacies in the same street (an extract without street numbers)
        site_id = f"sirene:{h}" if seen[h] == 1 else f"sirene:{h}-{seen[h]}"
        naf = r["activitePrincipaleEtablissement"].replace(".", "").upper()
        if naf != PHARMACY_NAF:
            b.reject(
                line, f"unknown kind (activitePrincipaleEtablissement {r['activitePrincipaleEtablissement']!r})", raw
            )
            continue
        lon, lat = r.get("long", ""), r.get("lat", "")
        if not (lat and lon) and (m := _WKT_POINT.match(r.get("geometry", ""))):
            lon, lat = m.group(1), m.group(2)
        street = sirene_street(r)
        name = sirene_name(r)
        insee = r["codeCommuneEtablissement"].upper()
        b.add(
            line,
            raw,
            site_id=site_id,
            nom=name or _pharmacy_name(street, r["libelleCommuneEtablissement"]),
            enseigne=name,
            kind="pharmacie",
            operations=[PHARMACY_NAF_LABEL],
            adresse=street,
            postal_raw=_sirene_value(r, SIRENE_POSTAL_CODE) or None,
            commune=r["libelleCommuneEtablissement"],
            lat_raw=lat,
            lon_raw=lon,
            # without a street number the source's point is only the street's
            source_precision="exacte" if _sirene_value(r, SIRENE_NUMBER) else STREET_PRECISION,
            insee=insee if re.fullmatch(r"\d[\dAB]\d{3}", insee) else None,
            departement=r.get("departement"),
        )


_READERS = {"irep": _read_irep, "fda_france": _read_fda_france, "santefr": _read_santefr, "sirene": _read_sirene}


def _country_counts_from_world(table: CsvTable) -> tuple[dict[str, dict], list[Reject]]:
    counts: dict[str, dict] = {}
    rejects: list[Reject] = []
    for line, r, raw in table.records:
        iso = r["country_iso3"].upper()
        if not re.fullmatch(r"[A-Z]{3}", iso):
            rejects.append(Reject(table.rel, line, f"invalid country_iso3 {r['country_iso3']!r}", raw[:MAX_RAW_CHARS]))
            continue
        ops = set(fda_operations(r["operations"]))
        c = counts.setdefault(
            iso,
            {
                "country_iso3": iso,
                "country_name": r["country_name"],
                "n_establishments": 0,
                "n_api_manufacture": 0,
                "n_manufacture": 0,
            },
        )
        c["n_establishments"] += 1
        c["n_api_manufacture"] += "API MANUFACTURE" in ops
        c["n_manufacture"] += "MANUFACTURE" in ops
    return counts, rejects


def _country_counts_from_file(table: CsvTable) -> tuple[dict[str, dict], dict[str, tuple[int, str]], list[Reject]]:
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


def _source_entry(
    spec: SourceSpec, path: Path, table: CsvTable, snapshot: str | None, rows: int, rejected: int
) -> dict:
    return {
        "path": f"sites/{path.name}",
        "source": spec.label,
        "file": path.name,
        "dataset": spec.dataset,
        "snapshot": snapshot,
        "bytes": path.stat().st_size,
        "encoding": table.encoding,
        "lines": table.n_records,
        "rows": rows,
        "rejected": rejected,
    }


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
        sources.append(
            {
                "path": f"geo/{LAPOSTE_FILE}",
                "source": "La Poste",
                "file": LAPOSTE_FILE,
                "dataset": "sites_geocodage",
                "snapshot": snapshot_of(LAPOSTE_FILE),
                "bytes": geo_path.stat().st_size,
                "encoding": "utf-8",
                "lines": gazetteer.source_rows,
                "rows": len(gazetteer.places),
                "rejected": len(gazetteer.rejects),
            }
        )

    for key in ("irep", "fda_france", "santefr", "sirene"):
        if key not in files:
            continue
        spec, path = specs[key], files[key]
        table = read_csv(path, f"sites/{path.name}", spec.required)
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
        table = read_csv(world, f"sites/{world.name}", specs["fda_world"].required)
        counts, world_rejects = _country_counts_from_world(table)
        rejected = table.rejects + world_rejects
        rejects += rejected
        sources.append(
            _source_entry(
                specs["fda_world"],
                world,
                table,
                snapshot_of(world.name),
                len(table.records) - len(world_rejects),
                len(rejected),
            )
        )
    by_country = files.get("fda_country")
    if by_country is not None:
        table = read_csv(by_country, f"sites/{by_country.name}", specs["fda_country"].required)
        file_counts, where, file_rejects = _country_counts_from_file(table)
        if world is None:
            counts = file_counts
        else:  # check the published aggregate against the world file
            for iso, c in file_counts.items():
                mine = counts.get(iso)
                diffs = [
                    f"{k} {c[k]} != {mine[k]}"
                    for k in ("n_establishments", "n_api_manufacture", "n_manufacture")
                    if mine is not None and c[k] != mine[k]
                ]
                if mine is None or diffs:
                    line, raw_text = where[iso]
                    reason = (
                        "country absent from the world file"
                        if mine is None
                        else "differs from the world file: " + ", ".join(diffs)
                    )
                    file_rejects.append(Reject(table.rel, line, reason, raw_text[:MAX_RAW_CHARS]))
            for iso in sorted(set(counts) - set(file_counts)):  # no row to reject: noted, world counts used
                corrections.append(Reject(table.rel, 0, f"country {iso} of the world file is missing here", ""))
        rejected = table.rejects + file_rejects
        rejects += rejected
        sources.append(
            _source_entry(
                specs["fda_country"],
                by_country,
                table,
                snapshot_of(by_country.name),
                len(table.records) - len(file_rejects),
                len(rejected),
            )
        )

    sites = (
        pl.DataFrame(site_rows, schema=SITES_SCHEMA, orient="row") if site_rows else pl.DataFrame(schema=SITES_SCHEMA)
    )
    unplaced_frame = (
        pl.DataFrame(unplaced, schema=UNPLACED_SCHEMA, orient="row")
        if unplaced
        else pl.DataFrame(schema=UNPLACED_SCHEMA)
    )
    return SitesResult(
        sites,
        _countries_frame(counts),
        rejects,
        sources,
        unplaced_frame,
        corrections,
        ignored,
        communes_frame(gazetteer),
    )
