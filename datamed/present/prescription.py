"""Prescription and dispensing conditions (BDPM ``CIS_CPD``) in plain French.

The BDPM writes them for professionals ("liste I", "prescription initiale hospitalière
semestrielle", "prescription réservée aux spécialistes et services HEMATOLOGIE").
``plain_conditions`` turns each into a sentence a patient understands; a condition no rule
knows is shown as written (first letter capitalised), never dropped. The raw texts stay in
the data and in the page's detailed section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# specialties as the BDPM writes them (upper case, no accents) -> French as it is spelt
_SPECIALTY_WORDS = {
    "ALLERGOLOGIE": "allergologie",
    "ANDROLOGIE": "andrologie",
    "ANESTHESIE-REANIMATION": "anesthésie-réanimation",
    "BIOLOGIE": "biologie",
    "CANCEROLOGIE": "cancérologie",
    "CARDIOLOGIE": "cardiologie",
    "DERMATOLOGIE": "dermatologie",
    "DIABETOLOGIE": "diabétologie",
    "DOULEUR": "douleur",
    "ENDOCRINOLOGIE": "endocrinologie",
    "GERIATRIE": "gériatrie",
    "GYNECOLOGIE": "gynécologie",
    "HEMATOLOGIE": "hématologie",
    "HEPATO/GASTRO-ENTEROLOGIE": "hépato-gastro-entérologie",
    "INFECTIOLOGIE": "infectiologie",
    "INTERNE": "interne",
    "MALADIES": "maladies",
    "MEDECINE": "médecine",
    "MEDICALE": "médicale",
    "METABOLIQUES": "métaboliques",
    "NEPHROLOGIE": "néphrologie",
    "NEUROLOGIE": "neurologie",
    "NEUROPEDIATRIE": "neuropédiatrie",
    "NUTRITION": "nutrition",
    "OBSTETRIQUE": "obstétrique",
    "ONCOLOGIE": "oncologie",
    "OPHTALMOLOGIE": "ophtalmologie",
    "OTO-RHINO-LARYNGOLOGIE": "oto-rhino-laryngologie",
    "PEDIATRIE": "pédiatrie",
    "PNEUMOLOGIE": "pneumologie",
    "PSYCHIATRIE": "psychiatrie",
    "RADIOPHARMACEUTIQUES": "radiopharmaceutiques",
    "REPRODUCTION": "reproduction",
    "RHUMATOLOGIE": "rhumatologie",
    "UROLOGIE": "urologie",
    "URGENCE": "urgence",
    "SANG": "sang",
}
_LINK_WORDS = {"ET", "DE", "LA", "DU", "DES", "D'URGENCE", "-", "EN"}


def specialty_fr(raw: str) -> str:
    """'ONCOLOGIE MEDICALE' -> 'oncologie médicale'; a word it does not know stays as written."""
    out = []
    for word in raw.strip().rstrip(".").split():
        if word in _SPECIALTY_WORDS:
            out.append(_SPECIALTY_WORDS[word])
        elif word == "D'URGENCE":
            out.append("d'urgence")
        elif word in _LINK_WORDS:
            out.append(word.lower())
        else:
            out.append(word)
    return " ".join(out)


_PERIODS = {"annuelle": "chaque année", "semestrielle": "tous les 6 mois", "trimestrielle": "tous les 3 mois"}

_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^liste I$", re.I), "Sur ordonnance (liste I) : délivré seulement pour la durée prescrite."),
    (
        re.compile(r"^liste II$", re.I),
        "Sur ordonnance (liste II) : l'ordonnance peut être renouvelée pendant un an, sauf mention contraire.",
    ),
    (
        re.compile(r"^stupéfiants?$", re.I),
        "Stupéfiant : ordonnance sécurisée, durée de prescription et de délivrance limitée.",
    ),
    (re.compile(r"^(médicament soumis à )?prescription médicale$", re.I), "Sur ordonnance."),
    (
        re.compile(r"^médicament soumis à prescription médicale restreinte$", re.I),
        "Sur ordonnance d'un médecin habilité (prescription restreinte).",
    ),
    (re.compile(r"^prescription hospitalière$", re.I), "Prescrit seulement par un médecin d'un hôpital."),
    (
        re.compile(r"^prescription initiale hospitalière( annuelle| semestrielle| trimestrielle)?$", re.I),
        lambda m: (
            "La première ordonnance"
            + (f" (à refaire {_PERIODS[m.group(1).strip()]})" if m.group(1) else "")
            + " vient d'un médecin d'un hôpital ; votre médecin peut ensuite la renouveler."
        ),
    ),
    (
        re.compile(r"^prescription initiale (annuelle |semestrielle )?réservée à certains spécialistes$", re.I),
        lambda m: (
            "La première ordonnance"
            + (f" (à refaire {_PERIODS[m.group(1).strip()]})" if m.group(1) else "")
            + " vient d'un médecin spécialiste."
        ),
    ),
    (
        re.compile(
            r"^prescription réservée aux (?:spécialistes et services|médecins compétents en|spécialistes en) (.+)$",
            re.I,
        ),
        lambda m: f"Prescrit seulement par un spécialiste ({specialty_fr(m.group(1))}).",
    ),
    (
        re.compile(
            r"^renouvellement de la prescription réservé aux (?:spécialistes en|médecins compétents en) (.+)$", re.I
        ),
        lambda m: f"Seul un spécialiste ({specialty_fr(m.group(1))}) peut renouveler l'ordonnance.",
    ),
    (re.compile(r"^renouvellement non restreint$", re.I), "L'ordonnance peut être renouvelée par tout médecin."),
    (
        re.compile(r"^réservé à l'usage hospitalier$", re.I),
        "Réservé à l'hôpital : il n'est pas délivré en pharmacie de ville.",
    ),
    (
        re.compile(r"^réservé à l'usage professionnel", re.I),
        "Réservé aux professionnels de santé : il n'est pas délivré aux patients.",
    ),
    (
        re.compile(r"^réservé à l'usage en situation d'urgence", re.I),
        "Réservé aux situations d'urgence (services d'urgence, SAMU).",
    ),
    (
        re.compile(r"^prescription limitée à (\d+) (semaines|jours|mois)$", re.I),
        lambda m: f"Une ordonnance vaut au plus {m.group(1)} {m.group(2).lower()}.",
    ),
    (
        re.compile(r"^délivrance fractionnée de (\d+) jours$", re.I),
        lambda m: f"Le pharmacien le délivre par périodes de {m.group(1)} jours au plus.",
    ),
    (
        re.compile(r"^prescription en toutes lettres sur ordonnance sécurisée$", re.I),
        "Ordonnance sécurisée, doses écrites en toutes lettres.",
    ),
    (re.compile(r"^prescription sur ordonnance sécurisée$", re.I), "Ordonnance sécurisée."),
    (
        re.compile(r"^médicament nécessitant une surveillance particulière pendant le traitement$", re.I),
        "Demande une surveillance particulière pendant le traitement (examens, suivi médical).",
    ),
]

_CLASS_RULES = 5  # the first rules of _RULES: the prescription class

#: conditions that mean "on prescription" (the band's headline)
_PRESCRIPTION = re.compile(
    r"^(liste I|liste II|stupéfiants?|prescription|médicament soumis à prescription|renouvellement)", re.I
)
_HOSPITAL = re.compile(r"^réservé à l'usage (hospitalier|professionnel|en situation d'urgence)", re.I)


@dataclass(frozen=True)
class Prescription:
    headline: str  # one short line: on prescription, hospital only, or none published
    lines: tuple[str, ...]  # each condition in plain French, in the source's order, none dropped


def _plain(raw: str) -> tuple[int, str]:
    """(rank of the rule, plain French); an unknown condition ranks last and stays as written."""
    text = " ".join(raw.split())
    for rank, (pattern, plain) in enumerate(_RULES):
        m = pattern.match(text)
        if m:
            return rank, plain(m) if callable(plain) else plain
    return len(_RULES), text[:1].upper() + text[1:]


def plain_condition(raw: str) -> str:
    """One BDPM condition in plain French; as written (capitalised) when no rule knows it."""
    return _plain(raw)[1]


def plain_conditions(conditions: list[str]) -> Prescription:
    """The conditions in plain French, in the source's order but for the prescription class
    (liste I, liste II, stupéfiants, prescription médicale), which comes first. The order of
    the others is kept: a condition ending in ":" introduces the ones after it."""
    plain = [_plain(c) for c in conditions if c and c.strip()]
    ranked = [text for rank, text in plain if rank < _CLASS_RULES] + [
        text for rank, text in plain if rank >= _CLASS_RULES
    ]
    lines = tuple(dict.fromkeys(ranked))
    if any(_HOSPITAL.match(c.strip()) for c in conditions if c):
        headline = "Réservé à l'hôpital ou aux professionnels de santé"
    elif any(_PRESCRIPTION.match(c.strip()) for c in conditions if c):
        headline = "Sur ordonnance"
    elif conditions:
        headline = "Conditions particulières de délivrance"
    else:
        headline = "Aucune ordonnance obligatoire n'est mentionnée dans la base"
    return Prescription(headline, lines)
