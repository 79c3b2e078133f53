"""``write_demo``: the whole synthetic demo raw folder, written in the official
raw file formats.

A fresh clone of DataMed must work offline, without the real BDPM snapshots.
``write_demo`` lays out a small raw folder that mimics the official files and
their known quirks:

- ``datamed.demo.bdpm``: three BDPM snapshots (``bdpm/<date>/``);
- ``datamed.demo.atc``: ATC labels, the WHO ATC/DDD table and the shortage
  signals per ATC class (``atc/``, ``ansm_datamed/``);
- ``datamed.demo.pharmacovigilance``: the 27 MedDRA organ classes and
  ANSM-style pharmacovigilance aggregates with invented counts;
- ``datamed.demo.sites``: pharmaceutical sites and La Poste's gazetteer.

The tables they draw from are typed in ``datamed.demo.vocabulary``: real INN
substances with their real ATC codes, but fictional brand names and fictional
marketing-authorisation holders. Nothing is read from the real data. Output is
deterministic: seeded ``random.Random`` and fixed dates, no clock.

Usage: ``python -m datamed.demo OUT_DIR``
"""

from __future__ import annotations

import json
from pathlib import Path

from datamed.demo.atc import write_atc, write_class_history
from datamed.demo.bdpm import DEMO_SNAPSHOTS, Generator, write_bdpm
from datamed.demo.pharmacovigilance import write_meddra, write_pharmacovigilance
from datamed.demo.sites import write_demo_sites

README = """# Données de démonstration / Demo data

Données **synthétiques** générées par `python -m datamed.demo` (module `datamed/demo.py`),
au format des fichiers bruts de la Base de données publique des médicaments (BDPM).
Les substances et codes ATC sont réels ; les noms de marque, les titulaires, les prix,
les avis et les ruptures sont **fictifs**. Ne pas utiliser pour un usage réel.

- `bdpm/<date>/` : trois instantanés de la BDPM (Windows-1252, tabulations) ;
- `atc/` : libellés ATC français et fichier ATC/DDD de l'OMS ;
- `meddra/meddra_soc.csv` : les 27 classes de systèmes d'organes MedDRA (codes réels,
  libellés anglais et français) ;
- `ansm_pharmacovigilance/` : agrégats de pharmacovigilance au format de l'ANSM
  (2014-2018, par substance : année, âge, sexe, classe d'organes, notificateur ;
  `prod_data_annee.csv` par produit). Les **nombres de cas et de consommants
  sont inventés**. Comme dans les fichiers réels : lignes soclong de moins de 10 cas
  absentes (mêmes cas comptés par âge et par sexe), colonne TYP_NOTIF égale au nombre de déclarations, quelques cellules avec
  plus de cas que d'exposés, quelques noms de substance sans correspondance dans la
  BDPM, deux sels d'une substance déjà présente (regroupés sous leur substance active), et trois enregistrements volontairement invalides.

**Synthetic** data written by `python -m datamed.demo`, in the official BDPM raw file
formats. Substances and ATC codes are real; brand names, holders, prices, opinions and
shortages are **fictional**. Not for real-world use. `meddra/` lists the 27 MedDRA
System Organ Classes (real codes and names); `ansm_pharmacovigilance/` mimics the
ANSM 2014-2018 pharmacovigilance aggregates with **invented case and exposure counts**,
including the real files' quirks and three deliberately invalid records.
"""


def write_demo(out_dir: Path, seed: int = 20261128) -> dict:
    """Write the synthetic raw folder into ``out_dir``; return {relative file: data rows}.

    Owned paths (``bdpm/<snapshot>/`` for DEMO_SNAPSHOTS, ``atc/`` files,
    ``meddra/meddra_soc.csv``, ``ansm_pharmacovigilance/``, ``ansm_datamed/``,
    the ``sites/`` and ``geo/`` demo files, ``demo.json``, ``README.md``) are
    replaced; anything else is left alone.
    """
    out_dir = Path(out_dir)
    gen = Generator(seed)
    summary: dict[str, int] = {}
    summary.update(write_bdpm(out_dir, gen))
    summary.update(write_atc(out_dir, gen))
    summary.update(write_meddra(out_dir))
    summary.update(write_pharmacovigilance(out_dir, gen, seed))
    summary.update(write_class_history(out_dir, gen, seed))
    summary.update(write_demo_sites(out_dir, seed))
    meta = {
        "demo": True,
        "generator": "datamed.demo",
        "seed": seed,
        "snapshots": list(DEMO_SNAPSHOTS),
        "description": "Données de démonstration synthétiques au format BDPM : substances et codes ATC réels, "
        "noms de marque, titulaires, prix et ruptures fictifs. Ne pas utiliser pour un usage réel.",
    }
    (out_dir / "demo.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(README, encoding="utf-8")
    return summary
