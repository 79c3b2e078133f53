"""Synthetic BDPM files: the demo catalogue (specialities, presentations,
compositions, generic groups, HAS opinions, prescription conditions, MITM,
important information) and its availability history, written in the official
raw file formats.

Column order, Windows-1252 encoding, CRLF line endings and the known quirks
that the readers have to cope with (UTF-8 presentations file, trailing tabs,
stray carriage returns, thousands commas in prices, non-normalised labels,
deliberately malformed lines: ``DEMO_MALFORMED``).
"""

from __future__ import annotations

import random
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from datamed.demo.vocabulary import (
    ANSM_DISPO_URL,
    ANSM_INFO_URL,
    ASMR_WORDS,
    BDPM_URL,
    BRAND_SUFFIXES,
    CENTRALISED,
    CONDITIONS,
    DISPO_LABELS,
    EXPENSIVE,
    FORMS,
    FULL_RATE,
    GENERIC_HOLDERS,
    HAS_URL,
    INFO_MESSAGES,
    NO_GENERICS,
    PRINCEPS_HOLDERS,
    PROCEDURES_GENERIC,
    PRODUCTS,
    RATE_BY_SMR,
    REIMBURSEMENT_NOTE,
    SALTS,
    STRIP_ACCENTS,
)

DEMO_SNAPSHOTS: tuple[str, ...] = ("2025-06-02", "2025-10-01", "2026-01-15")
DEMO_MALFORMED: dict[str, int] = {f"bdpm/{DEMO_SNAPSHOTS[-1]}/CIS_bdpm.txt": 2}
CORE_FILES = ("CIS_bdpm.txt", "CIS_CIP_bdpm.txt", "CIS_COMPO_bdpm.txt", "CIS_GENER_bdpm.txt", "CIS_CIP_Dispo_Spec.txt")
NEWEST_ONLY_FILES = (
    "CIS_CPD_bdpm.txt",
    "CIS_HAS_SMR_bdpm.txt",
    "CIS_HAS_ASMR_bdpm.txt",
    "HAS_LiensPageCT_bdpm.txt",
    "CIS_MITM.txt",
    "CIS_InfoImportantes.txt",
)


# --- small helpers ------------------------------------------------------------
def fr_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def rand_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def euros(value: float) -> str:
    """12.5 -> '12,50'; 1195.27 -> '1,195,27' (the BDPM's thousands comma)."""
    return f"{value:,.2f}".replace(".", ",")


def ean13(first12: str) -> str:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def slug(text: str) -> str:
    text = text.replace("µg", "microgrammes").replace("%", "pourcent")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def scale_dosage(strength: str, factor: float) -> str:
    """Base dosage -> salt dosage: '5 mg' x 1.387 -> '6,935 mg'."""
    number, rest = re.match(r"^(\d+(?:,\d+)?)(.*)$", strength).groups()
    value = float(number.replace(",", ".")) * factor
    return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", ",") + rest


def compo_dosage(strength: str) -> str:
    """Strength as shown in the name -> dosage in CIS_COMPO ('1 %' -> '1 g' per 100 g)."""
    return strength[:-2] + " g" if strength.endswith(" %") else strength


# --- model ----------------------------------------------------------------------
@dataclass
class Product:
    atc: str
    label_fr: str
    label_en: str
    substances: list[str]
    variants: list[tuple[str, str]]  # (form key, strength)
    conditions: list[str]
    ddd: list[tuple[str, str, str]]
    smr: str = "Important"  # HAS opinion, drives the reimbursement rate


@dataclass
class Spec:
    """One CIS ("spécialité") and everything the files say about it."""

    cis: str
    name: str
    product: Product
    form: str
    strength: str
    holders: list[str]
    princeps: bool
    amm: date
    procedure: str
    eu_number: str = ""
    status: str = "Autorisation active"
    marketed: bool = True
    bdm: str = ""
    reinforced: bool = False
    group: tuple[int, str] | None = None  # (id, label)
    group_type: int = 0
    tri: int = 1
    presentations: list[list[str]] = field(default_factory=list)
    first: int = 0  # index of the first snapshot that lists this CIS
    last: int = len(DEMO_SNAPSHOTS) - 1

    def present(self, snap: int) -> bool:
        return self.first <= snap <= self.last


