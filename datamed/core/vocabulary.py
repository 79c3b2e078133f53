"""Reference vocabularies shared by readers, pipeline steps, views and the demo generator."""

from __future__ import annotations

# Availability statuses of CIS_CIP_Dispo_Spec (code -> official label).
DISPO_STATUS = {
    1: "Rupture de stock",
    2: "Tension d'approvisionnement",
    3: "Arrêt de commercialisation",
    4: "Remise à disposition",
}
OPEN_STATUSES = (1, 2)  # rupture, tension: the medicine is not (fully) available

# Pharmacovigilance strata. The source writes age classes as labels ("0-19 ans")
# in the *_age files and as numbers (0/20/60) in the soclong/notif files.
AGE_CLASSES = ("0-19", "20-59", "60+")
AGE_LABELS_FR = {"0-19": "0 à 19 ans", "20-59": "20 à 59 ans", "60+": "60 ans et plus"}
SEX_LABELS_FR = {"F": "Femmes", "M": "Hommes"}

# Holder -> site links, strictest method first.
HOLDER_LINK_METHODS = ("exact", "normalisé", "groupe", "approché")

# The 27 MedDRA System Organ Classes: (code, English name, French name as the ANSM writes it).
# The built-in list lets the build run without a meddra/ folder; the demo writes it out.
MEDDRA_SOC: tuple[tuple[str, str, str], ...] = (
    ("10005329", "Blood and lymphatic system disorders", "Affections hématologiques et du système lymphatique"),
    ("10007541", "Cardiac disorders", "Affections cardiaques"),
    ("10010331", "Congenital, familial and genetic disorders", "Affections congénitales, familiales et génétiques"),
    ("10013993", "Ear and labyrinth disorders", "Affections de l'oreille et du labyrinthe"),
    ("10014698", "Endocrine disorders", "Affections endocriniennes"),
    ("10015919", "Eye disorders", "Affections oculaires"),
    ("10017947", "Gastrointestinal disorders", "Affections gastro-intestinales"),
    (
        "10018065",
        "General disorders and administration site conditions",
        "Troubles généraux et anomalies au site d'administration",
    ),
    ("10019805", "Hepatobiliary disorders", "Affections hépatobiliaires"),
    ("10021428", "Immune system disorders", "Affections du système immunitaire"),
    ("10021881", "Infections and infestations", "Infections et infestations"),
    (
        "10022117",
        "Injury, poisoning and procedural complications",
        "Lésions, intoxications et complications d'interventions",
    ),
    ("10022891", "Investigations", "Investigations"),
    ("10027433", "Metabolism and nutrition disorders", "Troubles du métabolisme et de la nutrition"),
    (
        "10028395",
        "Musculoskeletal and connective tissue disorders",
        "Affections musculosquelettiques et du tissu conjonctif",
    ),
    (
        "10029104",
        "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
        "Tumeurs bénignes, malignes et non précisées (incl kystes et polypes)",
    ),
    ("10029205", "Nervous system disorders", "Affections du système nerveux"),
    (
        "10036585",
        "Pregnancy, puerperium and perinatal conditions",
        "Affections gravidiques, puerpérales et périnatales",
    ),
    ("10037175", "Psychiatric disorders", "Affections psychiatriques"),
    ("10038359", "Renal and urinary disorders", "Affections du rein et des voies urinaires"),
    ("10038604", "Reproductive system and breast disorders", "Affections des organes de reproduction et du sein"),
    (
        "10038738",
        "Respiratory, thoracic and mediastinal disorders",
        "Affections respiratoires, thoraciques et médiastinales",
    ),
    ("10040785", "Skin and subcutaneous tissue disorders", "Affections de la peau et du tissu sous-cutané"),
    ("10041244", "Social circumstances", "Caractéristiques socio-environnementales"),
    ("10042613", "Surgical and medical procedures", "Actes médicaux et chirurgicaux"),
    ("10047065", "Vascular disorders", "Affections vasculaires"),
    ("10077536", "Product issues", "Problèmes de produit"),
)
