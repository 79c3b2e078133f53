"""Synthetic demo data written in the official BDPM raw file formats.

A fresh clone of DataMed must work offline, without the real BDPM snapshots.
``write_demo`` lays out a small raw folder that mimics the official files: column
order, Windows-1252 encoding, CRLF line endings and the known quirks that the
readers have to cope with (UTF-8 presentations file, trailing tabs, stray
carriage returns, thousands commas in prices, non-normalised labels...).
It also writes the 27 MedDRA organ classes (``meddra/meddra_soc.csv``) and
ANSM-style pharmacovigilance aggregates (``ansm_pharmacovigilance/``) with
invented counts but the real files' semantics and defects.

Everything is typed in this module: real INN substances with their real ATC
codes, but fictional brand names and fictional marketing-authorisation holders.
Nothing is read from the real data. Output is deterministic: a seeded
``random.Random`` and fixed dates, no clock.

Usage: ``python -m datamed.demo OUT_DIR``
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from datamed.core.vocabulary import MEDDRA_SOC

DEMO_SNAPSHOTS: tuple[str, ...] = ("2025-06-02", "2025-10-01", "2026-01-15")
DEMO_MALFORMED: dict[str, int] = {f"bdpm/{DEMO_SNAPSHOTS[-1]}/CIS_bdpm.txt": 2}
WHO_CSV_NAME = "WHO_ATC-DDD_2026-04-25.csv"
CORE_FILES = ("CIS_bdpm.txt", "CIS_CIP_bdpm.txt", "CIS_COMPO_bdpm.txt", "CIS_GENER_bdpm.txt", "CIS_CIP_Dispo_Spec.txt")
NEWEST_ONLY_FILES = (
    "CIS_CPD_bdpm.txt", "CIS_HAS_SMR_bdpm.txt", "CIS_HAS_ASMR_bdpm.txt",
    "HAS_LiensPageCT_bdpm.txt", "CIS_MITM.txt", "CIS_InfoImportantes.txt",
)

# --- fictional names ----------------------------------------------------------
PRINCEPS_HOLDERS = (
    "LABORATOIRES DEMOPHARMA", "FICTIVA SANTE", "SIMULAB FRANCE",
    "IMAGINOR PHARMA", "EXEMPLA THERAPEUTICS", "PHANTASMA BIOTECH",
)
GENERIC_HOLDERS = (  # (short name used in generic denominations, holder)
    ("FAUXGEN", "FAUXGEN FRANCE"), ("PSEUDOMED", "PSEUDOMED SAS"),
    ("MOCKAPHARM", "LABORATOIRES MOCKAPHARM"), ("NULLIGEN", "NULLIGEN EUROPE"),
    ("FICTILAB", "FICTILAB GENERIQUES"), ("DEMOGEN", "DEMOGEN"),
    ("ILLUSIA", "ILLUSIA SANTE"), ("SYNTHETIX", "SYNTHETIX DEMO"), ("FACTICE", "LABORATOIRES FACTICE"),
)
BRAND_SUFFIXES = ("DEMO", "FICTA", "SIMUL", "FAUXA", "MOCKA", "ZEDEMO")

# --- pharmaceutical forms -------------------------------------------------------
# key: (forme pharmaceutique, élément, référence du dosage, voies, libellé de présentation, tailles)
FORMS = {
    "cp": ("comprimé", "comprimé", "un comprimé", "orale", "plaquette(s) PVC-aluminium de {n} comprimé(s)", (10, 16, 30, 90)),
    "cps": ("comprimé sécable", "comprimé", "un comprimé", "orale", "plaquette(s) PVC-aluminium de {n} comprimé(s)", (20, 30, 90)),
    "cpp": ("comprimé pelliculé", "comprimé", "un comprimé", "orale", "plaquette(s) PVC PVDC aluminium de {n} comprimé(s)", (14, 28, 30, 90)),
    "cpps": ("comprimé pelliculé sécable", "comprimé", "un comprimé", "orale", "plaquette(s) PVC-aluminium de {n} comprimé(s)", (14, 28, 30)),
    "cpg": ("comprimé gastro-résistant", "comprimé", "un comprimé", "orale", "plaquette(s) aluminium de {n} comprimé(s)", (14, 28, 30)),
    "cpe": ("comprimé effervescent", "comprimé", "un comprimé", "orale", "tube(s) polypropylène de {n} comprimé(s)", (8, 16, 20)),
    "cplp": ("comprimé à libération prolongée", "comprimé", "un comprimé", "orale", "plaquette(s) PVC-aluminium de {n} comprimé(s)", (30, 60, 90)),
    "cpo": ("comprimé orodispersible", "comprimé", "un comprimé", "orale", "plaquette(s) aluminium de {n} comprimé(s)", (20, 30)),
    "cpm": ("comprimé à croquer", "comprimé", "un comprimé", "orale", "plaquette(s) aluminium de {n} comprimé(s)", (28, 30)),
    "cpd": ("comprimé dispersible", "comprimé", "un comprimé", "orale", "plaquette(s) PVC-aluminium de {n} comprimé(s)", (6, 14)),
    "gel": ("gélule", "gélule", "une gélule", "orale", "plaquette(s) PVC-aluminium de {n} gélule(s)", (14, 28, 30, 90)),
    "gelg": ("gélule gastro-résistante", "gélule", "une gélule", "orale", "flacon(s) polyéthylène de {n} gélule(s)", (7, 14, 28)),
    "gellp": ("gélule à libération prolongée", "gélule", "une gélule", "orale", "plaquette(s) PVC-aluminium de {n} gélule(s)", (14, 28, 30)),
    "sup": ("suppositoire", "suppositoire", "un suppositoire", "rectale", "plaquette(s) PVC-polyéthylène de {n} suppositoire(s)", (8, 10)),
    "sb": ("solution buvable", "solution", "1 ml", "orale", "1 flacon(s) en verre brun de {n} ml avec seringue(s) pour administration orale", (100, 150)),
    "susp": ("poudre pour suspension buvable", "poudre", "5 ml de suspension reconstituée", "orale", "1 flacon(s) en verre de {n} ml avec cuillère(s)-mesure", (60, 100)),
    "sach": ("poudre pour solution buvable en sachet-dose", "poudre", "un sachet-dose", "orale", "{n} sachet(s)-dose(s) papier aluminium polyéthylène", (20, 30)),
    "inj": ("solution injectable", "solution", "1 ml", "intramusculaire;intraveineuse", "{n} ampoule(s) en verre de 1 ml", (5, 10)),
    "ser": ("solution injectable en seringue préremplie", "solution", "une seringue préremplie", "sous-cutanée", "{n} seringue(s) préremplie(s) en verre", (2, 6, 10)),
    "pdr": ("poudre pour solution injectable", "poudre", "un flacon", "intramusculaire;intraveineuse", "{n} flacon(s) en verre", (1, 10)),
    "cr": ("crème", "crème", "100 g de crème", "cutanée", "1 tube(s) aluminium de {n} g", (15, 30)),
    "pom": ("pommade", "pommade", "100 g de pommade", "cutanée", "1 tube(s) aluminium de {n} g", (15,)),
    "coll": ("collyre en solution", "solution", "100 ml", "ophtalmique", "1 flacon(s) compte-gouttes polyéthylène de {n} ml", (3, 5)),
    "inh": ("suspension pour inhalation en flacon pressurisé", "suspension", "une dose", "inhalée", "1 flacon(s) pressurisé(s) aluminium de {n} dose(s)", (120, 200)),
    "nas": ("suspension pour pulvérisation nasale", "suspension", "une pulvérisation", "nasale", "1 flacon(s) pulvérisateur(s) de {n} pulvérisation(s)", (60, 140)),
    "td": ("dispositif transdermique", "dispositif", "un dispositif", "transdermique", "{n} sachet(s) papier aluminium de 1 dispositif(s)", (7, 28)),
}

# --- ATC classification (French, English) for levels 1, 2, some 3, and 4 -----
ATC_GROUPS = {
    "A": ("Voies digestives et métabolisme", "ALIMENTARY TRACT AND METABOLISM"),
    "B": ("Sang et organes hématopoïétiques", "BLOOD AND BLOOD FORMING ORGANS"),
    "C": ("Système cardio-vasculaire", "CARDIOVASCULAR SYSTEM"),
    "D": ("Médicaments dermatologiques", "DERMATOLOGICALS"),
    "G": ("Système génito-urinaire et hormones sexuelles", "GENITO URINARY SYSTEM AND SEX HORMONES"),
    "H": ("Hormones systémiques, à l'exclusion des hormones sexuelles et des insulines", "SYSTEMIC HORMONAL PREPARATIONS, EXCL. SEX HORMONES AND INSULINS"),
    "J": ("Anti-infectieux généraux à usage systémique", "ANTIINFECTIVES FOR SYSTEMIC USE"),
    "L": ("Antinéoplasiques et immunomodulateurs", "ANTINEOPLASTIC AND IMMUNOMODULATING AGENTS"),
    "M": ("Muscle et squelette", "MUSCULO-SKELETAL SYSTEM"),
    "N": ("Système nerveux", "NERVOUS SYSTEM"),
    "P": ("Antiparasitaires, insecticides et répulsifs", "ANTIPARASITIC PRODUCTS, INSECTICIDES AND REPELLENTS"),
    "R": ("Système respiratoire", "RESPIRATORY SYSTEM"),
    "S": ("Organes sensoriels", "SENSORY ORGANS"),
    "V": ("Divers", "VARIOUS"),
    "A02": ("Médicaments pour les troubles de l'acidité", "DRUGS FOR ACID RELATED DISORDERS"),
    "A02B": ("Médicaments pour l'ulcère peptique et le reflux gastro-œsophagien", "DRUGS FOR PEPTIC ULCER AND GASTRO-OESOPHAGEAL REFLUX DISEASE (GORD)"),
    "A02BC": ("Inhibiteurs de la pompe à protons", "Proton pump inhibitors"),
    "A03": ("Médicaments pour les troubles fonctionnels gastro-intestinaux", "DRUGS FOR FUNCTIONAL GASTROINTESTINAL DISORDERS"),
    "A03FA": ("Propulsifs", "Propulsives"),
    "A07": ("Antidiarrhéiques, anti-inflammatoires et anti-infectieux intestinaux", "ANTIDIARRHEALS, INTESTINAL ANTIINFLAMMATORY/ANTIINFECTIVE AGENTS"),
    "A07DA": ("Antipropulsifs", "Antipropulsives"),
    "A10": ("Médicaments du diabète", "DRUGS USED IN DIABETES"),
    "A10B": ("Hypoglycémiants, insulines exclues", "BLOOD GLUCOSE LOWERING DRUGS, EXCL. INSULINS"),
    "A10BA": ("Biguanides", "Biguanides"),
    "A10BB": ("Sulfonylurées", "Sulfonylureas"),
    "A10BD": ("Associations d'hypoglycémiants oraux", "Combinations of oral blood glucose lowering drugs"),
    "A10BH": ("Inhibiteurs de la dipeptidyl peptidase 4 (DPP-4)", "Dipeptidyl peptidase 4 (DPP-4) inhibitors"),
    "B01": ("Antithrombotiques", "ANTITHROMBOTIC AGENTS"),
    "B01A": ("Antithrombotiques", "ANTITHROMBOTIC AGENTS"),
    "B01AB": ("Héparines", "Heparin group"),
    "B01AC": ("Inhibiteurs de l'agrégation plaquettaire, héparine exclue", "Platelet aggregation inhibitors excl. heparin"),
    "B01AF": ("Inhibiteurs directs du facteur Xa", "Direct factor Xa inhibitors"),
    "B03": ("Préparations antianémiques", "ANTIANEMIC PREPARATIONS"),
    "B03BB": ("Acide folique et dérivés", "Folic acid and derivatives"),
    "C01": ("Médicaments en cardiologie", "CARDIAC THERAPY"),
    "C01AA": ("Glycosides digitaliques", "Digitalis glycosides"),
    "C01BD": ("Antiarythmiques de classe III", "Antiarrhythmics, class III"),
    "C03": ("Diurétiques", "DIURETICS"),
    "C03CA": ("Sulfonamides non associés", "Sulfonamides, plain"),
    "C07": ("Bêtabloquants", "BETA BLOCKING AGENTS"),
    "C07AB": ("Bêtabloquants sélectifs", "Beta blocking agents, selective"),
    "C08": ("Inhibiteurs calciques", "CALCIUM CHANNEL BLOCKERS"),
    "C08CA": ("Dérivés de la dihydropyridine", "Dihydropyridine derivatives"),
    "C09": ("Médicaments agissant sur le système rénine-angiotensine", "AGENTS ACTING ON THE RENIN-ANGIOTENSIN SYSTEM"),
    "C09AA": ("Inhibiteurs de l'enzyme de conversion non associés", "ACE inhibitors, plain"),
    "C09C": ("Antagonistes de l'angiotensine II non associés", "ANGIOTENSIN II RECEPTOR BLOCKERS (ARBs), PLAIN"),
    "C09CA": ("Antagonistes de l'angiotensine II non associés", "Angiotensin II receptor blockers (ARBs), plain"),
    "C09DA": ("Antagonistes de l'angiotensine II et diurétiques", "Angiotensin II receptor blockers (ARBs) and diuretics"),
    "C10": ("Hypolipidémiants", "LIPID MODIFYING AGENTS"),
    "C10AA": ("Inhibiteurs de la HMG CoA réductase", "HMG CoA reductase inhibitors"),
    "D01": ("Antifongiques à usage dermatologique", "ANTIFUNGALS FOR DERMATOLOGICAL USE"),
    "D01AC": ("Dérivés imidazolés et triazolés", "Imidazole and triazole derivatives"),
    "D06": ("Antibiotiques et chimiothérapeutiques à usage dermatologique", "ANTIBIOTICS AND CHEMOTHERAPEUTICS FOR DERMATOLOGICAL USE"),
    "D06AX": ("Autres antibiotiques à usage topique", "Other antibiotics for topical use"),
    "G03": ("Hormones sexuelles et modulateurs de la fonction génitale", "SEX HORMONES AND MODULATORS OF THE GENITAL SYSTEM"),
    "G03AA": ("Progestatifs et estrogènes, associations fixes", "Progestogens and estrogens, fixed combinations"),
    "G04": ("Médicaments urologiques", "UROLOGICALS"),
    "G04BE": ("Médicaments utilisés dans les troubles de l'érection", "Drugs used in erectile dysfunction"),
    "G04CA": ("Antagonistes des récepteurs alpha-adrénergiques", "Alpha-adrenoreceptor antagonists"),
    "H02": ("Corticoïdes à usage systémique", "CORTICOSTEROIDS FOR SYSTEMIC USE"),
    "H02AB": ("Glucocorticoïdes", "Glucocorticoids"),
    "H03": ("Médicaments de la thyroïde", "THYROID THERAPY"),
    "H03AA": ("Hormones thyroïdiennes", "Thyroid hormones"),
    "J01": ("Antibactériens à usage systémique", "ANTIBACTERIALS FOR SYSTEMIC USE"),
    "J01C": ("Bêta-lactamines : pénicillines", "BETA-LACTAM ANTIBACTERIALS, PENICILLINS"),
    "J01CA": ("Pénicillines à large spectre", "Penicillins with extended spectrum"),
    "J01CR": ("Associations de pénicillines, incluant les inhibiteurs de bêta-lactamases", "Combinations of penicillins, incl. beta-lactamase inhibitors"),
    "J01DD": ("Céphalosporines de troisième génération", "Third-generation cephalosporins"),
    "J01EE": ("Associations de sulfamides et de triméthoprime, incluant les dérivés", "Combinations of sulfonamides and trimethoprim, incl. derivatives"),
    "J01FA": ("Macrolides", "Macrolides"),
    "J01MA": ("Fluoroquinolones", "Fluoroquinolones"),
    "J01XE": ("Dérivés du nitrofurane", "Nitrofuran derivatives"),
    "J02": ("Antimycosiques à usage systémique", "ANTIMYCOTICS FOR SYSTEMIC USE"),
    "J02AC": ("Dérivés triazolés", "Triazole derivatives"),
    "J05": ("Antiviraux à usage systémique", "ANTIVIRALS FOR SYSTEMIC USE"),
    "J05AB": ("Nucléosides et nucléotides, inhibiteurs de la transcriptase inverse exclus", "Nucleosides and nucleotides excl. reverse transcriptase inhibitors"),
    "L01": ("Antinéoplasiques", "ANTINEOPLASTIC AGENTS"),
    "L01BA": ("Analogues de l'acide folique", "Folic acid analogues"),
    "L01EA": ("Inhibiteurs de la tyrosine kinase BCR-ABL", "BCR-ABL tyrosine kinase inhibitors"),
    "L02": ("Thérapeutique endocrine", "ENDOCRINE THERAPY"),
    "L02BA": ("Anti-estrogènes", "Anti-estrogens"),
    "L02BG": ("Inhibiteurs de l'aromatase", "Aromatase inhibitors"),
    "L04": ("Immunosuppresseurs", "IMMUNOSUPPRESSANTS"),
    "L04AB": ("Inhibiteurs du facteur de nécrose tumorale alpha (TNF-α)", "Tumor necrosis factor alpha (TNF-α) inhibitors"),
    "M01": ("Anti-inflammatoires et antirhumatismaux", "ANTIINFLAMMATORY AND ANTIRHEUMATIC PRODUCTS"),
    "M01A": ("Anti-inflammatoires et antirhumatismaux non stéroïdiens", "ANTIINFLAMMATORY AND ANTIRHEUMATIC PRODUCTS, NON-STEROIDS"),
    "M01AB": ("Dérivés de l'acide acétique et apparentés", "Acetic acid derivatives and related substances"),
    "M01AE": ("Dérivés de l'acide propionique", "Propionic acid derivatives"),
    "M01AH": ("Coxibs", "Coxibs"),
    "M04": ("Antigoutteux", "ANTIGOUT PREPARATIONS"),
    "M04AA": ("Inhibiteurs de la production d'acide urique", "Preparations inhibiting uric acid production"),
    "M04AC": ("Préparations sans effet sur le métabolisme de l'acide urique", "Preparations with no effect on uric acid metabolism"),
    "M05": ("Médicaments pour le traitement des désordres osseux", "DRUGS FOR TREATMENT OF BONE DISEASES"),
    "M05BA": ("Bisphosphonates", "Bisphosphonates"),
    "N02": ("Analgésiques", "ANALGESICS"),
    "N02A": ("Opioïdes", "OPIOIDS"),
    "N02AA": ("Alcaloïdes naturels de l'opium", "Natural opium alkaloids"),
    "N02AJ": ("Opioïdes en association avec des analgésiques non opioïdes", "Opioids in combination with non-opioid analgesics"),
    "N02AX": ("Autres opioïdes", "Other opioids"),
    "N02B": ("Autres analgésiques et antipyrétiques", "OTHER ANALGESICS AND ANTIPYRETICS"),
    "N02BA": ("Acide salicylique et dérivés", "Salicylic acid and derivatives"),
    "N02BE": ("Anilides", "Anilides"),
    "N02CC": ("Agonistes sélectifs des récepteurs 5HT1", "Selective serotonin (5HT1) agonists"),
    "N03": ("Antiépileptiques", "ANTIEPILEPTICS"),
    "N03AG": ("Dérivés des acides gras", "Fatty acid derivatives"),
    "N03AX": ("Autres antiépileptiques", "Other antiepileptics"),
    "N04": ("Antiparkinsoniens", "ANTI-PARKINSON DRUGS"),
    "N04BA": ("Dopa et dérivés de la dopa", "Dopa and dopa derivatives"),
    "N05": ("Psycholeptiques", "PSYCHOLEPTICS"),
    "N05AH": ("Diazépines, oxazépines, thiazépines et oxépines", "Diazepines, oxazepines, thiazepines and oxepines"),
    "N05AX": ("Autres antipsychotiques", "Other antipsychotics"),
    "N05BA": ("Dérivés des benzodiazépines", "Benzodiazepine derivatives"),
    "N05CF": ("Médicaments apparentés aux benzodiazépines", "Benzodiazepine related drugs"),
    "N06": ("Psychoanaleptiques", "PSYCHOANALEPTICS"),
    "N06A": ("Antidépresseurs", "ANTIDEPRESSANTS"),
    "N06AB": ("Inhibiteurs sélectifs de la recapture de la sérotonine", "Selective serotonin reuptake inhibitors"),
    "N06AX": ("Autres antidépresseurs", "Other antidepressants"),
    "N06DA": ("Anticholinestérasiques", "Anticholinesterases"),
    "N07": ("Autres médicaments du système nerveux", "OTHER NERVOUS SYSTEM DRUGS"),
    "N07BA": ("Médicaments utilisés dans la dépendance à la nicotine", "Drugs used in nicotine dependence"),
    "P01": ("Antiprotozoaires", "ANTIPROTOZOALS"),
    "P01AB": ("Dérivés du nitroimidazole", "Nitroimidazole derivatives"),
    "P01BA": ("Aminoquinoléines", "Aminoquinolines"),
    "P02": ("Anthelminthiques", "ANTHELMINTICS"),
    "P02CA": ("Dérivés du benzimidazole", "Benzimidazole derivatives"),
    "P02CF": ("Avermectines", "Avermectines"),
    "R01": ("Préparations nasales", "NASAL PREPARATIONS"),
    "R01AD": ("Corticoïdes", "Corticosteroids"),
    "R03": ("Médicaments pour les syndromes obstructifs des voies aériennes", "DRUGS FOR OBSTRUCTIVE AIRWAY DISEASES"),
    "R03AC": ("Agonistes sélectifs bêta-2 adrénergiques", "Selective beta-2-adrenoreceptor agonists"),
    "R03DC": ("Antagonistes des récepteurs des leucotriènes", "Leukotriene receptor antagonists"),
    "R05": ("Médicaments du rhume et de la toux", "COUGH AND COLD PREPARATIONS"),
    "R05CB": ("Mucolytiques", "Mucolytics"),
    "R06": ("Antihistaminiques à usage systémique", "ANTIHISTAMINES FOR SYSTEMIC USE"),
    "R06AE": ("Dérivés de la pipérazine", "Piperazine derivatives"),
    "R06AX": ("Autres antihistaminiques à usage systémique", "Other antihistamines for systemic use"),
    "S01": ("Médicaments ophtalmologiques", "OPHTHALMOLOGICALS"),
    "S01ED": ("Bêtabloquants", "Beta blocking agents"),
    "S01EE": ("Analogues des prostaglandines", "Prostaglandin analogues"),
    "V03": ("Tous autres médicaments", "ALL OTHER THERAPEUTIC PRODUCTS"),
    "V03AB": ("Antidotes", "Antidotes"),
}
# WHO rows with no French label, so that the English fallback is exercised.
WHO_ONLY = (
    ("A01", "STOMATOLOGICAL PREPARATIONS", ""), ("A01A", "STOMATOLOGICAL PREPARATIONS", ""),
    ("A01AA", "Caries prophylactic agents", ""), ("A01AA01", "sodium fluoride", "1.1 mg O"),
    ("J01CA01", "ampicillin", "2 g O|6 g P"), ("N02BE51", "paracetamol, combinations excl. psycholeptics", ""),
)

# --- products -------------------------------------------------------------------
# (ATC level 5, French label, English label, substances joined by "+",
#  variants "form=strength;strength|form=...", prescription conditions, WHO DDDs "ddd uom route|...")
# In combination strengths, "+" separates the substances' dosages.
PRODUCTS = (
    ("A02BC01", "oméprazole", "omeprazole", "OMÉPRAZOLE", "gelg=10 mg;20 mg", "II", "20 mg O"),
    ("A02BC02", "pantoprazole", "pantoprazole", "PANTOPRAZOLE", "cpg=20 mg;40 mg", "II", "40 mg O"),
    ("A02BC05", "ésoméprazole", "esomeprazole", "ÉSOMÉPRAZOLE", "gelg=20 mg;40 mg", "II", "30 mg O"),
    ("A03FA01", "métoclopramide", "metoclopramide", "MÉTOCLOPRAMIDE", "cps=10 mg", "II", "30 mg O"),
    ("A07DA03", "lopéramide", "loperamide", "LOPÉRAMIDE", "gel=2 mg", "", "10 mg O"),
    ("A10BA02", "metformine", "metformin", "METFORMINE", "cpp=500 mg;850 mg;1000 mg", "II", "2 g O"),
    ("A10BB09", "gliclazide", "gliclazide", "GLICLAZIDE", "cplp=30 mg;60 mg", "II", "60 mg O"),
    ("A10BH01", "sitagliptine", "sitagliptin", "SITAGLIPTINE", "cpp=50 mg;100 mg", "I", "0.1 g O"),
    ("A10BD07", "metformine et sitagliptine", "metformin and sitagliptin", "SITAGLIPTINE+METFORMINE", "cpp=50 mg+1000 mg", "I", ""),
    ("B01AB05", "énoxaparine", "enoxaparin", "ÉNOXAPARINE SODIQUE", "ser=4 000 UI anti-Xa/0,4 ml;6 000 UI anti-Xa/0,6 ml", "I", "2 TU P"),
    ("B01AC04", "clopidogrel", "clopidogrel", "CLOPIDOGREL", "cpp=75 mg", "I", "75 mg O"),
    ("B01AC06", "acide acétylsalicylique", "acetylsalicylic acid", "ACIDE ACÉTYLSALICYLIQUE", "sach=75 mg;160 mg", "", "1 Tablet O"),
    ("B01AF01", "rivaroxaban", "rivaroxaban", "RIVAROXABAN", "cpp=10 mg;15 mg;20 mg", "I", "20 mg O"),
    ("B01AF02", "apixaban", "apixaban", "APIXABAN", "cpp=2,5 mg;5 mg", "I", "10 mg O"),
    ("B03BB01", "acide folique", "folic acid", "ACIDE FOLIQUE", "cp=0,4 mg;5 mg", "", "0.4 mg O"),
    ("C01AA05", "digoxine", "digoxin", "DIGOXINE", "cps=0,25 mg", "I", "0.25 mg O"),
    ("C01BD01", "amiodarone", "amiodarone", "AMIODARONE", "cps=200 mg", "I", "0.2 g O"),
    ("C03CA01", "furosémide", "furosemide", "FUROSÉMIDE", "cps=40 mg|inj=10 mg/ml", "I", "40 mg O|40 mg P"),
    ("C07AB02", "métoprolol", "metoprolol", "MÉTOPROLOL", "cplp=50 mg;100 mg", "I", "0.15 g O"),
    ("C07AB07", "bisoprolol", "bisoprolol", "BISOPROLOL", "cps=1,25 mg;2,5 mg;5 mg;10 mg", "I", "10 mg O"),
    ("C08CA01", "amlodipine", "amlodipine", "AMLODIPINE", "gel=5 mg;10 mg", "I", "5 mg O"),
    ("C09AA05", "ramipril", "ramipril", "RAMIPRIL", "gel=1,25 mg;2,5 mg;5 mg;10 mg", "I", "2.5 mg O"),
    ("C09CA01", "losartan", "losartan", "LOSARTAN", "cpp=50 mg;100 mg", "I", "50 mg O"),
    ("C09CA03", "valsartan", "valsartan", "VALSARTAN", "cpp=80 mg;160 mg", "I", "80 mg O"),
    ("C09DA01", "losartan et diurétiques", "losartan and diuretics", "LOSARTAN+HYDROCHLOROTHIAZIDE", "cpp=50 mg+12,5 mg;100 mg+25 mg", "I", ""),
    ("C09DA03", "valsartan et diurétiques", "valsartan and diuretics", "VALSARTAN+HYDROCHLOROTHIAZIDE", "cpp=80 mg+12,5 mg;160 mg+25 mg", "I", ""),
    ("C10AA01", "simvastatine", "simvastatin", "SIMVASTATINE", "cpp=20 mg;40 mg", "I", "30 mg O"),
    ("C10AA05", "atorvastatine", "atorvastatin", "ATORVASTATINE", "cpp=10 mg;20 mg;40 mg;80 mg", "I", "20 mg O"),
    ("C10AA07", "rosuvastatine", "rosuvastatin", "ROSUVASTATINE", "cpp=5 mg;10 mg;20 mg", "I", "10 mg O"),
    ("D01AC01", "clotrimazole", "clotrimazole", "CLOTRIMAZOLE", "cr=1 %", "", ""),
    ("D06AX09", "mupirocine", "mupirocin", "MUPIROCINE", "pom=2 %", "I", ""),
    ("G03AA07", "lévonorgestrel et éthinylestradiol", "levonorgestrel and ethinylestradiol", "LÉVONORGESTREL+ÉTHINYLESTRADIOL", "cp=0,1 mg+0,02 mg;0,15 mg+0,03 mg", "I", ""),
    ("G04BE03", "sildénafil", "sildenafil", "SILDÉNAFIL", "cpp=25 mg;50 mg;100 mg", "I", "50 mg O"),
    ("G04CA02", "tamsulosine", "tamsulosin", "TAMSULOSINE", "gellp=0,4 mg", "II", "0.4 mg O"),
    ("H02AB06", "prednisolone", "prednisolone", "PREDNISOLONE", "cpo=5 mg;20 mg", "I", "10 mg O"),
    ("H02AB07", "prednisone", "prednisone", "PREDNISONE", "cp=1 mg;5 mg;20 mg", "I", "10 mg O"),
    ("H03AA01", "lévothyroxine sodique", "levothyroxine sodium", "LÉVOTHYROXINE SODIQUE", "cps=25 µg;50 µg;75 µg;100 µg;125 µg;150 µg", "II", "0.15 mg O"),
    ("J01CA04", "amoxicilline", "amoxicillin", "AMOXICILLINE", "gel=500 mg|cpd=1 g|susp=250 mg/5 ml", "I", "1.5 g O|3 g P"),
    ("J01CR02", "amoxicilline et inhibiteur d'enzyme", "amoxicillin and beta-lactamase inhibitor", "AMOXICILLINE+ACIDE CLAVULANIQUE", "cpp=500 mg+62,5 mg;1 g+125 mg", "I", "1.5 g O|3 g P"),
    ("J01DD04", "ceftriaxone", "ceftriaxone", "CEFTRIAXONE", "pdr=500 mg;1 g;2 g", "I H", "2 g P"),
    ("J01EE01", "sulfaméthoxazole et triméthoprime", "sulfamethoxazole and trimethoprim", "SULFAMÉTHOXAZOLE+TRIMÉTHOPRIME", "cp=400 mg+80 mg;800 mg+160 mg", "I", ""),
    ("J01FA10", "azithromycine", "azithromycin", "AZITHROMYCINE", "cpp=250 mg;500 mg", "I", "0.3 g O|0.5 g P"),
    ("J01MA02", "ciprofloxacine", "ciprofloxacin", "CIPROFLOXACINE", "cpp=250 mg;500 mg;750 mg", "I", "1 g O|0.8 g P"),
    ("J01XE01", "nitrofurantoïne", "nitrofurantoin", "NITROFURANTOÏNE", "gel=50 mg", "I", "0.2 g O"),
    ("J02AC01", "fluconazole", "fluconazole", "FLUCONAZOLE", "gel=50 mg;100 mg;150 mg;200 mg", "I", "0.2 g O|0.2 g P"),
    ("J05AB01", "aciclovir", "aciclovir", "ACICLOVIR", "cp=200 mg;800 mg", "I", "4 g O|4 g P"),
    ("L01BA01", "méthotrexate", "methotrexate", "MÉTHOTREXATE", "cp=2,5 mg;10 mg", "I SP", "2.5 mg O"),
    ("L01EA01", "imatinib", "imatinib", "IMATINIB", "cpp=100 mg;400 mg", "I PH ONCO", "0.6 g O"),
    ("L02BA01", "tamoxifène", "tamoxifen", "TAMOXIFÈNE", "cpp=10 mg;20 mg", "I", "20 mg O"),
    ("L02BG04", "létrozole", "letrozole", "LÉTROZOLE", "cpp=2,5 mg", "I", "2.5 mg O"),
    ("L04AB04", "adalimumab", "adalimumab", "ADALIMUMAB", "ser=40 mg/0,4 ml", "I PIH SP", "2.9 mg P"),
    ("M01AB05", "diclofénac", "diclofenac", "DICLOFÉNAC", "cpg=25 mg;50 mg", "II", "0.1 g O"),
    ("M01AE01", "ibuprofène", "ibuprofen", "IBUPROFÈNE", "cpp=200 mg;400 mg|sb=20 mg/ml", "", "1.2 g O"),
    ("M01AE02", "naproxène", "naproxen", "NAPROXÈNE", "cp=250 mg;550 mg", "II", "0.5 g O"),
    ("M01AH01", "célécoxib", "celecoxib", "CÉLÉCOXIB", "gel=100 mg;200 mg", "I", "0.2 g O"),
    ("M04AA01", "allopurinol", "allopurinol", "ALLOPURINOL", "cp=100 mg;200 mg;300 mg", "I", "0.4 g O"),
    ("M04AC01", "colchicine", "colchicine", "COLCHICINE", "cps=1 mg", "I", "1 mg O"),
    ("M05BA04", "acide alendronique", "alendronic acid", "ACIDE ALENDRONIQUE", "cp=70 mg", "I", "10 mg O"),
    ("N02AA01", "morphine", "morphine", "MORPHINE", "gellp=10 mg;30 mg;60 mg|inj=10 mg/ml", "S S28", "0.1 g O|30 mg P"),
    ("N02AJ06", "codéine et paracétamol", "codeine and paracetamol", "PARACÉTAMOL+CODÉINE", "cp=500 mg+30 mg", "I", ""),
    ("N02AJ13", "tramadol et paracétamol", "tramadol and paracetamol", "TRAMADOL+PARACÉTAMOL", "cpp=37,5 mg+325 mg", "I", ""),
    ("N02AX02", "tramadol", "tramadol", "TRAMADOL", "gel=50 mg|cplp=100 mg;200 mg", "I", "0.3 g O|0.3 g P"),
    ("N02BA01", "acide acétylsalicylique", "acetylsalicylic acid", "ACIDE ACÉTYLSALICYLIQUE", "cpe=500 mg;1 g", "", "3 g O"),
    ("N02BE01", "paracétamol", "paracetamol", "PARACÉTAMOL", "cp=500 mg;1000 mg|gel=500 mg|cpe=1 g|sup=1 g", "", "3 g O|3 g R"),
    ("N02CC01", "sumatriptan", "sumatriptan", "SUMATRIPTAN", "cpp=50 mg", "I", "50 mg O"),
    ("N03AG01", "acide valproïque", "valproic acid", "ACIDE VALPROÏQUE", "cpg=200 mg;500 mg", "I SP", "1.5 g O"),
    ("N03AX09", "lamotrigine", "lamotrigine", "LAMOTRIGINE", "cp=25 mg;100 mg;200 mg", "I", "0.3 g O"),
    ("N03AX14", "lévétiracétam", "levetiracetam", "LÉVÉTIRACÉTAM", "cpp=250 mg;500 mg;1000 mg", "I", "1.5 g O"),
    ("N03AX16", "prégabaline", "pregabalin", "PRÉGABALINE", "gel=25 mg;75 mg;150 mg", "I", "0.3 g O"),
    ("N04BA02", "lévodopa et inhibiteur de la décarboxylase", "levodopa and decarboxylase inhibitor", "LÉVODOPA+CARBIDOPA", "cps=100 mg+10 mg;250 mg+25 mg", "I", "0.6 g O"),
    ("N05AH04", "quétiapine", "quetiapine", "QUÉTIAPINE", "cplp=50 mg;300 mg", "I", "0.4 g O"),
    ("N05AX08", "rispéridone", "risperidone", "RISPÉRIDONE", "cpp=1 mg;2 mg", "I", "5 mg O"),
    ("N05BA12", "alprazolam", "alprazolam", "ALPRAZOLAM", "cps=0,25 mg;0,5 mg", "I", "1 mg O"),
    ("N05CF01", "zopiclone", "zopiclone", "ZOPICLONE", "cpps=7,5 mg", "I", "7.5 mg O"),
    ("N06AB06", "sertraline", "sertraline", "SERTRALINE", "gel=25 mg;50 mg", "I", "50 mg O"),
    ("N06AB10", "escitalopram", "escitalopram", "ESCITALOPRAM", "cpps=5 mg;10 mg;20 mg", "I", "10 mg O"),
    ("N06AX16", "venlafaxine", "venlafaxine", "VENLAFAXINE", "gellp=37,5 mg;75 mg", "I", "0.1 g O"),
    ("N06DA02", "donépézil", "donepezil", "DONÉPÉZIL", "cpp=5 mg;10 mg", "I", "7.5 mg O"),
    ("N07BA01", "nicotine", "nicotine", "NICOTINE", "td=7 mg/24 h;14 mg/24 h;21 mg/24 h", "", "14 mg TD"),
    ("P01AB01", "métronidazole", "metronidazole", "MÉTRONIDAZOLE", "cpp=250 mg;500 mg", "I", "2 g O|1.5 g P"),
    ("P01BA02", "hydroxychloroquine", "hydroxychloroquine", "HYDROXYCHLOROQUINE", "cpp=200 mg", "I", "0.516 g O"),
    ("P02CA03", "albendazole", "albendazole", "ALBENDAZOLE", "cpp=400 mg", "", "0.4 g O"),
    ("P02CF01", "ivermectine", "ivermectin", "IVERMECTINE", "cp=3 mg", "I", "12 mg O"),
    ("R01AD09", "mométasone", "mometasone", "MOMÉTASONE", "nas=50 µg/pulvérisation", "I", "0.2 mg N"),
    ("R03AC02", "salbutamol", "salbutamol", "SALBUTAMOL", "inh=100 µg/dose", "I", "0.8 mg Inhal|12 mg O"),
    ("R03DC03", "montélukast", "montelukast", "MONTÉLUKAST", "cpp=10 mg|cpm=4 mg;5 mg", "I", "10 mg O"),
    ("R05CB01", "acétylcystéine", "acetylcysteine", "ACÉTYLCYSTÉINE", "sach=200 mg", "", "0.5 g O"),
    ("R06AE07", "cétirizine", "cetirizine", "CÉTIRIZINE", "cpps=10 mg", "", "10 mg O"),
    ("R06AX27", "desloratadine", "desloratadine", "DESLORATADINE", "cpp=5 mg", "II", "5 mg O"),
    ("S01ED01", "timolol", "timolol", "TIMOLOL", "coll=0,25 %;0,5 %", "I", ""),
    ("S01EE01", "latanoprost", "latanoprost", "LATANOPROST", "coll=0,005 %", "I", ""),
    ("V03AB15", "naloxone", "naloxone", "NALOXONE", "inj=0,4 mg/ml", "I", ""),
)
# Salt or hydrate declared as active substance (SA), with the base-to-salt mass
# factor; the base is then written as therapeutic fraction (FT).
SALTS = {
    "PANTOPRAZOLE": ("PANTOPRAZOLE SODIQUE SESQUIHYDRATÉ", 1.128),
    "ÉSOMÉPRAZOLE": ("ÉSOMÉPRAZOLE MAGNÉSIQUE TRIHYDRATÉ", 1.112),
    "MÉTOCLOPRAMIDE": ("CHLORHYDRATE DE MÉTOCLOPRAMIDE", 1.122),
    "METFORMINE": ("CHLORHYDRATE DE METFORMINE", 1.282),
    "SITAGLIPTINE": ("PHOSPHATE DE SITAGLIPTINE MONOHYDRATÉ", 1.285),
    "CLOPIDOGREL": ("HYDROGÉNOSULFATE DE CLOPIDOGREL", 1.305),
    "AMLODIPINE": ("BÉSILATE D’AMLODIPINE", 1.387),
    "ATORVASTATINE": ("ATORVASTATINE CALCIQUE TRIHYDRATÉE", 1.082),
    "ROSUVASTATINE": ("ROSUVASTATINE CALCIQUE", 1.04),
    "AMOXICILLINE": ("AMOXICILLINE TRIHYDRATÉE", 1.148),
    "ACIDE CLAVULANIQUE": ("CLAVULANATE DE POTASSIUM", 1.191),
    "AZITHROMYCINE": ("AZITHROMYCINE DIHYDRATÉE", 1.048),
    "CIPROFLOXACINE": ("CHLORHYDRATE DE CIPROFLOXACINE MONOHYDRATÉ", 1.164),
    "CEFTRIAXONE": ("CEFTRIAXONE SODIQUE", 1.193),
    "IMATINIB": ("MÉSILATE D'IMATINIB", 1.195),
    "TAMOXIFÈNE": ("CITRATE DE TAMOXIFÈNE", 1.517),
    "NAPROXÈNE": ("NAPROXÈNE SODIQUE", 1.096),
    "ACIDE ALENDRONIQUE": ("ALENDRONATE MONOSODIQUE TRIHYDRATÉ", 1.306),
    "CODÉINE": ("PHOSPHATE DE CODÉINE HÉMIHYDRATÉ", 1.33),
    "MORPHINE": ("SULFATE DE MORPHINE PENTAHYDRATÉ", 1.33),
    "SUMATRIPTAN": ("SUCCINATE DE SUMATRIPTAN", 1.4),
    "ACIDE VALPROÏQUE": ("VALPROATE DE SODIUM", 1.153),
    "QUÉTIAPINE": ("FUMARATE DE QUÉTIAPINE", 1.151),
    "ESCITALOPRAM": ("OXALATE D'ESCITALOPRAM", 1.277),
    "SERTRALINE": ("CHLORHYDRATE DE SERTRALINE", 1.119),
    "VENLAFAXINE": ("CHLORHYDRATE DE VENLAFAXINE", 1.131),
    "SILDÉNAFIL": ("CITRATE DE SILDÉNAFIL", 1.405),
    "SALBUTAMOL": ("SULFATE DE SALBUTAMOL", 1.2),
    "MONTÉLUKAST": ("MONTÉLUKAST SODIQUE", 1.04),
    "MOMÉTASONE": ("FUROATE DE MOMÉTASONE MONOHYDRATÉ", 1.38),
    "TIMOLOL": ("MALÉATE DE TIMOLOL", 1.367),
    "NALOXONE": ("CHLORHYDRATE DE NALOXONE DIHYDRATÉ", 1.21),
}
EXPENSIVE = {"L01EA01": 40.0, "L04AB04": 480.0, "B01AF01": 2.4}  # price per unit, euros
CENTRALISED = ("A10BH01", "A10BD07", "B01AF01", "B01AF02", "L01EA01", "L04AB04", "N03AX14", "R06AX27")
NO_GENERICS = ("L04AB04", "A10BD07", "N07BA01", "R01AD09")
CONDITIONS = {
    "I": "liste I", "II": "liste II", "S": "stupéfiant",
    "S28": "prescription limitée à 28 jours",
    "H": "réservé à l'usage HOSPITALIER",
    "PH": "prescription hospitalière",
    "PIH": "prescription initiale hospitalière annuelle",
    "ONCO": "prescription réservée aux spécialistes et services ONCOLOGIE MEDICALE",
    "SP": "médicament nécessitant une surveillance particulière pendant le traitement",
}
RATE_BY_SMR = {"Important": "65%", "Modéré": "30%", "Faible": "15%", "Insuffisant": ""}
ASMR_WORDS = {
    "V": "n’apporte pas d’amélioration du service médical rendu",
    "IV": "apporte une amélioration du service médical rendu mineure",
    "III": "apporte une amélioration du service médical rendu modérée",
    "II": "apporte une amélioration du service médical rendu importante",
    "I": "apporte une amélioration du service médical rendu majeure",
}
DISPO_LABELS = {1: "Rupture de stock", 2: "Tension d'approvisionnement", 3: "Arrêt de commercialisation", 4: "Remise à disposition"}
INFO_MESSAGES = (  # (ATC, start, end, title)
    ("N03AG01", "2025-03-10", "2026-03-10", "Valproate : rappel des conditions de prescription et de délivrance"),
    ("L01BA01", "2025-05-02", "2025-11-02", "Méthotrexate par voie orale : une prise par semaine, pas par jour"),
    ("N02AA01", "2025-09-15", "2026-09-15", "Opioïdes : risque de dépendance, de mésusage et de surdosage"),
    ("J01MA02", "2025-11-20", "2026-05-20", "Fluoroquinolones : restriction d’utilisation et effets indésirables"),
    ("C01BD01", "2024-12-01", "2025-06-01", "Amiodarone : surveillance de la fonction thyroïdienne"),
    ("B01AF01", "2026-01-05", "2026-07-05", "Anticoagulants oraux directs : adaptation de la dose chez l’insuffisant rénal"),
)
PROCEDURES_GENERIC = ("Procédure décentralisée", "Procédure décentralisée", "Procédure nationale",
                      "Procédure de reconnaissance mutuelle")
FULL_RATE = ("L01EA01", "L04AB04")  # reimbursed at 100 %
REIMBURSEMENT_NOTE = ("Ce médicament est remboursable uniquement dans l’indication suivante :<br>"
                      "- traitement de seconde intention, après échec des alternatives.<br>")
ANSM_DISPO_URL = "https://ansm.sante.fr/disponibilites-des-produits-de-sante/medicaments/"
ANSM_INFO_URL = "https://ansm.sante.fr/informations-de-securite/"
HAS_URL = "https://www.has-sante.fr/jcms/"
BDPM_URL = "https://base-donnees-publique.medicaments.gouv.fr/extrait.php?specid="
STRIP_ACCENTS = str.maketrans("ÉÈÊËÀÂÎÏÔÖÙÛÜÇ", "EEEEAAIIOOUUUC")


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
                    generic = self.new_spec(product, name, form_key, strength, [holder], False,
                                            rand_date(rng, earliest, date(2024, 6, 30)))
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
            out.append([
                spec.cis, cip7, template.format(n=n),
                "Présentation active" if active else "Présentation abrogée",
                "Déclaration de commercialisation" if active and spec.marketed
                else "Déclaration d'arrêt de commercialisation",
                fr_date(decl), ean13("34009" + cip7), collectivites, rate, *prices, indication,
            ])
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
        stable = [s for s in self.specs if s.first == 0 and s.last == len(DEMO_SNAPSHOTS) - 1
                  and s.marketed and s.status == "Autorisation active"]
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

    def dispo_rows(self, snap: int) -> list[list[str]]:
        """CIS_CIP_Dispo_Spec rows as published on the snapshot date."""
        today, rows = self.snap_dates[snap], []
        for ep in self.episodes:
            start, end, remise = ep.changes[0][0], ep.end, ""
            if start > today:
                continue
            if end and end <= today:
                if (today - end).days > 100:  # old "remise à disposition" lines drop out
                    continue
                code, updated, remise = 4, end, fr_date(end)
            else:
                code = [c for d, c in ep.changes if d <= today][-1]
                if code == 3 and (today - start).days > 400:
                    continue
                updated = max(d for d in [d for d, _ in ep.changes] + ep.touches if d <= today)
                if ep.forecast and end:
                    remise = fr_date(end)
            label = DISPO_LABELS[code].lower() if ep.lower else DISPO_LABELS[code]
            rows.append([ep.spec.cis, ep.cip13, str(code), label, fr_date(start), fr_date(updated), remise,
                         ANSM_DISPO_URL + slug(ep.spec.name)])
        return rows

    # --- rows per file ------------------------------------------------------------
    def cis_rows(self, snap: int, specs: list[Spec]) -> list[list[str]]:
        shortage = {r[0] for r in self.dispo_rows(snap) if r[2] == "1"}
        return [[s.cis, s.name, FORMS[s.form][0], FORMS[s.form][3], s.status, s.procedure,
                 "Commercialisée" if s.marketed else "Non commercialisée", fr_date(s.amm),
                 "Warning disponibilité" if s.cis in shortage and not s.bdm else s.bdm,
                 s.eu_number, " " + "; ".join(s.holders), "Oui" if s.reinforced else "Non"]
                for s in specs]

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
                    if value == "Insuffisant" else "dans les indications de l’AMM.")
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
            "CIS_GENER_bdpm.txt": [[str(s.group[0]), s.group[1], s.cis, str(0 if s.princeps else s.group_type),
                                    str(s.tri)] for s in grouped],
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
        files.update({
            "CIS_CPD_bdpm.txt": [[s.cis, CONDITIONS[c]] for s in specs for c in s.product.conditions],
            "CIS_HAS_SMR_bdpm.txt": smr,
            "CIS_HAS_ASMR_bdpm.txt": asmr,
            "HAS_LiensPageCT_bdpm.txt": links,
            "CIS_MITM.txt": [[s.cis, s.product.atc, s.name, BDPM_URL + s.cis] for s in specs
                             if s.product.atc in mitm and s.status == "Autorisation active"],
            "CIS_InfoImportantes.txt": info,
        })
        return files


# --- writing --------------------------------------------------------------------
def write_table(path: Path, rows: list[list[str]], encoding: str = "cp1252", eol: str = "\r\n",
                trailing_tab: bool = False) -> None:
    lines = ["\t".join(row) + ("\t" if trailing_tab else "") for row in rows]
    path.write_bytes((eol.join(lines) + eol).encode(encoding))


def malformed_lines(gen: Generator) -> tuple[list[str], list[str]]:
    """The two deliberately broken CIS_bdpm lines (see DEMO_MALFORMED)."""
    truncated = [gen.new_cis(), "FICTAMOL 20 mg, comprimé", "comprimé", "orale"]
    bad_cis = ["6A123456", "ERRADEMO 10 mg, gélule", "gélule", "orale", "Autorisation active", "Procédure nationale",
               "Commercialisée", "01/02/2003", "", "", " LABORATOIRES DEMOPHARMA", "Non"]
    return truncated, bad_cis


def write_atc(out_dir: Path, gen: Generator) -> dict[str, int]:
    atc_dir = out_dir / "atc"
    atc_dir.mkdir(parents=True, exist_ok=True)
    names = {code: fr for code, (fr, _) in ATC_GROUPS.items()}
    names.update({p.atc: p.label_fr for p in gen.products})
    names = dict(sorted(names.items()))
    (atc_dir / "atc_names_fr.json").write_text(json.dumps(names, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    rows = [(code, en, "NA", "NA", "NA", "NA") for code, (_, en) in ATC_GROUPS.items()]
    entries = [(p.atc, p.label_en, p.ddd) for p in gen.products]
    entries += [(code, en, [tuple(d.split()) for d in ddd.split("|")] if ddd else []) for code, en, ddd in WHO_ONLY]
    seen: set[str] = set()
    for code, en, ddds in entries:
        if code not in seen:
            seen.add(code)
            rows += [(code, en, *d, "NA") for d in ddds] or [(code, en, "NA", "NA", "NA", "NA")]
    rows.sort(key=lambda r: r[0])  # stable: a code's routes keep their order
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("atc_code", "atc_name", "ddd", "uom", "adm_r", "note"))
    writer.writerows(rows)
    (atc_dir / WHO_CSV_NAME).write_text(buffer.getvalue(), encoding="utf-8")
    return {"atc/atc_names_fr.json": len(names), f"atc/{WHO_CSV_NAME}": len(rows)}


# --- shortage signals per ATC class and year (ANSM / EIG DataMed, 2014-2020) -------
CLASS_YEARS = tuple(range(2014, 2021))
# Labels as the source writes them: mostly level-2 French labels, a few level-1
# ones, code-like labels typed with the letter O for a zero, one unknown label.
CLASS_ODD_LABELS = ("NO2", "JO1", "Divers médicaments non classés")
DEMO_CLASS_UNMAPPED = ("Divers médicaments non classés",)


def write_class_history(out_dir: Path, gen: Generator, seed: int) -> dict[str, int]:
    rng = random.Random(seed + 7)
    level2 = sorted({p.atc[:3] for p in gen.products})
    labels = [ATC_GROUPS[code][0] for code in level2 if code in ATC_GROUPS][:25]
    labels += [ATC_GROUPS[code][0] for code in ("N", "C") if code in ATC_GROUPS] + list(CLASS_ODD_LABELS)
    data: dict[str, dict[str, int]] = {}
    base = {label: rng.randint(2, 60) for label in labels}
    for i, year in enumerate(CLASS_YEARS):
        growth = 1 + 0.25 * i  # signals rose over the period, as they did in reality
        data[str(year)] = {label: max(1, int(base[label] * growth * rng.uniform(0.7, 1.3))) for label in labels}
    folder = out_dir / "ansm_datamed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ruptures_by_atc_by_annee.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {"ansm_datamed/ruptures_by_atc_by_annee.json": sum(len(v) for v in data.values())}


# --- pharmacovigilance (ANSM 2014-2018 aggregates) and MedDRA organ classes -------
# Share of a substance's cases with at least one effect in the class (before the
# ATC adjustments below): digestive, skin, general and nervous effects dominate.
SOC_BASE_RATE = {
    "10017947": 0.30, "10040785": 0.28, "10018065": 0.25, "10029205": 0.22, "10037175": 0.10,
    "10022891": 0.10, "10022117": 0.08, "10019805": 0.06, "10005329": 0.06, "10038738": 0.06,
    "10028395": 0.06, "10047065": 0.05, "10007541": 0.05, "10027433": 0.05, "10038359": 0.05,
    "10021428": 0.05, "10015919": 0.03, "10021881": 0.03, "10013993": 0.02, "10038604": 0.02,
    "10014698": 0.015, "10036585": 0.01, "10029104": 0.01, "10077536": 0.01, "10010331": 0.005,
    "10041244": 0.005, "10042613": 0.005,
}  # fmt: skip
SOC_BY_ATC = {  # ATC prefix -> {SOC code: multiplier}
    "A10": {"10027433": 4}, "B01": {"10005329": 4, "10047065": 3, "10017947": 1.5},
    "C": {"10007541": 4, "10047065": 3, "10027433": 2, "10038359": 2},
    "G": {"10038604": 5}, "H": {"10014698": 5, "10027433": 2},
    "J": {"10040785": 1.5, "10021881": 2, "10019805": 1.5},
    "L": {"10005329": 4, "10021881": 3, "10029104": 5}, "M": {"10028395": 2, "10017947": 1.5, "10038359": 1.5},
    "N": {"10037175": 3, "10029205": 2}, "P": {"10029205": 1.5}, "R": {"10038738": 3}, "S": {"10015919": 10},
}  # fmt: skip
NOT_A_SOC = "Affections dentaires et gingivales"  # a MedDRA HLGT, not a SOC
# (MEDICAMENT as the ANSM writes it, demo BDPM substance it stands for, ATC if not in PRODUCTS).
# 43 are the COMPO name without accents, 14 put the salt in brackets after the base,
# 7 carry a hydrate, 3 write an acid or a biological the ANSM way, and 3 withdrawn
# INNs match nothing in the demo BDPM.
PV_SUBSTANCES: tuple[tuple[str, str, str], ...] = (
    ("OMEPRAZOLE", "OMÉPRAZOLE", ""), ("LOPERAMIDE", "LOPÉRAMIDE", ""), ("GLICLAZIDE", "GLICLAZIDE", ""),
    ("ENOXAPARINE SODIQUE", "ÉNOXAPARINE SODIQUE", ""), ("RIVAROXABAN", "RIVAROXABAN", ""),
    ("APIXABAN", "APIXABAN", ""), ("DIGOXINE", "DIGOXINE", ""), ("AMIODARONE", "AMIODARONE", ""),
    ("FUROSEMIDE", "FUROSÉMIDE", ""), ("BISOPROLOL", "BISOPROLOL", ""), ("RAMIPRIL", "RAMIPRIL", ""),
    ("LOSARTAN", "LOSARTAN", ""), ("VALSARTAN", "VALSARTAN", ""), ("HYDROCHLOROTHIAZIDE", "HYDROCHLOROTHIAZIDE", ""),
    ("SIMVASTATINE", "SIMVASTATINE", ""), ("LEVONORGESTREL", "LÉVONORGESTREL", ""),
    ("ETHINYLESTRADIOL", "ÉTHINYLESTRADIOL", ""), ("TAMSULOSINE", "TAMSULOSINE", ""),
    ("PREDNISOLONE", "PREDNISOLONE", ""), ("PREDNISONE", "PREDNISONE", ""),
    ("LEVOTHYROXINE SODIQUE", "LÉVOTHYROXINE SODIQUE", ""), ("CEFTRIAXONE", "CEFTRIAXONE", ""),
    ("SULFAMETHOXAZOLE", "SULFAMÉTHOXAZOLE", ""), ("TRIMETHOPRIME", "TRIMÉTHOPRIME", ""),
    ("FLUCONAZOLE", "FLUCONAZOLE", ""), ("ACICLOVIR", "ACICLOVIR", ""), ("METHOTREXATE", "MÉTHOTREXATE", ""),
    ("LETROZOLE", "LÉTROZOLE", ""), ("DICLOFENAC", "DICLOFÉNAC", ""), ("IBUPROFENE", "IBUPROFÈNE", ""),
    ("CELECOXIB", "CÉLÉCOXIB", ""), ("ALLOPURINOL", "ALLOPURINOL", ""), ("COLCHICINE", "COLCHICINE", ""),
    ("PARACETAMOL", "PARACÉTAMOL", ""), ("TRAMADOL", "TRAMADOL", ""), ("LAMOTRIGINE", "LAMOTRIGINE", ""),
    ("LEVETIRACETAM", "LÉVÉTIRACÉTAM", ""), ("PREGABALINE", "PRÉGABALINE", ""),
    ("RISPERIDONE", "RISPÉRIDONE", ""), ("ZOPICLONE", "ZOPICLONE", ""), ("METRONIDAZOLE", "MÉTRONIDAZOLE", ""),
    ("HYDROXYCHLOROQUINE", "HYDROXYCHLOROQUINE", ""), ("VALPROATE DE SODIUM", "ACIDE VALPROÏQUE", ""),
    # salt in brackets, in reversed order
    ("METOCLOPRAMIDE (CHLORHYDRATE DE)", "MÉTOCLOPRAMIDE", ""), ("METFORMINE (CHLORHYDRATE DE)", "METFORMINE", ""),
    ("CLOPIDOGREL (HYDROGENOSULFATE DE)", "CLOPIDOGREL", ""), ("AMLODIPINE (BESILATE D')", "AMLODIPINE", ""),
    ("SILDENAFIL (CITRATE DE)", "SILDÉNAFIL", ""),
    ("CIPROFLOXACINE (CHLORHYDRATE DE) MONOHYDRATE", "CIPROFLOXACINE", ""),
    ("IMATINIB (MESILATE D')", "IMATINIB", ""), ("TAMOXIFENE (CITRATE DE)", "TAMOXIFÈNE", ""),
    ("MORPHINE (SULFATE DE) PENTAHYDRATE", "MORPHINE", ""), ("QUETIAPINE (FUMARATE DE)", "QUÉTIAPINE", ""),
    ("SERTRALINE (CHLORHYDRATE DE)", "SERTRALINE", ""), ("ESCITALOPRAM (OXALATE D')", "ESCITALOPRAM", ""),
    ("VENLAFAXINE (CHLORHYDRATE DE)", "VENLAFAXINE", ""), ("SALBUTAMOL (SULFATE DE)", "SALBUTAMOL", ""),
    # hydrates
    ("AMOXICILLINE TRIHYDRATEE", "AMOXICILLINE", ""), ("AZITHROMYCINE DIHYDRATEE", "AZITHROMYCINE", ""),
    ("ATORVASTATINE CALCIQUE TRIHYDRATEE", "ATORVASTATINE", ""),
    ("ESOMEPRAZOLE MAGNESIQUE TRIHYDRATE", "ÉSOMÉPRAZOLE", ""),
    ("PANTOPRAZOLE SODIQUE SESQUIHYDRATE", "PANTOPRAZOLE", ""),
    ("ALENDRONATE MONOSODIQUE TRIHYDRATE", "ACIDE ALENDRONIQUE", ""),
    ("NITROFURANTOINE MONOHYDRATEE", "NITROFURANTOÏNE", ""),  # hydrate not in the demo COMPO
    # acid and biological written the ANSM way
    ("ACETYLSALICYLIQUE (ACIDE)", "ACIDE ACÉTYLSALICYLIQUE", ""), ("FOLIQUE (ACIDE)", "ACIDE FOLIQUE", ""),
    ("ADALIMUMAB (MAMMIFERE/HAMSTER/CHO)", "ADALIMUMAB", ""),
    # withdrawn INNs, in no demo BDPM file
    ("DEXTROPROPOXYPHENE", "", "N02AC04"), ("TETRAZEPAM", "", "M03BX07"), ("BENFLUOREX (CHLORHYDRATE DE)", "", "A10BX06"),
)  # fmt: skip
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


def soc_rows(rng: random.Random, name: str, total: int, strata: list[tuple[object, int]], key: str,
             rates: dict[str, float]) -> list[dict]:
    """Soclong records of one substance: per stratum and SOC, the cases with an effect there."""
    rows = []
    for code, en, fr in MEDDRA_SOC:
        if code not in rates:
            continue
        for stratum, cases in strata:
            n = draw_binomial(rng, cases, rates[code])
            if n >= PV_SOC_MIN:
                rows.append({"MEDICAMENT": name, key: stratum, "SOC_LONG": fr, "n_decla_eff": n, "n_cas": total,
                             "pour_cas_soclong": round(100 * n / total, 10)})
    return rows


def notif_rows(rng: random.Random, name: str, strata: list[tuple[object, int]], key: str) -> list[dict]:
    """Notifier records: the ANSM grouped by count, so TYP_NOTIF holds the count itself."""
    rows = []
    for stratum, cases in strata:
        small = cases if cases < 10 else (0 if cases == 10 or rng.random() < 0.2 else rng.randint(1, min(9, cases - 10)))
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
    tables: dict[str, list] = {k: [] for k in ("annee", "age", "sexe", "soclong_age", "soclong_sexe",
                                                "notif_age", "notif_sexe")}
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
        conso_y = [min(2_000_000, max(200, int(exposure * (1 + e_trend * (y - 2016)) * rng.uniform(0.95, 1.05))))
                   for y in PV_YEARS]
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
        tables["annee"] += [{"MEDICAMENT": name, "ANNEE": y, "n_cas": c, "n_conso": e}
                            for y, c, e in zip(PV_YEARS, cases_y, conso_y)]
        tables["age"] += [{"MEDICAMENT": name, "AGE": a, "n_cas": c, "n_conso": e}
                          for a, c, e in zip(PV_AGE_LABELS, cases_a, conso_a)]
        tables["sexe"] += [{"MEDICAMENT": name, "SEXE": s, "n_cas": c, "n_conso": e}
                           for s, c, e in zip(PV_SEX_LABELS, cases_s, conso_s)]
        if total:
            tables["soclong_age"] += soc_rows(rng, name, total, age_strata, "AGE", rates)
            tables["soclong_sexe"] += soc_rows(rng, name, total, sex_strata, "SEXE", rates)
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
        record = {"MEDICAMENT": name, "ANNEE": PV_YEARS[k], "n_cas": -max(1, yearly[i][0][k]), "n_conso": yearly[i][1][k]}
        if bad == "missing":
            del record["n_cas"]
        annee.insert(at, record)
    name, total = PV_SUBSTANCES[big[0]][0], totals[big[0]]
    age = max(zip(by_age[big[0]], PV_AGE_CODES))[1]  # its largest age class
    soc = tables["soclong_age"]
    at = max(j for j, r in enumerate(soc) if r["MEDICAMENT"] == name) + 1
    soc.insert(at, {"MEDICAMENT": name, "AGE": age, "SOC_LONG": NOT_A_SOC, "n_decla_eff": 12, "n_cas": total,
                    "pour_cas_soclong": round(100 * 12 / total, 10)})
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
  `prod_data_annee.csv` par produit). Les **nombres de cas et de patients exposés
  sont inventés**. Comme dans les fichiers réels : lignes soclong de moins de 10 cas
  absentes, colonne TYP_NOTIF égale au nombre de déclarations, quelques cellules avec
  plus de cas que d'exposés, quelques noms de substance sans correspondance dans la
  BDPM, et trois enregistrements volontairement invalides.

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
    ``meddra/meddra_soc.csv``, ``ansm_pharmacovigilance/``, ``demo.json``,
    ``README.md``) are replaced; anything else is left alone.
    """
    out_dir = Path(out_dir)
    gen = Generator(seed)
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
                rows = rows[:40] + [truncated] + rows[40:150] + [bad_cis] + rows[150:]
            if filename == "CIS_CPD_bdpm.txt":  # two stray lines made of a lone "\r"
                rows = rows[:25] + [["\r"]] + rows[25:100] + [["\r"]] + rows[100:]
            if filename == "CIS_CIP_bdpm.txt" and snap == newest:
                options.update(encoding="utf-8", eol="\n")
            if filename == "HAS_LiensPageCT_bdpm.txt":
                options.update(encoding="ascii")
            write_table(folder / filename, rows, **options)
            summary[f"bdpm/{name}/{filename}"] = sum(1 for r in rows if r != ["\r"])
    summary.update(write_atc(out_dir, gen))
    summary.update(write_meddra(out_dir))
    summary.update(write_pharmacovigilance(out_dir, gen, seed))
    summary.update(write_class_history(out_dir, gen, seed))
    from datamed.demo.sites import write_demo_sites

    summary.update(write_demo_sites(out_dir, seed))
    meta = {"demo": True, "generator": "datamed.demo", "seed": seed, "snapshots": list(DEMO_SNAPSHOTS),
            "description": "Données de démonstration synthétiques au format BDPM : substances et codes ATC réels, "
                           "noms de marque, titulaires, prix et ruptures fictifs. Ne pas utiliser pour un usage réel."}
    (out_dir / "demo.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(README, encoding="utf-8")
    return summary