def parse_products() -> list[Product]:
    out = []
    for atc, fr, en, subs, variants, cpd, ddd in PRODUCTS:
        pairs = [(form, s) for part in variants.split("|") for form, ss in [part.split("=")] for s in ss.split(";")]
        ddds = [tuple(d.split()) for d in ddd.split("|")] if ddd else []
        out.append(Product(atc, fr, en, subs.split("+"), pairs, cpd.split(), ddds))
    return out


@dataclass
class Episode:
    """One availability problem of a CIS, replayed at each snapshot date."""

    spec: Spec
    cip13: str  # empty when every presentation is concerned
    changes: list[tuple[date, int]]  # (date, status code); the first one is the start
    touches: list[date]  # updates that do not change the status
    end: date | None  # "Remise à disposition"
    forecast: bool  # publish the end date in advance
    lower: bool  # lower-case status label, as sometimes in the real file
    reopen: date | None = None  # listed in rupture again after its return, old start date kept
    start_moved: int = 0  # the return line shows a start this many days *after* the return
    code_label_conflict: bool = False  # coded 4 while its label (and dates) say tension


class Generator:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.snap_dates = [date.fromisoformat(s) for s in DEMO_SNAPSHOTS]
        self.products = parse_products()
        self.used: set[str] = set()  # membership only (never iterated: keeps output deterministic)
        self.substance_codes: dict[str, str] = {}
        self.specs: list[Spec] = []
        self.build_catalogue()
        self.evolve_catalogue()
        self.episodes = self.build_episodes()
        self.add_history_patterns()

    def unique(self, make) -> str:
        while (value := make()) in self.used:
            pass
        self.used.add(value)
        return value

    def new_cis(self) -> str:
        return self.unique(lambda: str(self.rng.randint(60000000, 69999999)))

    def substance_code(self, name: str) -> str:
        if name not in self.substance_codes:
            self.substance_codes[name] = self.unique(lambda: f"{self.rng.randint(100, 99999):05d}")
        return self.substance_codes[name]

    def brand(self, product: Product) -> str:
        """Invented name: start of the INN(s) + an obviously fictional suffix."""
        stems = []
        for inn in product.substances[:2]:
            word = inn.translate(STRIP_ACCENTS).replace("ACIDE ", "").split()[0]
            m = re.match(r"^[^AEIOUY]*[AEIOUY]+[^AEIOUY]+[AEIOUY]", word)
            stems.append(m.group(0) if m else word[:4])
        stem = stems[0] + (stems[1][:2] if len(stems) > 1 else "")
        for suffix in self.rng.sample(BRAND_SUFFIXES, len(BRAND_SUFFIXES)):
            if stem + suffix not in self.used:
                self.used.add(stem + suffix)
                return stem + suffix
        return self.unique(lambda: stem + "X" + self.rng.choice(BRAND_SUFFIXES))

    # --- catalogue ----------------------------------------------------------
    def build_catalogue(self) -> None:
        rng = self.rng
        group_id = rng.randint(20, 60)
        for product in self.products:
            product.smr = rng.choices(tuple(RATE_BY_SMR), weights=(72, 14, 8, 6))[0]
            brand = self.brand(product)
            central = product.atc in CENTRALISED
            launch = rand_date(rng, date(2002, 1, 1) if central else date(1978, 1, 1), date(2016, 12, 31))
            holders = [rng.choice(PRINCEPS_HOLDERS)]
            if rng.random() < 0.1:  # co-marketed
                holders.append(rng.choice([h for h in PRINCEPS_HOLDERS if h != holders[0]]))
            eu_base = f"EU/1/{launch.year % 100:02d}/{rng.randint(100, 999)}"
            inn_label = " + ".join(SALTS.get(s, (s,))[0] for s in product.substances)
            generic_inn = "/".join(s.translate(STRIP_ACCENTS) for s in product.substances)
            for k, (form_key, strength) in enumerate(product.variants):
                shown, form = strength.replace("+", "/"), FORMS[form_key][0]
                princeps = self.new_spec(product, f"{brand} {shown}, {form}", form_key, strength, holders, True, launch)
                if central:
                    princeps.procedure, princeps.eu_number = "Procédure centralisée", f"{eu_base}/{k + 1:03d}"
                    princeps.reinforced = launch.year >= 2011
                n_generics = 0 if product.atc in NO_GENERICS else rng.choice((0, 0, 1, 1, 1, 2))
                if n_generics == 0:
                    continue
                group_id += rng.randint(1, 12)
                princeps.group = group = (group_id, f"{inn_label} {shown} - {princeps.name}")
                for tri, (short, holder) in enumerate(rng.sample(GENERIC_HOLDERS, n_generics), start=2):
                    earliest = min(launch + timedelta(days=365 * 8), date(2023, 6, 30))
                    name = f"{generic_inn} {short} {shown}, {form}"
                    generic = self.new_spec(
                        product, name, form_key, strength, [holder], False, rand_date(rng, earliest, date(2024, 6, 30))
                    )
                    generic.group, generic.tri = group, tri
                    generic.group_type = rng.choices((1, 4, 2), weights=(90, 7, 3))[0]

    def new_spec(self, product, name, form_key, strength, holders, princeps, amm) -> Spec:
        rng = self.rng
        procedure = "Procédure nationale" if princeps else rng.choice(PROCEDURES_GENERIC)
        spec = Spec(self.new_cis(), name, product, form_key, strength, holders, princeps, amm, procedure)
        roll = rng.random()
        if roll < 0.04 and not princeps:
            spec.status, spec.marketed = "Autorisation abrogée", False
        elif roll < 0.09:
            spec.marketed = False
        if product.atc == "N03AG01":
            spec.bdm = "Alerte"
        spec.presentations = self.make_presentations(spec)
        self.specs.append(spec)
        return spec

    def make_presentations(self, spec: Spec) -> list[list[str]]:
        """CIS_CIP_bdpm rows (13 fields) for 1 to 3 box sizes."""
        rng, product = self.rng, spec.product
        template, sizes = FORMS[spec.form][4], FORMS[spec.form][5]
        unit_price = EXPENSIVE.get(product.atc) or random.Random(f"{self.seed}{product.atc}").uniform(0.04, 0.5)
        hospital, otc = "H" in product.conditions, not product.conditions
        out = []
        for n in sorted(rng.sample(sizes, min(len(sizes), rng.choice((1, 1, 2, 2, 3))))):
            cip7 = self.unique(lambda: str(rng.randint(3000000, 3999999)))
            active = spec.status == "Autorisation active" and rng.random() > 0.05
            decl = rand_date(rng, spec.amm + timedelta(days=60), max(spec.amm + timedelta(days=60), date(2024, 12, 31)))
            rate = "" if hospital or (otc and rng.random() < 0.4) else RATE_BY_SMR[product.smr]
            if rate and product.atc in FULL_RATE:
                rate = "100%"
            prices = ["", "", ""]
            if rate:
                price = unit_price * n * (1.0 if spec.princeps else 0.65) * rng.uniform(0.92, 1.08)
                price, fee = round(max(1.2, price), 2), 2.76 if n >= 60 else 1.02
                prices = [euros(price), euros(price + fee), euros(fee)]
            indication = REIMBURSEMENT_NOTE if rate and rng.random() < 0.02 else ""
            collectivites = "oui" if hospital else rng.choices(("oui", "non", "inconnu"), weights=(80, 15, 5))[0]
            out.append(
                [
                    spec.cis,
                    cip7,
                    template.format(n=n),
                    "Présentation active" if active else "Présentation abrogée",
                    "Déclaration de commercialisation"
                    if active and spec.marketed
                    else "Déclaration d'arrêt de commercialisation",
                    fr_date(decl),
                    ean13("34009" + cip7),
                    collectivites,
                    rate,
                    *prices,
                    indication,
                ]
            )
        return out

    def evolve_catalogue(self) -> None:
        """A few generics appear in later snapshots, a few disappear."""
        generics = [s for s in self.specs if not s.princeps and s.status == "Autorisation active"]
        chosen = self.rng.sample(generics, 14)
        for spec in chosen[:8]:  # newly authorised
            spec.first = self.rng.choice((1, 2))
            previous, current = self.snap_dates[spec.first - 1], self.snap_dates[spec.first]
            spec.amm = rand_date(self.rng, previous, current - timedelta(days=20))
            for p in spec.presentations:
                p[5] = fr_date(spec.amm + timedelta(days=10))
        for spec in chosen[8:]:  # withdrawn from the database
            spec.last = self.rng.choice((0, 1))

    # --- availability history ---------------------------------------------------
    def build_episodes(self) -> list[Episode]:
        rng = self.rng
        stable = [
            s
            for s in self.specs
            if s.first == 0 and s.last == len(DEMO_SNAPSHOTS) - 1 and s.marketed and s.status == "Autorisation active"
        ]
        episodes = []
        for spec in rng.sample(stable, 72):
            start = rand_date(rng, date(2024, 9, 1), date(2026, 1, 10))
            code = rng.choices((1, 2, 3), weights=(45, 45, 10))[0]
            changes = [(start, code)]
            if code == 2 and rng.random() < 0.3:  # tension turning into a stock-out
                changes.append((start + timedelta(days=rng.randint(15, 60)), 1))
            end = None if code == 3 or rng.random() < 0.2 else start + timedelta(days=rng.randint(45, 330))
            touches, day = [], start
            while (day := day + timedelta(days=rng.randint(20, 75))) < (end or date(2026, 12, 31)):
                touches.append(day)
            cip13 = rng.choice(spec.presentations)[6] if rng.random() < 0.4 else ""
            episodes.append(Episode(spec, cip13, changes, touches, end, rng.random() < 0.25, rng.random() < 0.25))
        return episodes

    def add_history_patterns(self) -> None:
        """The real patterns the episode machine handles (issue 14), on a few episodes chosen
        with their own random stream (the rest of the demo is unchanged): reopenings, a
        withdrawal after a shortage, a return dated before its start, a code/label conflict."""
        rng = random.Random(self.seed + 14)
        s0, s1, s2 = self.snap_dates
        eps = sorted(self.episodes, key=lambda e: (e.spec.cis, e.cip13))
        # returned by the second snapshot, listed in rupture again by the third
        returned_early = [e for e in eps if e.end and s0 < e.end <= s1 and e.changes[0][1] != 3]
        for ep in rng.sample(returned_early, min(2, len(returned_early))):
            ep.reopen = s1 + timedelta(days=rng.randint(20, 60))
        # open at the first snapshot, withdrawn by the last (arrêt lines leave the file after 400 days)
        long_open = [
            e
            for e in eps
            if e.end is None
            and e.changes[-1][1] in (1, 2)
            and s2 - timedelta(days=380) < e.changes[0][0] < s0
            and e.reopen is None
        ]
        for ep in rng.sample(long_open, min(2, len(long_open))):
            ep.changes.append((s1 + timedelta(days=rng.randint(10, 40)), 3))
        late_return = [e for e in eps if e.end and s1 < e.end <= s2 and e.changes[0][0] < s1 and e.reopen is None]
        if late_return:
            rng.choice(late_return).start_moved = 5
        still_open = [
            e
            for e in eps
            if (e.end is None or e.end > s2) and e.changes[-1][1] == 2 and e not in long_open and not e.forecast
        ]
        if still_open:
            rng.choice(still_open).code_label_conflict = True

    def dispo_rows(self, snap: int) -> list[list[str]]:
        """CIS_CIP_Dispo_Spec rows as published on the snapshot date."""
        today, rows = self.snap_dates[snap], []
        for ep in self.episodes:
            start, end, remise = ep.changes[0][0], ep.end, ""
            if start > today:
                continue
            shown_start, coded = start, None
            if end and end <= today and ep.reopen and ep.reopen <= today:
                code, updated = 1, ep.reopen  # the same dossier listed again, its old start kept
            elif end and end <= today:
                if (today - end).days > 100:  # old "remise à disposition" lines drop out
                    continue
                code, updated, remise = 4, end, fr_date(end)
                if ep.start_moved:  # the source moved the start after the return
                    shown_start = end + timedelta(days=ep.start_moved)
            else:
                code = [c for d, c in ep.changes if d <= today][-1]
                if code == 3 and (today - start).days > 400:
                    continue
                updated = max(d for d in [d for d, _ in ep.changes] + ep.touches if d <= today)
                if ep.forecast and end:
                    remise = fr_date(end)
                if ep.code_label_conflict and snap == len(self.snap_dates) - 1:
                    coded = 4  # coded "remise", labelled tension, no return date
            label = DISPO_LABELS[code].lower() if ep.lower else DISPO_LABELS[code]
            rows.append(
                [
                    ep.spec.cis,
                    ep.cip13,
                    str(coded or code),
                    label,
                    fr_date(shown_start),
                    fr_date(updated),
                    remise,
                    ANSM_DISPO_URL + slug(ep.spec.name),
                ]
            )
        return rows

    # --- rows per file ------------------------------------------------------------
    def cis_rows(self, snap: int, specs: list[Spec]) -> list[list[str]]:
        shortage = {r[0] for r in self.dispo_rows(snap) if r[2] == "1"}
        return [
            [
                s.cis,
                s.name,
                FORMS[s.form][0],
                FORMS[s.form][3],
                s.status,
                s.procedure,
                "Commercialisée" if s.marketed else "Non commercialisée",
                fr_date(s.amm),
                "Warning disponibilité" if s.cis in shortage and not s.bdm else s.bdm,
                s.eu_number,
                " " + "; ".join(s.holders),
                "Oui" if s.reinforced else "Non",
            ]
            for s in specs
        ]

    def compo_rows(self, specs: list[Spec]) -> list[list[str]]:
        rows = []
        for s in specs:
            element, reference = FORMS[s.form][1], FORMS[s.form][2]
            for link, (inn, dose) in enumerate(zip(s.product.substances, s.strength.split("+")), start=1):
                dose, link = compo_dosage(dose), str(link)
                if inn in SALTS:  # the salt is the active substance, the base its therapeutic fraction
                    salt, factor = SALTS[inn]
                    salt_dose = scale_dosage(dose, factor)
                    rows.append([s.cis, element, self.substance_code(salt), salt, salt_dose, reference, "SA", link])
                    rows.append([s.cis, element, self.substance_code(inn), inn, dose, reference, "FT", link])
                else:
                    rows.append([s.cis, element, self.substance_code(inn), inn, dose, reference, "SA", link])
        return rows

    def has_rows(self, specs: list[Spec]) -> tuple[list, list, list]:
        """SMR, ASMR and CT-link rows: one or two opinions per princeps brand."""
        rng, newest = random.Random(f"{self.seed}-has"), self.snap_dates[-1]
        smr, asmr, links = [], [], []
        for product in self.products:
            princeps = [s for s in specs if s.princeps and s.product is product]
            if not princeps:
                continue
            brand, value = princeps[0].name.split()[0], product.smr
            first = min(princeps[0].amm + timedelta(days=rng.randint(150, 500)), newest - timedelta(days=30))
            dossiers = [("Inscription (CT)", first)]
            renewal = first + timedelta(days=5 * 365 + rng.randint(0, 60))
            if renewal < newest - timedelta(days=10) and rng.random() < 0.7:
                dossiers.append(("Renouvellement d'inscription (CT)", renewal))
            for motif, day in dossiers:
                code, ymd = self.unique(lambda: f"CT-{rng.randint(10000, 21999)}"), day.strftime("%Y%m%d")
                links.append([code, f"{HAS_URL}{rng.choice('pc')}_{rng.randint(2000000, 3600000)}"])
                text = f"Le service médical rendu par {brand} est {value.lower()} " + (
                    "pour justifier d’une prise en charge par la solidarité nationale."
                    if value == "Insuffisant"
                    else "dans les indications de l’AMM."
                )
                quote = '"' if rng.random() < 0.1 else ""
                smr += [[s.cis, code, motif, ymd, value, quote + text] for s in princeps]
                if motif.startswith("Inscription"):
                    grade = rng.choices(("V", "IV", "III", "II", "I"), weights=(60, 20, 12, 6, 2))[0]
                    text = f"{brand} {ASMR_WORDS[grade]} (ASMR {grade}) dans la stratégie thérapeutique actuelle."
                    asmr += [[s.cis, code, motif, ymd, grade, text] for s in princeps]
        return smr, asmr, links

    def snapshot_files(self, snap: int) -> dict[str, list[list[str]]]:
        specs = [s for s in self.specs if s.present(snap)]
        grouped = sorted((s for s in specs if s.group), key=lambda s: (s.group[0], s.tri))
        files = {
            "CIS_bdpm.txt": self.cis_rows(snap, specs),
            "CIS_CIP_bdpm.txt": [p for s in specs for p in s.presentations],
            "CIS_COMPO_bdpm.txt": self.compo_rows(specs),
            "CIS_GENER_bdpm.txt": [
                [str(s.group[0]), s.group[1], s.cis, str(0 if s.princeps else s.group_type), str(s.tri)]
                for s in grouped
            ],
            "CIS_CIP_Dispo_Spec.txt": self.dispo_rows(snap),
        }
        if snap < len(DEMO_SNAPSHOTS) - 1:
            return files
        smr, asmr, links = self.has_rows(specs)
        mitm_rng = random.Random(f"{self.seed}-mitm")
        mitm = [p.atc for p in self.products if mitm_rng.random() < (0.85 if p.atc[0] in "BHJL" else 0.45)]
        info = []
        for atc, start, end, title in INFO_MESSAGES:
            html = f"{title} <a target='_blank' href='{ANSM_INFO_URL}{slug(title)}'>{title}</a>"
            info += [[s.cis, start, end, html] for s in specs if s.product.atc == atc]
        files.update(
            {
                "CIS_CPD_bdpm.txt": [[s.cis, CONDITIONS[c]] for s in specs for c in s.product.conditions],
                "CIS_HAS_SMR_bdpm.txt": smr,
                "CIS_HAS_ASMR_bdpm.txt": asmr,
                "HAS_LiensPageCT_bdpm.txt": links,
                "CIS_MITM.txt": [
                    [s.cis, s.product.atc, s.name, BDPM_URL + s.cis]
                    for s in specs
                    if s.product.atc in mitm and s.status == "Autorisation active"
                ],
                "CIS_InfoImportantes.txt": info,
            }
        )
        return files


