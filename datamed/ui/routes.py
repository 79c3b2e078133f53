"""Page registry: file, URL path, title and section of every page.

``url_path`` always differs from the file stem (see DEVELOPERS notes: a first
visit to a URL equal to a file name in pages/ would bypass app.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FAVICON = Path(__file__).with_name("favicon.png")  # served by Streamlit itself: no other host


@dataclass(frozen=True)
class Route:
    file: str
    url_path: str
    title: str
    icon: str
    section: str
    hidden: bool = False
    sources: tuple[str, ...] = ()  # the source families its figures come from (footer); () = every one


HOME = Route("pages/home.py", "accueil", "Accueil", ":material/home:", "", sources=("BDPM", "ATC"))
SEARCH = Route(
    "pages/search_page.py", "recherche", "Recherche", ":material/search:", "Médicaments", sources=("BDPM", "ATC")
)
CATALOGUE = Route(
    "pages/catalogue_page.py", "catalogue", "Catalogue", ":material/list:", "Médicaments", sources=("BDPM", "ATC")
)
MEDICINE = Route(
    "pages/medicine_page.py",
    "medicament",
    "Fiche médicament",
    ":material/medication:",
    "Médicaments",
    hidden=True,
    sources=("BDPM", "ATC", "ANSM pharmacovigilance"),
)
SUBSTANCE = Route(
    "pages/substance_page.py",
    "substance",
    "Substance",
    ":material/science:",
    "Médicaments",
    hidden=True,
    sources=("BDPM", "ATC", "ANSM pharmacovigilance"),
)
DATA = Route("pages/data_page.py", "donnees", "Données ouvertes", ":material/database:", "Données")
QUALITY = Route("pages/quality_page.py", "qualite", "Qualité des données", ":material/fact_check:", "Données")
COMPARE = Route(
    "pages/compare_page.py",
    "comparer",
    "Comparer des substances",
    ":material/compare_arrows:",
    "Effets indésirables",
    sources=("ANSM pharmacovigilance", "BDPM"),
)
SHORTAGES = Route(
    "pages/shortages_page.py",
    "ruptures",
    "Ruptures et tensions",
    ":material/inventory_2:",
    "Ruptures",
    sources=("BDPM", "ATC", "ANSM DataMed"),
)
SITES = Route(
    "pages/sites_page.py",
    "carte-des-sites",
    "Carte des sites",
    ":material/factory:",
    "Sites",
    sources=(
        "IREP",
        "FDA DECRS",
        "Santé.fr",
        "SIRENE",
        "La Poste",
        "IGN / INSEE (france-geojson)",
        "Natural Earth (paquet pyogrio)",
        "BDPM",
    ),
)
PHARMACIES = Route(
    "pages/pharmacy_page.py",
    "pharmacies",
    "Pharmacies",
    ":material/local_pharmacy:",
    "Sites",
    sources=("Santé.fr", "SIRENE", "La Poste", "IGN / INSEE (france-geojson)"),
)
NATIONAL = Route(
    "pages/national_page.py",
    "vue-nationale",
    "Vue nationale",
    ":material/public:",
    "Effets indésirables",
    sources=("ANSM pharmacovigilance", "ATC"),
)

#: the accessibility statement (RGAA): hidden from the menu, linked from every page's footer
ACCESSIBILITY = Route(
    "pages/accessibility_page.py",
    "accessibilite",
    "Accessibilité",
    ":material/accessibility:",
    "Données",
    hidden=True,
    sources=("BDPM",),
)

ROUTES = (
    HOME,
    SEARCH,
    CATALOGUE,
    MEDICINE,
    SUBSTANCE,
    DATA,
    QUALITY,
    COMPARE,
    NATIONAL,
    SHORTAGES,
    SITES,
    PHARMACIES,
    ACCESSIBILITY,
)

#: the page shown, in French, for an unknown path (served at that path, hidden from the menu)
NOT_FOUND = Route(
    "pages/not_found_page.py", "", "Page introuvable", ":material/help:", "", hidden=True, sources=("BDPM", "ATC")
)

#: obvious other addresses of a page (accents and case ignored): they open the page itself,
#: with the same URL parameters. The home page is served at "/", so "/accueil" is one too.
ALIASES: dict[str, Route] = {
    "accueil": HOME,
    "home": HOME,
    "index": HOME,
    "index.html": HOME,
    "recherche-medicament": SEARCH,
    "rechercher": SEARCH,
    "search": SEARCH,
    "medicaments": SEARCH,
    "fiche": MEDICINE,
    "fiche-medicament": MEDICINE,
    "substances": SUBSTANCE,
    "comparaison": COMPARE,
    "comparer-des-substances": COMPARE,
    "effets-indesirables": NATIONAL,
    "pharmacovigilance": NATIONAL,
    "rupture": SHORTAGES,
    "ruptures-de-stock": SHORTAGES,
    "disponibilite": SHORTAGES,
    "penuries": SHORTAGES,
    "sites": SITES,
    "carte": SITES,
    "pharmacie": PHARMACIES,
    "trouver-une-pharmacie": PHARMACIES,
    "pharmacie-la-plus-proche": PHARMACIES,
    "officines": PHARMACIES,
    "donnees-ouvertes": DATA,
    "open-data": DATA,
    "telechargements": DATA,
    "qualite-des-donnees": QUALITY,
    "accessibility": ACCESSIBILITY,
    "declaration-accessibilite": ACCESSIBILITY,
}


def alias_of(path: str) -> Route | None:
    """The page an unknown ``path`` (no leading slash) stands for, if it is an obvious alias."""
    from datamed.core.text import normalise  # noqa: PLC0415 - keep this module import-light

    key = normalise(path.replace(".", " ")).replace(" ", "-")
    return ALIASES.get(key) or ALIASES.get(path.lower())


@dataclass(frozen=True)
class Section:
    title: str
    description: str
    routes: tuple[Route, ...]  # empty: announced, not yet available


SECTIONS = (
    Section(
        "Médicaments",
        "Rechercher un médicament par son nom, sa substance ou son code, et lire sa fiche : composition, "
        "présentations et prix, génériques, avis de la HAS, disponibilité.",
        (SEARCH, CATALOGUE),
    ),
    Section(
        "Effets indésirables",
        "Les effets indésirables déclarés en France de 2014 à 2018, par substance, la comparaison de profils "
        "pour les professionnels de santé et la vue nationale.",
        (NATIONAL, COMPARE),
    ),
    Section(
        "Ruptures",
        "Le tableau de bord national des ruptures et tensions d'approvisionnement, leurs durées et "
        "les alternatives disponibles.",
        (SHORTAGES,),
    ),
    Section(
        "Sites",
        "Les cartes des sites pharmaceutiques industriels et des établissements de fabrication de principes actifs, "
        "et les pharmacies les plus proches d'un code postal ou d'une commune.",
        (SITES, PHARMACIES),
    ),
    Section(
        "Données",
        "Les jeux de données ouverts à télécharger, l'historique des publications, les sources et leurs rejets, "
        "la qualité des données et les liaisons entre bases.",
        (DATA, QUALITY),
    ),
)
