"""What goes into an open-data release: public datasets, their French documentation,
keys, licences and disclosure rules.

Only the datasets listed in ``RESOURCES`` are published, and only their public
columns (``drop`` removes internal ones such as reader line numbers). Anything
else in the prepared folder (rejected raw lines, reference geometries, the
MedDRA organ-class names, the WHO ATC labels, model outputs for ANSM staff,
notifier tables built on an unusable column) stays internal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LICENCE_OUTPUTS = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}

# Source families, by the ``source`` field of the manifest entries.
SOURCE_LICENCES = {
    "BDPM": "Licence Ouverte / Open Licence (Etalab) — Base de données publique des médicaments, ANSM / HAS / Assurance maladie",
    "ATC": "Classification ATC de l'OMS : seuls les codes sont publiés ici ; libellés français issus du programme EIG DataMed (ANSM), licence non précisée",
    "ANSM DataMed": "Agrégats ANSM préparés par le programme EIG « DataMed » ; licence non précisée, données publiques de l'ANSM, citer « ANSM »",
    "Pharmacovigilance": "Base nationale de pharmacovigilance (ANSM, 2014-2018) croisée avec Open Medic (Assurance maladie) ; licence non précisée, citer « ANSM » ; publiée ici uniquement après masquage des petits effectifs",
    "MedDRA": "MedDRA® est une marque de l'ICH ; seuls les codes des 27 classes de systèmes d'organes sont publiés, pas la terminologie",
    "IREP": "Licence Ouverte (Etalab) — Géorisques, registre des émissions polluantes 2015",
    "FDA DECRS": "Données du gouvernement fédéral des États-Unis (domaine public aux États-Unis)",
    "Santé.fr": "Licence Ouverte (Etalab) — Santé.fr, lieux de vaccination (pharmacies)",
    "SIRENE": "Licence Ouverte (Etalab) — INSEE, répertoire SIRENE",
    "La Poste": "Licence Ouverte 2.0 — base officielle des codes postaux (géolocalisation des sites)",
}

# Columns never published, whatever the dataset.
INTERNAL_COLUMNS = ("source_line", "libelle_statut_brut")

# French descriptions of columns, shared by every dataset (a resource may override).
COLUMNS_FR = {
    "cis": "Code CIS (identifiant de la spécialité, 8 chiffres)",
    "cip7": "Code CIP à 7 chiffres de la présentation",
    "cip13": "Code CIP à 13 chiffres de la présentation (EAN-13)",
    "denomination": "Dénomination du médicament",
    "forme_pharmaceutique": "Forme pharmaceutique",
    "voies_administration": "Voies d'administration (séparées par « | »)",
    "voies": "Voies d'administration",
    "statut_amm": "Statut administratif de l'autorisation de mise sur le marché",
    "type_procedure_amm": "Type de procédure d'autorisation",
    "etat_commercialisation": "État de commercialisation",
    "date_amm": "Date de l'autorisation de mise sur le marché",
    "statut_bdm": "Statut BdM (alerte, warning disponibilité)",
    "numero_autorisation_europeenne": "Numéro de l'autorisation européenne",
    "titulaires": "Titulaires de l'autorisation (séparés par « | »)",
    "titulaire": "Titulaire de l'autorisation",
    "surveillance_renforcee": "Médicament sous surveillance renforcée (triangle noir)",
    "libelle_presentation": "Libellé de la présentation",
    "statut_admin_presentation": "Statut administratif de la présentation",
    "date_declaration_commercialisation": "Date de déclaration de commercialisation",
    "agrement_collectivites": "Agrément aux collectivités",
    "taux_remboursement": "Taux de remboursement en % (séparés par « | »)",
    "prix_medicament_euro": "Prix du médicament hors honoraires (euros)",
    "prix_public_euro": "Prix public, honoraires compris (euros)",
    "honoraires_dispensation_euro": "Honoraires de dispensation (euros)",
    "indications_remboursement": "Indications ouvrant droit au remboursement",
    "designation_element": "Élément pharmaceutique (ex. comprimé)",
    "code_substance": "Code de la substance dans la BDPM",
    "denomination_substance": "Dénomination de la substance",
    "dosage": "Dosage de la substance",
    "reference_dosage": "Référence du dosage (ex. un comprimé)",
    "nature_composant": "Nature du composant : SA (substance active) ou FT (fraction thérapeutique)",
    "numero_liaison_sa_ft": "Numéro liant une substance active à sa fraction thérapeutique",
    "id_groupe_generique": "Identifiant du groupe générique",
    "libelle_groupe_generique": "Libellé du groupe générique",
    "type_generique": "Type : 0 princeps, 1 générique, 2 génériques par complémentarité posologique, 4 substituable",
    "numero_tri": "Numéro de tri dans le groupe",
    "condition_prescription_delivrance": "Condition de prescription ou de délivrance",
    "code_dossier_has": "Code du dossier à la HAS",
    "motif_evaluation": "Motif de l'évaluation par la commission de la transparence",
    "date_avis_ct": "Date de l'avis de la commission de la transparence",
    "valeur_smr": "Service médical rendu (SMR)",
    "libelle_smr": "Libellé de l'avis sur le SMR",
    "valeur_asmr": "Amélioration du service médical rendu (ASMR)",
    "libelle_asmr": "Libellé de l'avis sur l'ASMR",
    "lien_avis_ct": "Lien vers l'avis de la commission de la transparence",
    "code_statut": "Code du statut : 1 rupture de stock, 2 tension d'approvisionnement, 3 arrêt de commercialisation, 4 remise à disposition",
    "libelle_statut": "Statut de disponibilité",
    "date_debut": "Date de début",
    "date_mise_a_jour": "Date de mise à jour",
    "date_remise_dispo": "Date de remise à disposition",
    "date_fin": "Date de fin",
    "lien_ansm": "Lien vers la page de l'ANSM",
    "snapshot": "Date de l'instantané du fichier source",
    "code_atc": "Code ATC",
    "lien_bdpm": "Lien vers la fiche de la BDPM",
    "texte": "Texte de l'information",
    "n_specialites": "Nombre de spécialités contenant la substance",
    "substance_active": "Vrai si la substance est une substance active d'au moins une spécialité",
    "source_atc": "Origine du code ATC : liste MITM (officiel) ou déduit des substances identiques à un MITM",
    "episode_id": "Identifiant stable de l'épisode",
    "debut_est_maj": "Vrai si la date de début est en fait une date de mise à jour",
    "statut_initial": "Code du statut au début de l'épisode",
    "statut": "Code du dernier statut observé",
    "statuts": "Statuts successifs (séparés par « | »)",
    "premiere_vue": "Premier instantané où l'épisode apparaît",
    "derniere_vue": "Dernier instantané où l'épisode apparaît",
    "fin_observee": "Vrai si la fin de l'épisode est observée",
    "en_cours": "Vrai si l'épisode est en cours au dernier instantané",
    "duree_jours": "Durée en jours (jusqu'au dernier instantané si en cours)",
    "n_instantanes": "Nombre d'instantanés où l'épisode apparaît",
    "debut_inconnu": "Vrai si l'épisode commence avant le premier instantané fiable",
    "mitm": "Médicament d'intérêt thérapeutique majeur",
    "au_catalogue": "Vrai si le CIS figure au catalogue de la BDPM",
    "atc1": "Classe ATC de niveau 1",
    "atc2": "Classe ATC de niveau 2",
    "atc1_libelle": "Libellé de la classe ATC de niveau 1",
    "atc2_libelle": "Libellé de la classe ATC de niveau 2",
    "annee": "Année",
    "libelle_source": "Libellé de classe tel qu'écrit dans la source",
    "n_signalements": "Nombre de signalements de rupture ou de risque de rupture",
    "methode": "Méthode de liaison",
    "score": "Score de la liaison (0 à 100)",
    "niveau": "Niveau",
    "libelle_atc": "Libellé de la classe ATC",
    "site_id": "Identifiant stable du site",
    "nom": "Nom",
    "type": "Type de site",
    "operations": "Opérations déclarées (séparées par « | »)",
    "adresse": "Adresse",
    "code_postal": "Code postal",
    "commune": "Commune",
    "code_insee": "Code INSEE de la commune",
    "departement": "Code du département",
    "region": "Région",
    "pays": "Pays",
    "latitude": "Latitude (WGS 84)",
    "longitude": "Longitude (WGS 84)",
    "precision": "Précision de la position",
    "placement": "Méthode de placement sur la carte",
    "source": "Source",
    "source_date": "Date de la source",
    "country_iso3": "Code ISO 3166-1 alpha-3 du pays",
    "country_name": "Nom du pays (anglais, FDA)",
    "n_establishments": "Nombre d'établissements enregistrés auprès de la FDA",
    "n_api_manufacture": "Dont établissements déclarant fabriquer un principe actif",
    "n_manufacture": "Dont établissements déclarant une fabrication",
    "share_api": "Part des établissements fabriquant un principe actif",
    "site_nom": "Nom du site",
    "n_medicaments": "Nombre de médicaments (CIS) du titulaire",
    "suggestions": "Meilleurs candidats avec leur score (séparés par « | »)",
    "ei_id": "Identifiant de la substance de pharmacovigilance",
    "age": "Classe d'âge",
    "sexe": "Sexe (F, M)",
    "soc_code": "Code MedDRA de la classe de systèmes d'organes (SOC)",
    "n_cas": "Nombre de cas (masqué sous le seuil de diffusion)",
    "n_cas_statut": "Masquage de n_cas : vide (publié), « primaire » (sous le seuil) ou « secondaire » (pour empêcher un calcul par différence)",
    "n_conso": "Patients traités, Open Medic (masqué sous le seuil de diffusion)",
    "n_conso_statut": "Masquage de n_conso : vide, « primaire » ou « secondaire »",
    "taux": "Cas pour 100 000 patients traités (masqué si un effectif l'est)",
    "taux_ic_bas": "Borne basse de l'IC 95 % du taux (Poisson exact)",
    "taux_ic_haut": "Borne haute de l'IC 95 % du taux (Poisson exact)",
    "part_cas": "Part des cas de la substance en % (masquée si l'effectif l'est)",
    "ror": "Reporting odds ratio",
    "ror_ic_bas": "Borne basse de l'IC 95 % du ROR",
    "ror_ic_haut": "Borne haute de l'IC 95 % du ROR",
    "prr": "Proportional reporting ratio",
    "prr_ic_bas": "Borne basse de l'IC 95 % du PRR",
    "prr_ic_haut": "Borne haute de l'IC 95 % du PRR",
    "chi2": "Khi-deux (correction de Yates)",
    "ic": "Information component (BCPNN)",
    "ic025": "Borne basse (2,5 %) de l'information component",
    "signal_evans": "Signal selon les critères d'Evans (PRR ≥ 2, khi-deux ≥ 4, au moins 3 cas)",
    "signal_ror": "Signal si la borne basse de l'IC du ROR dépasse 1",
    "signal_ic": "Signal si IC025 > 0",
    "soc_principales": "Codes des trois classes d'organes les plus fréquentes (séparés par « | »)",
    "patients_par_an": "Patients traités par an en moyenne (masqué sous le seuil)",
    "n_annees_expo": "Nombre d'années avec une exposition connue",
    "denomination_bdpm": "Dénomination de la substance dans la BDPM",
    "fichier": "Fichier source",
    "colonne": "Colonne",
    "detail": "Détail",
}


@dataclass(frozen=True)
class Breakdown:
    """Cells of ``by`` groups that add up to a published (or derivable) total.

    ``total`` = (dataset, key columns, count column) of the published total; when
    None the total is derived, as an attacker would, from a published count and
    its published share (``share``, in %), or is unknown.
    """

    by: tuple[str, ...]
    total: tuple[str, tuple[str, ...], str] | None = None
    share: str | None = "part_cas"


@dataclass(frozen=True)
class Disclosure:
    counts: tuple[str, ...]  # counts subject to the threshold
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)  # count -> columns computed from it
    breakdowns: tuple[tuple[str, Breakdown], ...] = ()  # (count, one breakdown it belongs to)


@dataclass(frozen=True)
class Resource:
    name: str
    title: str
    description: str
    sources: tuple[str, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (field, resource, field)
    drop: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # overrides of COLUMNS_FR
    disclosure: Disclosure | None = None
    enums: dict[str, tuple] = field(default_factory=dict)
    patterns: dict[str, str] = field(default_factory=dict)


_QUALITE_FR = {
    "source": "Source contrôlée (fichier ou famille de fichiers)",
    "jeu": "Jeu de données contrôlé",
    "fichier": "Fichier(s) source du jeu de données",
    "controle": "Identifiant stable du contrôle",
    "categorie": "Catégorie du contrôle (types, champs obligatoires, format des codes, intégrité référentielle, doublons, dates, libellés, plausibilité, évolution)",
    "description": "Ce que vérifie le contrôle",
    "gravite": "Gravité d'un échec : bloquante, majeure ou mineure",
    "n_verifies": "Nombre d'éléments vérifiés",
    "n_echecs": "Nombre d'éléments en échec",
    "taux_echec": "Part des éléments vérifiés en échec (0 à 1)",
    "statut": "Résultat : réussi, échoué ou non applicable",
    "exemples": "Jusqu'à 5 exemples d'éléments en échec (JSON)",
}
_ECHECS_FR = {
    "controle": "Identifiant du contrôle (voir le jeu qualite)",
    "jeu": "Jeu de données contrôlé",
    "cle": "Clé de la ligne en échec (CIS, CIP13, code…)",
    "ligne": "Numéro de la ligne dans le fichier source, quand il est connu",
    "detail": "Ce qui ne va pas",
}
_EVOLUTION_FR = {
    "jeu": "Jeu de données comparé",
    "changement": "Type de changement (CIS ajouté ou retiré, changement de statut, variation du nombre de lignes…)",
    "cle": "Clé concernée (CIS, CIP13, nom du jeu)",
    "libelle": "Libellé de l'élément (dénomination…)",
    "avant": "Valeur avant",
    "apres": "Valeur après",
    "instantane_avant": "Instantané ou construction de référence",
    "instantane_apres": "Instantané ou construction comparée",
}
_LIENS_FR = {
    "lien": "Identifiant stable de la liaison",
    "libelle": "Nom de la liaison",
    "source": "Base d'origine",
    "cible": "Base cible",
    "unite": "Ce qui est compté",
    "n_elements": "Nombre d'éléments à relier",
    "n_relies": "Nombre d'éléments reliés",
    "couverture": "Part des éléments reliés (0 à 1)",
    "n_exact": "Reliés à l'identique (code ou libellé exact)",
    "n_normalise": "Reliés après normalisation (accents, sels, ordre des mots…)",
    "n_approche": "Reliés par similarité de texte",
    "n_autre": "Reliés par une autre méthode (liste de groupes, libellé anglais…)",
    "score_min": "Score de liaison le plus bas (0 à 100)",
    "score_median": "Score de liaison médian (0 à 100)",
    "methode": "Méthode de liaison, en clair",
    "poids_relies": "Couverture pondérée (par les cas, les médicaments ou les signalements)",
}
_SCORES_FR = {"lien": "Identifiant de la liaison", "tranche": "Tranche de score (0 à 100)", "n": "Nombre d'éléments reliés dans la tranche"}
_NON_RELIES_FR = {
    "lien": "Identifiant de la liaison",
    "element": "Élément non relié (code ou nom)",
    "libelle": "Libellé de l'élément, quand il est connu",
    "poids": "Poids de l'élément (cas, médicaments, signalements), pour trier par importance",
    "suggestions": "Candidats les plus proches avec leur score (séparés par « | »)",
}

_RATES = ("taux", "taux_ic_bas", "taux_ic_haut")
_SOC_MEASURES = (
    "part_cas", "ror", "ror_ic_bas", "ror_ic_haut", "prr", "prr_ic_bas", "prr_ic_haut", "chi2", "ic", "ic025",
    "signal_evans", "signal_ror", "signal_ic",
)  # fmt: skip
_CIS = {"cis": r"^[0-9]{8}$"}
_FK_CIS = (("cis", "specialites", "cis"),)


def _stratified(stratum: str) -> Disclosure:
    return Disclosure(
        counts=("n_cas", "n_conso"),
        derived={"n_cas": _RATES + ("part_cas",), "n_conso": _RATES},
        breakdowns=(
            ("n_cas", Breakdown(("ei_id",), ("ei_substances", ("ei_id",), "n_cas"))),
            ("n_cas", Breakdown((stratum,), (f"ei_national_{stratum}", (stratum,), "n_cas"), share=None)),
        ),
    )


def _national() -> Disclosure:
    return Disclosure(counts=("n_cas",), derived={"n_cas": ("part_cas",)}, breakdowns=(("n_cas", Breakdown(())),))


RESOURCES: tuple[Resource, ...] = (
    Resource("specialites", "Spécialités pharmaceutiques", "Médicaments autorisés en France (un CIS par spécialité) : dénomination, forme, voies, statut, titulaires.",
             ("BDPM",), ("cis",), patterns=_CIS),
    Resource("presentations", "Présentations", "Boîtes commercialisées ou non de chaque spécialité : codes CIP, prix, remboursement.",
             ("BDPM",), ("cip13",), _FK_CIS, patterns={"cip13": r"^[0-9]{13}$", "cip7": r"^[0-9]{7}$"}),
    Resource("compositions", "Compositions", "Substances actives et fractions thérapeutiques de chaque spécialité, avec leur dosage.",
             ("BDPM",), (), _FK_CIS),
    Resource("generiques", "Groupes génériques", "Appartenance des spécialités aux groupes génériques (princeps et génériques).",
             ("BDPM",), (), _FK_CIS),
    Resource("conditions", "Conditions de prescription et de délivrance", "Conditions de prescription et de délivrance de chaque spécialité.",
             ("BDPM",), (), _FK_CIS),
    Resource("has_smr", "Avis SMR de la HAS", "Service médical rendu évalué par la commission de la transparence de la HAS.",
             ("BDPM",), (), _FK_CIS),
    Resource("has_asmr", "Avis ASMR de la HAS", "Amélioration du service médical rendu évaluée par la HAS.",
             ("BDPM",), (), _FK_CIS),
    Resource("has_liens_ct", "Liens vers les avis de la HAS", "Lien vers l'avis de la commission de la transparence de chaque dossier HAS.",
             ("BDPM",)),
    Resource("disponibilites", "Disponibilité des médicaments", "Ruptures de stock, tensions d'approvisionnement, arrêts et remises à disposition déclarés à l'ANSM, pour chaque instantané du fichier.",
             ("BDPM",), (), _FK_CIS, enums={"code_statut": (1, 2, 3, 4)}),
    Resource("mitm", "Médicaments d'intérêt thérapeutique majeur", "Liste des médicaments d'intérêt thérapeutique majeur (MITM) avec leur code ATC.",
             ("BDPM",), ("cis",), _FK_CIS),
    Resource("infos_importantes", "Informations importantes", "Informations de sécurité importantes publiées sur les spécialités.",
             ("BDPM",), (), _FK_CIS),
    Resource("substances", "Substances", "Substances de la BDPM avec leur dénomination la plus courante et le nombre de spécialités qui les contiennent.",
             ("BDPM",), ("code_substance",)),
    Resource("specialite_atc", "Code ATC des spécialités", "Code ATC de chaque spécialité : officiel (liste MITM) ou déduit des substances identiques à un MITM.",
             ("BDPM", "ATC"), ("cis",), _FK_CIS),
    Resource("ruptures_episodes", "Épisodes de rupture et de tension", "Un épisode par médicament et par présentation, reconstitué à partir de tous les instantanés de disponibilité, enrichi du catalogue (titulaire, ATC, MITM, groupe générique).",
             ("BDPM", "ATC"), ("episode_id",)),
    Resource("ruptures_classes", "Signalements de ruptures par classe ATC (2014-2020)", "Nombre de signalements de ruptures par classe ATC de niveau 2 et par année, reliés aux codes ATC.",
             ("ANSM DataMed", "ATC")),
    Resource("ei_substances", "Effets indésirables par substance", "Cas notifiés à la pharmacovigilance (2014-2018) par substance, patients traités par an et taux pour 100 000 patients traités, masqués sous le seuil de diffusion.",
             ("Pharmacovigilance",), ("ei_id",),
             disclosure=Disclosure(counts=("n_cas", "patients_par_an"), derived={"n_cas": _RATES},
                                   breakdowns=(("n_cas", Breakdown((), ("ei_national_annee", (), "n_cas"), share=None)),))),
    Resource("ei_annee", "Effets indésirables par substance et par année", "Cas et patients traités par substance et par année, avec taux pour 100 000 ; masqués sous le seuil.",
             ("Pharmacovigilance",), ("ei_id", "annee"), (("ei_id", "ei_substances", "ei_id"),), disclosure=_stratified("annee")),
    Resource("ei_age", "Effets indésirables par substance et classe d'âge", "Cas et patients traités par substance et classe d'âge, avec taux ; masqués sous le seuil.",
             ("Pharmacovigilance",), ("ei_id", "age"), (("ei_id", "ei_substances", "ei_id"),), disclosure=_stratified("age")),
    Resource("ei_sexe", "Effets indésirables par substance et sexe", "Cas et patients traités par substance et sexe, avec taux ; masqués sous le seuil.",
             ("Pharmacovigilance",), ("ei_id", "sexe"), (("ei_id", "ei_substances", "ei_id"),), disclosure=_stratified("sexe")),
    Resource("ei_soc", "Effets indésirables par classe d'organes", "Cas par substance et classe de systèmes d'organes (SOC MedDRA), part des cas et mesures de disproportionnalité ; masqués sous le seuil.",
             ("Pharmacovigilance", "MedDRA"), ("ei_id", "soc_code"), (("ei_id", "ei_substances", "ei_id"),),
             disclosure=Disclosure(counts=("n_cas",), derived={"n_cas": _SOC_MEASURES},
                                   breakdowns=(("n_cas", Breakdown(("soc_code",), ("ei_national_soc", ("soc_code",), "n_cas"), share=None)),))),
    Resource("ei_soc_age", "Effets indésirables par classe d'organes et âge", "Cas par substance, classe d'organes et classe d'âge ; masqués sous le seuil.",
             ("Pharmacovigilance", "MedDRA"), ("ei_id", "soc_code", "age"), (("ei_id", "ei_substances", "ei_id"),),
             disclosure=Disclosure(counts=("n_cas",), derived={"n_cas": ("part_cas",)},
                                   breakdowns=(("n_cas", Breakdown(("ei_id", "soc_code"), ("ei_soc", ("ei_id", "soc_code"), "n_cas"), share=None)),))),
    # sex cells do not add up to the organ-class count (that one comes from the age
    # table; they match in a quarter of the pairs only): no additive constraint
    Resource("ei_soc_sexe", "Effets indésirables par classe d'organes et sexe", "Cas par substance, classe d'organes et sexe ; masqués sous le seuil.",
             ("Pharmacovigilance", "MedDRA"), ("ei_id", "soc_code", "sexe"), (("ei_id", "ei_substances", "ei_id"),),
             disclosure=Disclosure(counts=("n_cas",), derived={"n_cas": ("part_cas",)})),
    Resource("ei_national_annee", "Cas par année (toutes substances)", "Paires cas-substance par année, toutes substances confondues.",
             ("Pharmacovigilance",), ("annee",), disclosure=_national()),
    Resource("ei_national_age", "Cas par classe d'âge (toutes substances)", "Paires cas-substance par classe d'âge, toutes substances confondues.",
             ("Pharmacovigilance",), ("age",), disclosure=_national()),
    Resource("ei_national_sexe", "Cas par sexe (toutes substances)", "Paires cas-substance par sexe, toutes substances confondues.",
             ("Pharmacovigilance",), ("sexe",), disclosure=_national()),
    Resource("ei_national_soc", "Cas par classe d'organes (toutes substances)", "Paires cas-substance par classe de systèmes d'organes, toutes substances confondues.",
             ("Pharmacovigilance", "MedDRA"), ("soc_code",),
             disclosure=Disclosure(counts=("n_cas",), derived={"n_cas": ("part_cas",)})),
    Resource("ei_liens", "Liens pharmacovigilance → BDPM", "Substance de la BDPM reliée à chaque substance de pharmacovigilance, avec la méthode et le score.",
             ("Pharmacovigilance", "BDPM"), (), (("ei_id", "ei_substances", "ei_id"),)),
    Resource("ei_non_lies", "Substances de pharmacovigilance non reliées", "Substances de pharmacovigilance sans correspondance dans la BDPM, avec des suggestions.",
             ("Pharmacovigilance", "BDPM"), ("ei_id",), disclosure=Disclosure(counts=("n_cas",))),
    Resource("ei_colonnes", "Inspection des colonnes de pharmacovigilance", "Verdict sur chaque colonne des fichiers de pharmacovigilance : utilisable, normalisée, redondante ou inutilisable.",
             ("Pharmacovigilance",), ("fichier", "colonne")),
    Resource("sites", "Sites pharmaceutiques en France", "Sites industriels (IREP 2015, établissements enregistrés auprès de la FDA) et pharmacies, harmonisés et géolocalisés.",
             ("IREP", "FDA DECRS", "Santé.fr", "SIRENE", "La Poste"), ("site_id",),
             patterns={"code_postal": r"^[0-9]{5}$", "code_insee": r"^([0-9]{2}|2A|2B)[0-9]{3}$"}),
    Resource("sites_pays", "Établissements enregistrés auprès de la FDA par pays", "Nombre d'établissements enregistrés auprès de la FDA par pays, dont fabrication de principe actif.",
             ("FDA DECRS",), ("country_iso3",)),
    Resource("titulaires_sites", "Liens titulaires → sites industriels", "Sites industriels connus des titulaires de médicaments, avec la méthode et le score de la liaison.",
             ("BDPM", "IREP", "FDA DECRS"), ("titulaire", "site_id"), (("site_id", "sites", "site_id"),)),
    Resource("titulaires_non_relies", "Titulaires sans site connu", "Titulaires de médicaments sans site industriel connu, avec des suggestions.",
             ("BDPM", "IREP", "FDA DECRS"), ("titulaire",)),
    Resource("qualite", "Contrôles de qualité des données", "Résultat de chaque contrôle de qualité par source et jeu de données, avec des exemples de lignes en échec.",
             ("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS", "Santé.fr", "SIRENE"), columns=_QUALITE_FR),
    Resource("qualite_echecs", "Lignes en échec des contrôles de qualité", "Lignes en échec de chaque contrôle de qualité (au plus 500 par contrôle).",
             ("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS", "Santé.fr", "SIRENE"), columns=_ECHECS_FR),
    Resource("qualite_evolution", "Évolutions entre instantanés", "CIS et présentations ajoutés ou retirés, changements de statut et variations du nombre de lignes entre instantanés.",
             ("BDPM",), columns=_EVOLUTION_FR),
    Resource("liens_synthese", "Rapport de liaison entre bases", "Pour chaque liaison entre bases : couverture, méthodes et scores.",
             ("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS"), ("lien",), columns=_LIENS_FR),
    Resource("liens_scores", "Distribution des scores de liaison", "Nombre d'éléments reliés par tranche de score, pour chaque liaison.",
             ("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS"), ("lien", "tranche"), columns=_SCORES_FR),
    Resource("liens_non_relies", "Éléments non reliés", "Éléments sans correspondance pour chaque liaison, avec des suggestions (au plus 500 par liaison).",
             ("BDPM", "Pharmacovigilance", "ANSM DataMed", "IREP", "FDA DECRS"), columns=_NON_RELIES_FR),
)  # fmt: skip

BY_NAME = {r.name: r for r in RESOURCES}

# Prepared datasets deliberately kept out of releases, with the reason (shown in the release README).
NOT_PUBLISHED = {
    "rejets": "lignes brutes rejetées : document de travail interne (leur nombre par fichier figure dans le README)",
    "noms_substances": "table technique de liaison",
    "atc": "libellés ATC de l'OMS et du programme DataMed : licence non précisée",
    "soc": "libellés MedDRA sous licence (MSSO) : seuls les codes sont publiés",
    "communes": "table de référence de La Poste, disponible à la source",
    "departements_geo": "fond de carte (IGN / INSEE), disponible à la source",
    "pays_geo": "fond de carte (Natural Earth), disponible à la source",
    "sites_non_places": "liste de travail",
    "ei_notif_age": "colonne TYP_NOTIF inutilisable : jamais représentée",
    "ei_notif_sexe": "colonne TYP_NOTIF inutilisable : jamais représentée",
    "risque_evaluation": "modèle de risque : outil interne de l'ANSM",
    "risque_calibration": "modèle de risque : outil interne de l'ANSM",
    "risque_rapport": "modèle de risque : outil interne de l'ANSM",
    "risque_ruptures": "modèle de risque : outil interne de l'ANSM",
}
