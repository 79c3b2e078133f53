"""Synthetic pharmacovigilance files: the 27 MedDRA organ classes
(``meddra/meddra_soc.csv``) and ANSM-style aggregates (``ansm_pharmacovigilance/``)
with invented counts but the real files' semantics and defects
(``DEMO_PV_MALFORMED``, ``DEMO_PV_EXPOSURE_CONFLICTS``)."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import shutil
import unicodedata
from pathlib import Path

from datamed.core.vocabulary import MEDDRA_SOC
from datamed.demo.bdpm import Generator

# --- pharmacovigilance (ANSM 2014-2018 aggregates) and MedDRA organ classes -------
# Share of a substance's cases with at least one effect in the class (before the
# ATC adjustments below): digestive, skin, general and nervous effects dominate.
SOC_BASE_RATE = {
    "10017947": 0.30,
    "10040785": 0.28,
    "10018065": 0.25,
    "10029205": 0.22,
    "10037175": 0.10,
    "10022891": 0.10,
    "10022117": 0.08,
    "10019805": 0.06,
    "10005329": 0.06,
    "10038738": 0.06,
    "10028395": 0.06,
    "10047065": 0.05,
    "10007541": 0.05,
    "10027433": 0.05,
    "10038359": 0.05,
    "10021428": 0.05,
    "10015919": 0.03,
    "10021881": 0.03,
    "10013993": 0.02,
    "10038604": 0.02,
    "10014698": 0.015,
    "10036585": 0.01,
    "10029104": 0.01,
    "10077536": 0.01,
    "10010331": 0.005,
    "10041244": 0.005,
    "10042613": 0.005,
}
SOC_BY_ATC = {  # ATC prefix -> {SOC code: multiplier}
    "A10": {"10027433": 4},
    "B01": {"10005329": 4, "10047065": 3, "10017947": 1.5},
    "C": {"10007541": 4, "10047065": 3, "10027433": 2, "10038359": 2},
    "G": {"10038604": 5},
    "H": {"10014698": 5, "10027433": 2},
    "J": {"10040785": 1.5, "10021881": 2, "10019805": 1.5},
    "L": {"10005329": 4, "10021881": 3, "10029104": 5},
    "M": {"10028395": 2, "10017947": 1.5, "10038359": 1.5},
    "N": {"10037175": 3, "10029205": 2},
    "P": {"10029205": 1.5},
    "R": {"10038738": 3},
    "S": {"10015919": 10},
}
NOT_A_SOC = "Affections dentaires et gingivales"  # a MedDRA HLGT, not a SOC
# (MEDICAMENT as the ANSM writes it, demo BDPM substance it stands for, ATC if not in PRODUCTS).
# 43 are the COMPO name without accents, 14 put the salt in brackets after the base,
# 7 carry a hydrate, 3 write an acid or a biological the ANSM way, 3 withdrawn
# INNs match nothing in the demo BDPM, and 2 are a second salt of a substance above.
PV_SUBSTANCES: tuple[tuple[str, str, str], ...] = (
    ("OMEPRAZOLE", "OMÉPRAZOLE", ""),
    ("LOPERAMIDE", "LOPÉRAMIDE", ""),
    ("GLICLAZIDE", "GLICLAZIDE", ""),
    ("ENOXAPARINE SODIQUE", "ÉNOXAPARINE SODIQUE", ""),
    ("RIVAROXABAN", "RIVAROXABAN", ""),
    ("APIXABAN", "APIXABAN", ""),
    ("DIGOXINE", "DIGOXINE", ""),
    ("AMIODARONE", "AMIODARONE", ""),
    ("FUROSEMIDE", "FUROSÉMIDE", ""),
    ("BISOPROLOL", "BISOPROLOL", ""),
    ("RAMIPRIL", "RAMIPRIL", ""),
    ("LOSARTAN", "LOSARTAN", ""),
    ("VALSARTAN", "VALSARTAN", ""),
    ("HYDROCHLOROTHIAZIDE", "HYDROCHLOROTHIAZIDE", ""),
    ("SIMVASTATINE", "SIMVASTATINE", ""),
    ("LEVONORGESTREL", "LÉVONORGESTREL", ""),
    ("ETHINYLESTRADIOL", "ÉTHINYLESTRADIOL", ""),
    ("TAMSULOSINE", "TAMSULOSINE", ""),
    ("PREDNISOLONE", "PREDNISOLONE", ""),
    ("PREDNISONE", "PREDNISONE", ""),
    ("LEVOTHYROXINE SODIQUE", "LÉVOTHYROXINE SODIQUE", ""),
    ("CEFTRIAXONE", "CEFTRIAXONE", ""),
    ("SULFAMETHOXAZOLE", "SULFAMÉTHOXAZOLE", ""),
    ("TRIMETHOPRIME", "TRIMÉTHOPRIME", ""),
    ("FLUCONAZOLE", "FLUCONAZOLE", ""),
    ("ACICLOVIR", "ACICLOVIR", ""),
    ("METHOTREXATE", "MÉTHOTREXATE", ""),
    ("LETROZOLE", "LÉTROZOLE", ""),
    ("DICLOFENAC", "DICLOFÉNAC", ""),
    ("IBUPROFENE", "IBUPROFÈNE", ""),
    ("CELECOXIB", "CÉLÉCOXIB", ""),
    ("ALLOPURINOL", "ALLOPURINOL", ""),
    ("COLCHICINE", "COLCHICINE", ""),
    ("PARACETAMOL", "PARACÉTAMOL", ""),
    ("TRAMADOL", "TRAMADOL", ""),
    ("LAMOTRIGINE", "LAMOTRIGINE", ""),
    ("LEVETIRACETAM", "LÉVÉTIRACÉTAM", ""),
    ("PREGABALINE", "PRÉGABALINE", ""),
    ("RISPERIDONE", "RISPÉRIDONE", ""),
    ("ZOPICLONE", "ZOPICLONE", ""),
    ("METRONIDAZOLE", "MÉTRONIDAZOLE", ""),
    ("HYDROXYCHLOROQUINE", "HYDROXYCHLOROQUINE", ""),
    ("VALPROATE DE SODIUM", "ACIDE VALPROÏQUE", ""),
    # salt in brackets, in reversed order
    ("METOCLOPRAMIDE (CHLORHYDRATE DE)", "MÉTOCLOPRAMIDE", ""),
    ("METFORMINE (CHLORHYDRATE DE)", "METFORMINE", ""),
    ("CLOPIDOGREL (HYDROGENOSULFATE DE)", "CLOPIDOGREL", ""),
    ("AMLODIPINE (BESILATE D')", "AMLODIPINE", ""),
    ("SILDENAFIL (CITRATE DE)", "SILDÉNAFIL", ""),
    ("CIPROFLOXACINE (CHLORHYDRATE DE) MONOHYDRATE", "CIPROFLOXACINE", ""),
    ("IMATINIB (MESILATE D')", "IMATINIB", ""),
    ("TAMOXIFENE (CITRATE DE)", "TAMOXIFÈNE", ""),
    ("MORPHINE (SULFATE DE) PENTAHYDRATE", "MORPHINE", ""),
    ("QUETIAPINE (FUMARATE DE)", "QUÉTIAPINE", ""),
    ("SERTRALINE (CHLORHYDRATE DE)", "SERTRALINE", ""),
    ("ESCITALOPRAM (OXALATE D')", "ESCITALOPRAM", ""),
    ("VENLAFAXINE (CHLORHYDRATE DE)", "VENLAFAXINE", ""),
    ("SALBUTAMOL (SULFATE DE)", "SALBUTAMOL", ""),
    # hydrates
    ("AMOXICILLINE TRIHYDRATEE", "AMOXICILLINE", ""),
    ("AZITHROMYCINE DIHYDRATEE", "AZITHROMYCINE", ""),
    ("ATORVASTATINE CALCIQUE TRIHYDRATEE", "ATORVASTATINE", ""),
    ("ESOMEPRAZOLE MAGNESIQUE TRIHYDRATE", "ÉSOMÉPRAZOLE", ""),
    ("PANTOPRAZOLE SODIQUE SESQUIHYDRATE", "PANTOPRAZOLE", ""),
    ("ALENDRONATE MONOSODIQUE TRIHYDRATE", "ACIDE ALENDRONIQUE", ""),
    ("NITROFURANTOINE MONOHYDRATEE", "NITROFURANTOÏNE", ""),  # hydrate not in the demo COMPO
    # acid and biological written the ANSM way
    ("ACETYLSALICYLIQUE (ACIDE)", "ACIDE ACÉTYLSALICYLIQUE", ""),
    ("FOLIQUE (ACIDE)", "ACIDE FOLIQUE", ""),
    ("ADALIMUMAB (MAMMIFERE/HAMSTER/CHO)", "ADALIMUMAB", ""),
    # withdrawn INNs, in no demo BDPM file
    ("DEXTROPROPOXYPHENE", "", "N02AC04"),
    ("TETRAZEPAM", "", "M03BX07"),
    ("BENFLUOREX (CHLORHYDRATE DE)", "", "A10BX06"),
    # another salt of a substance above: the two are pooled under their active moiety
    # (as the real diclofénac is split over its base and four salts)
    ("DICLOFENAC SODIQUE", "DICLOFÉNAC", ""),
    ("AMOXICILLINE SODIQUE", "AMOXICILLINE", ""),
)
PV_YEARS = (2014, 2015, 2016, 2017, 2018)
PV_AGE_LABELS = ("0-19 ans", "20-59 ans", "60 ans et plus")
PV_AGE_CODES = (0, 20, 60)
PV_SEX_LABELS, PV_SEX_CODES = ("Femmes", "Hommes"), ("F", "M")
PV_SMALL_NOTIF = "Notificateur(s) < 10 cas"
PV_SOC_MIN = 10  # soclong rows under this count are suppressed at the source
PV_HOSPITAL_ONLY = "CEFTRIAXONE"  # no community exposure recorded before 2017
PV_PRODUCTS = ("N02BE01", "J01CA04", "C08CA01", "B01AF01", "N03AG01")  # prod_data_annee brands
PV_DIR = "ansm_pharmacovigilance"
DEMO_PV_MALFORMED: dict[str, int] = {f"{PV_DIR}/sa_data_annee.json": 2, f"{PV_DIR}/sa_data_soclong_age.json": 1}
# Cells where n_cas > n_conso (cases of a hospital-only drug, no community exposure).
DEMO_PV_EXPOSURE_CONFLICTS: dict[str, int] = {f"{PV_DIR}/sa_data_annee.json": 3}


def plain(text: str) -> str:
    """Upper case, no accents, straight apostrophes: 'BÉSILATE D’AMLODIPINE' -> "BESILATE D'AMLODIPINE"."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).upper()