# --- writing --------------------------------------------------------------------
def write_table(
    path: Path, rows: list[list[str]], encoding: str = "cp1252", eol: str = "\r\n", trailing_tab: bool = False
) -> None:
    lines = ["\t".join(row) + ("\t" if trailing_tab else "") for row in rows]
    path.write_bytes((eol.join(lines) + eol).encode(encoding))


def malformed_lines(gen: Generator) -> tuple[list[str], list[str]]:
    """The two deliberately broken CIS_bdpm lines (see DEMO_MALFORMED)."""
    truncated = [gen.new_cis(), "FICTAMOL 20 mg, comprimé", "comprimé", "orale"]
    bad_cis = [
        "6A123456",
        "ERRADEMO 10 mg, gélule",
        "gélule",
        "orale",
        "Autorisation active",
        "Procédure nationale",
        "Commercialisée",
        "01/02/2003",
        "",
        "",
        " LABORATOIRES DEMOPHARMA",
        "Non",
    ]
    return truncated, bad_cis


def write_bdpm(out_dir: Path, gen: Generator) -> dict[str, int]:
    """Write ``bdpm/<snapshot>/`` for every DEMO_SNAPSHOTS (each folder replaced);
    return {relative file: data rows}."""
    summary: dict[str, int] = {}
    newest = len(DEMO_SNAPSHOTS) - 1
    for snap, name in enumerate(DEMO_SNAPSHOTS):
        folder = out_dir / "bdpm" / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for filename, rows in gen.snapshot_files(snap).items():
            options: dict = {"trailing_tab": snap == 0 and filename in ("CIS_COMPO_bdpm.txt", "CIS_GENER_bdpm.txt")}
            if filename == "CIS_bdpm.txt" and snap == newest:
                truncated, bad_cis = malformed_lines(gen)
                rows = [*rows[:40], truncated, *rows[40:150], bad_cis, *rows[150:]]
            if filename == "CIS_CPD_bdpm.txt":  # two stray lines made of a lone "\r"
                rows = [*rows[:25], ["\r"], *rows[25:100], ["\r"], *rows[100:]]
            if filename == "CIS_CIP_bdpm.txt" and snap == newest:
                options.update(encoding="utf-8", eol="\n")
            if filename == "HAS_LiensPageCT_bdpm.txt":
                options.update(encoding="ascii")
            write_table(folder / filename, rows, **options)
            summary[f"bdpm/{name}/{filename}"] = sum(1 for r in rows if r != ["\r"])
    return summary
