"""Deterministic synthetic demo raw data (fictional medicines, sites, pharmacovigilance).

- ``vocabulary``: the typed tables (fictional holders and brands, forms, ATC
  classes, products, salts, BDPM labels);
- ``bdpm``: the BDPM snapshots (catalogue and availability history);
- ``atc``: ATC labels, the WHO ATC/DDD table, shortage signals per ATC class;
- ``pharmacovigilance``: MedDRA organ classes and ANSM-style aggregates;
- ``sites``: pharmaceutical sites files and La Poste's gazetteer;
- ``generate``: ``write_demo``, the whole folder (``python -m datamed.demo OUT_DIR``).
"""

from datamed.demo.atc import DEMO_CLASS_UNMAPPED, WHO_CSV_NAME
from datamed.demo.bdpm import CORE_FILES, DEMO_MALFORMED, DEMO_SNAPSHOTS, NEWEST_ONLY_FILES
from datamed.demo.generate import write_demo
from datamed.demo.pharmacovigilance import DEMO_PV_EXPOSURE_CONFLICTS, DEMO_PV_MALFORMED, PV_SUBSTANCES
from datamed.demo.sites import DEMO_SITES_QUIRKS, write_demo_sites
from datamed.demo.vocabulary import DISPO_LABELS, GENERIC_HOLDERS, PRINCEPS_HOLDERS, PRODUCTS, SALTS

__all__ = [
    "CORE_FILES",
    "DEMO_CLASS_UNMAPPED",
    "DEMO_MALFORMED",
    "DEMO_PV_EXPOSURE_CONFLICTS",
    "DEMO_PV_MALFORMED",
    "DEMO_SITES_QUIRKS",
    "DEMO_SNAPSHOTS",
    "DISPO_LABELS",
    "GENERIC_HOLDERS",
    "NEWEST_ONLY_FILES",
    "PRINCEPS_HOLDERS",
    "PRODUCTS",
    "PV_SUBSTANCES",
    "SALTS",
    "WHO_CSV_NAME",
    "write_demo",
    "write_demo_sites",
]