def split_total(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of an integer along weights (deterministic, exact sum)."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def draw_counts(rng: random.Random, n: int, weights: list[float]) -> list[int]:
    """Multinomial draw of n cases into len(weights) classes."""
    counts = [0] * len(weights)
    for k in rng.choices(range(len(weights)), weights=weights, k=n):
        counts[k] += 1
    return counts


def draw_binomial(rng: random.Random, n: int, p: float) -> int:
    """Normal approximation of Binomial(n, p), clipped to [0, n]."""
    return min(n, max(0, round(n * p + rng.gauss(0, 1) * (n * p * (1 - p)) ** 0.5)))


def fix_exposure(cases: list[int], conso: list[int]) -> list[int]:
    """Move exposure between classes so that no class has more cases than exposed patients."""
    conso = list(conso)
    for k in range(len(cases)):
        need = cases[k] - conso[k]
        if need > 0:
            donor = max(range(len(conso)), key=lambda j: (conso[j] - cases[j], -j))
            conso[donor] -= need
            conso[k] += need
    return conso


def pv_profile(atc: str) -> tuple[list[float], float]:
    """(weights of the three age classes, share of women) for a substance's ATC code."""
    ages = [0.10, 0.50, 0.40]
    if atc[0] == "C" or atc[:3] in ("B01", "M04", "M05", "L02", "N04") or atc[:5] in ("N06DA", "G04CA"):
        ages = [0.02, 0.30, 0.68]
    elif atc[:3] in ("J01", "R03", "R06", "P02") or atc[:5] in ("N02BE", "M01AE"):
        ages = [0.25, 0.45, 0.30]
    elif atc[:3] == "G03":
        ages = [0.12, 0.86, 0.02]
    women = 0.58
    if atc[:3] in ("G03", "L02"):
        women = 0.99
    elif atc[:3] == "G04":
        women = 0.02
    elif atc[:3] in ("M05", "H03"):
        women = 0.85
    return ages, women


def soc_rows(
    rng: random.Random,
    name: str,
    total: int,
    age_strata: list[tuple[object, int]],
    sex_strata: list[tuple[object, int]],
    rates: dict[str, float],
) -> tuple[list[dict], list[dict]]:
    """Soclong records of one substance, by age and by sex: per SOC, the cases with an
    effect there, drawn by age class, then split between the sexes in proportion to
    their cases, so that both tables count the same cases (as in the real files: the
    age rows and the sex rows of an organ class add up to the same count, before the
    source leaves out the rows under PV_SOC_MIN)."""
    by_age, by_sex = [], []
    sex_cases = [cases for _s, cases in sex_strata]
    for code, _en, fr in MEDDRA_SOC:
        if code not in rates:
            continue
        ages = [(stratum, draw_binomial(rng, cases, rates[code])) for stratum, cases in age_strata]
        count = sum(n for _s, n in ages)
        sexes = list(zip([s for s, _c in sex_strata], split_total(count, sex_cases))) if sum(sex_cases) else []
        for key, rows, cells in (("AGE", by_age, ages), ("SEXE", by_sex, sexes)):
            rows += [
                {
                    "MEDICAMENT": name,
                    key: stratum,
                    "SOC_LONG": fr,
                    "n_decla_eff": n,
                    "n_cas": total,
                    "pour_cas_soclong": round(100 * n / total, 10),
                }
                for stratum, n in cells
                if n >= PV_SOC_MIN
            ]
    return by_age, by_sex


def notif_rows(rng: random.Random, name: str, strata: list[tuple[object, int]], key: str) -> list[dict]:
    """Notifier records: the ANSM grouped by count, so TYP_NOTIF holds the count itself."""
    rows = []
    for stratum, cases in strata:
        small = (
            cases if cases < 10 else (0 if cases == 10 or rng.random() < 0.2 else rng.randint(1, min(9, cases - 10)))
        )
        big = cases - small
        if big:
            k = rng.randint(1, min(6, big // 10))
            extra = split_total(big - 10 * k, [rng.expovariate(1) for _ in range(k)])
            groups: dict[int, int] = {}
            for count in sorted(10 + e for e in extra):  # equal counts fall into one row
                groups[count] = groups.get(count, 0) + count
            rows += [{"MEDICAMENT": name, key: stratum, "TYP_NOTIF": c, "n_decla": n} for c, n in groups.items()]
        if small:
            rows.append({"MEDICAMENT": name, key: stratum, "TYP_NOTIF": PV_SMALL_NOTIF, "n_decla": small})
    return rows


def pv_tables(gen: Generator, seed: int) -> dict[str, list]:
    """Records of every pharmacovigilance file, malformed records included."""
    rng = random.Random(f"{seed}-pv")
    atc_of = {}
    for p in gen.products:
        for s in p.substances:
            atc_of.setdefault(s, p.atc)
    order = sorted(range(len(PV_SUBSTANCES)), key=lambda i: PV_SUBSTANCES[i][0])
    hospital = next(i for i, s in enumerate(PV_SUBSTANCES) if s[0] == PV_HOSPITAL_ONLY)
    small = set(rng.sample([i for i in range(len(PV_SUBSTANCES)) if i != hospital], 10))
    zero = set(sorted(small)[:3])
    tables: dict[str, list] = {
        k: [] for k in ("annee", "age", "sexe", "soclong_age", "soclong_sexe", "notif_age", "notif_sexe")
    }
    totals, yearly, by_age = {}, {}, {}
    for i in range(len(PV_SUBSTANCES)):  # draw in the fixed list order, write in name order
        name, base, atc = PV_SUBSTANCES[i]
        atc = atc or atc_of[base]
        if i in zero:
            total = 0
        elif i in small:
            total = rng.randint(1, 10)
        else:
            total = int(math.exp(rng.uniform(math.log(11), math.log(5001))))
            if i == hospital:
                total = max(total, rng.randint(60, 400))
        trend = rng.uniform(-0.15, 0.25)
        cases_y = draw_counts(rng, total, [max(0.2, 1 + trend * (y - 2016)) for y in PV_YEARS])
        exposure = math.exp(rng.uniform(math.log(200), math.log(2_000_000)))
        exposure = min(2_000_000, max(exposure, 25 * max(cases_y)))
        e_trend = rng.uniform(-0.06, 0.08)
        conso_y = [
            min(2_000_000, max(200, int(exposure * (1 + e_trend * (y - 2016)) * rng.uniform(0.95, 1.05))))
            for y in PV_YEARS
        ]
        if i == hospital:
            for k in range(3):
                if cases_y[k] == 0:
                    cases_y[cases_y.index(max(cases_y))] -= 1
                    cases_y[k] = 1
                conso_y[k] = 0
        age_w, women = pv_profile(atc)
        cases_a = draw_counts(rng, total, age_w)
        cases_s = draw_counts(rng, total, [women, 1 - women])
        conso_a = fix_exposure(cases_a, split_total(sum(conso_y), [w * rng.uniform(0.7, 1.3) for w in age_w]))
        sex_w = [women * rng.uniform(0.8, 1.2), (1 - women) * rng.uniform(0.8, 1.2)]
        conso_s = fix_exposure(cases_s, split_total(sum(conso_y), sex_w))
        totals[i], yearly[i], by_age[i] = total, (cases_y, conso_y), cases_a
        rates = {}
        if total:  # 5 to 15 classes, drawn without replacement, common ones more likely
            pool = dict(SOC_BASE_RATE)
            for prefix, bumps in SOC_BY_ATC.items():
                if atc.startswith(prefix):
                    pool.update({code: pool[code] * factor for code, factor in bumps.items()})
            for _ in range(rng.randint(5, 15)):
                codes = sorted(pool)
                code = rng.choices(codes, weights=[pool[c] for c in codes])[0]
                rates[code] = min(0.8, pool.pop(code) * rng.uniform(0.6, 1.6))
        age_strata = list(zip(PV_AGE_CODES, cases_a))
        sex_strata = list(zip(PV_SEX_CODES, cases_s))
        tables["annee"] += [
            {"MEDICAMENT": name, "ANNEE": y, "n_cas": c, "n_conso": e} for y, c, e in zip(PV_YEARS, cases_y, conso_y)
        ]
        tables["age"] += [
            {"MEDICAMENT": name, "AGE": a, "n_cas": c, "n_conso": e} for a, c, e in zip(PV_AGE_LABELS, cases_a, conso_a)
        ]
        tables["sexe"] += [
            {"MEDICAMENT": name, "SEXE": s, "n_cas": c, "n_conso": e}
            for s, c, e in zip(PV_SEX_LABELS, cases_s, conso_s)
        ]
        if total:
            soc_age, soc_sex = soc_rows(rng, name, total, age_strata, sex_strata, rates)
            tables["soclong_age"] += soc_age
            tables["soclong_sexe"] += soc_sex
        tables["notif_age"] += notif_rows(rng, name, age_strata, "AGE")
        tables["notif_sexe"] += notif_rows(rng, name, sex_strata, "SEXE")
    rank = {PV_SUBSTANCES[i][0]: r for r, i in enumerate(order)}
    for rows in tables.values():  # stable: each substance keeps its stratum order
        rows.sort(key=lambda r: rank[r["MEDICAMENT"]])
    # deliberately malformed extra records (DEMO_PV_MALFORMED); once they are
    # rejected, the remaining records are complete and consistent
    big = sorted(totals, key=lambda i: (-totals[i], i))
    annee = tables["annee"]
    for i, k, bad in ((big[1], 2, "negative"), (big[4], 3, "missing")):  # 2016, 2017
        name = PV_SUBSTANCES[i][0]
        at = max(j for j, r in enumerate(annee) if r["MEDICAMENT"] == name) + 1
        record = {
            "MEDICAMENT": name,
            "ANNEE": PV_YEARS[k],
            "n_cas": -max(1, yearly[i][0][k]),
            "n_conso": yearly[i][1][k],
        }
        if bad == "missing":
            del record["n_cas"]
        annee.insert(at, record)
    name, total = PV_SUBSTANCES[big[0]][0], totals[big[0]]
    age = max(zip(by_age[big[0]], PV_AGE_CODES))[1]  # its largest age class
    soc = tables["soclong_age"]
    at = max(j for j, r in enumerate(soc) if r["MEDICAMENT"] == name) + 1
    soc.insert(
        at,
        {
            "MEDICAMENT": name,
            "AGE": age,
            "SOC_LONG": NOT_A_SOC,
            "n_decla_eff": 12,
            "n_cas": total,
            "pour_cas_soclong": round(100 * 12 / total, 10),
        },
    )
    # product level (prod_data_annee.csv): a share of the substance's cases and exposure
    by_base = {base: i for i, (_, base, _) in enumerate(PV_SUBSTANCES) if base}
    prod = []
    for atc in PV_PRODUCTS:
        product = next(p for p in gen.products if p.atc == atc)
        brand = next(s for s in gen.specs if s.princeps and s.product is product).name.split()[0]
        cases_y, conso_y = yearly[by_base[product.substances[0]]]
        share = rng.uniform(0.25, 0.7)
        for y, c, e in zip(PV_YEARS, cases_y, conso_y):
            n_cas = min(c, round(c * share * rng.uniform(0.85, 1.15)))
            prod.append([brand, str(y), str(n_cas), str(max(n_cas, round(e * share * rng.uniform(0.9, 1.1))))])
    tables["prod_annee"] = sorted(prod)
    return tables


def write_meddra(out_dir: Path) -> dict[str, int]:
    folder = out_dir / "meddra"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("soc_code", "soc_name_en", "soc_name_fr"))
    # the demo's own layout: classes in French alphabetical order (the source file is ordered by code)
    writer.writerows(sorted(MEDDRA_SOC, key=lambda row: row[2]))
    (folder / "meddra_soc.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return {"meddra/meddra_soc.csv": len(MEDDRA_SOC)}


def write_pharmacovigilance(out_dir: Path, gen: Generator, seed: int) -> dict[str, int]:
    folder = out_dir / PV_DIR
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    summary = {}
    for table, rows in pv_tables(gen, seed).items():
        if table == "prod_annee":
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
            writer.writerow(("MEDICAMENT", "ANNEE", "n_cas", "n_conso"))
            writer.writerows(rows)
            (folder / "prod_data_annee.csv").write_text(buffer.getvalue(), encoding="utf-8-sig")
            summary[f"{PV_DIR}/prod_data_annee.csv"] = len(rows)
            continue
        # one record per line (the ANSM writes one long line): same JSON, readable diffs
        text = "[" + ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows) + "]\n"
        (folder / f"sa_data_{table}.json").write_text(text, encoding="utf-8")
        summary[f"{PV_DIR}/sa_data_{table}.json"] = len(rows)
    return summary
