"""Reject and correction reasons in French, for display.

The pipeline writes its reasons in English (the CLI, the logs and the ``rejets``
dataset keep them as written); the Données page shows them in French through
``reason_fr``. Every template the readers and steps write has a rule here; a
test checks that every reason of the real and demo builds finds one. A reason
that matches none is shown as a generic French sentence, never in English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

UNKNOWN_FR = "ligne non conforme au format attendu (détail technique dans le fichier des rejets)"

_STATUS_FR = {
    "absent": "absentes",
    "invalid": "invalides",
    "out of range": "hors limites",
    "outside France": "hors de France",
}
_KIND_FR = {
    "date": "date",
    "int": "nombre entier",
    "float": "nombre",
    "euros": "montant en euros",
    "oui_non": "oui/non",
}


def _q(text: str) -> str:
    """'abc' (a Python repr) -> « abc »."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return f"« {text} »"


_RULES: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"corrected \(row kept\): (.+)", re.S), lambda m: "corrigée, ligne gardée : " + _parts(m.group(1))),
    (
        re.compile(r"cases greater than exposure: exposure set to missing for this cell, cases kept"),
        lambda m: (
            "plus de cas que de consommants : le nombre de consommants de cette case est mis à vide, les cas gardés"
        ),
    ),
    (re.compile(r"n_decla_eff greater than n_cas"), lambda m: "plus de déclarations d'effets que de cas"),
    (
        re.compile(
            r"source coordinates \((.*?)\) are (\d+) km from the centroid of (.+?) \((\w+)\): replaced by the centroid \((.*)\)"
        ),
        lambda m: (
            f"coordonnées de la source ({m[1]}) à {m[2]} km du centre de {m[3]} ({m[4]}) : remplacées par ce centre ({m[5]})"
        ),
    ),
    (
        re.compile(
            r"source coordinates (absent|invalid|out of range|outside France) \((.*?)\): discarded, placed by (.*)"
        ),
        lambda m: f"coordonnées de la source {_STATUS_FR[m[1]]} ({m[2]}) : écartées, site placé par {m[3]}",
    ),
    (
        re.compile(r"latitude and longitude swapped in the source \((.*?)\): corrected"),
        lambda m: f"latitude et longitude inversées dans la source ({m[1]}) : corrigées",
    ),
    (
        re.compile(r"malformed postal code ('.*?'|\".*?\"): (.+)"),
        lambda m: f"code postal mal formé {_q(m[1])} : {_parts(m[2])}",
    ),
    (re.compile(r"malformed postal code ('.*?'|\".*?\")"), lambda m: f"code postal mal formé {_q(m[1])}"),
    (re.compile(r"commune not found"), lambda m: "commune introuvable"),
    (re.compile(r"commune ('.*?'|\".*?\") not found"), lambda m: f"commune {_q(m[1])} introuvable"),
    (re.compile(r"(.+?) found by (.+)"), lambda m: f"{m[1]} trouvée par {m[2]}"),
    (
        re.compile(r"no coordinates for (.+?) \((\w*)\) in La Poste's file"),
        lambda m: f"pas de coordonnées pour {m[1]} ({m[2]}) dans le fichier de La Poste",
    ),
    (re.compile(r"no source coordinates"), lambda m: "pas de coordonnées dans la source"),
    (
        re.compile(r"expected (\d+) tab-separated fields, found (\d+)"),
        lambda m: f"{m[2]} champs séparés par des tabulations au lieu de {m[1]}",
    ),
    (re.compile(r"expected (\d+) fields, found (\d+)"), lambda m: f"{m[2]} champs au lieu de {m[1]}"),
    (re.compile(r"invalid code (.+?) in column (\w+)"), lambda m: f"code invalide {_q(m[1])} dans la colonne {m[2]}"),
    (
        re.compile(r"unparseable date (.+?) in column (\w+)"),
        lambda m: f"date illisible {_q(m[1])} dans la colonne {m[2]}",
    ),
    (
        re.compile(r"unparseable (\w+) (.+?) in column (\w+)"),
        lambda m: f"valeur illisible ({_KIND_FR.get(m[1], m[1])}) {_q(m[2])} dans la colonne {m[3]}",
    ),
    (
        re.compile(r"start date after the snapshot date \(in the future\)"),
        lambda m: "date de début postérieure à la date du fichier (dans le futur)",
    ),
    (
        re.compile(r"update date after the snapshot date \(in the future\)"),
        lambda m: "date de mise à jour postérieure à la date du fichier (dans le futur)",
    ),
    (re.compile(r"unknown SOC (.+)"), lambda m: f"classe d'organes (SOC) inconnue {_q(m[1])}"),
    (re.compile(r"unknown age class (.+)"), lambda m: f"classe d'âge inconnue {_q(m[1])}"),
    (re.compile(r"unknown sex (.+)"), lambda m: f"sexe inconnu {_q(m[1])}"),
    (re.compile(r"not a stratum field: (.+)"), lambda m: f"champ de strate inconnu {_q(m[1])}"),
    (re.compile(r"implausible year (.+)"), lambda m: f"année invraisemblable {m[1]}"),
    (re.compile(r"missing MEDICAMENT"), lambda m: "nom du médicament (MEDICAMENT) manquant"),
    (re.compile(r"(\w+) missing"), lambda m: f"{m[1]} manquant"),
    (re.compile(r"(\w+) negative"), lambda m: f"{m[1]} négatif"),
    (re.compile(r"(\w+) not an integer"), lambda m: f"{m[1]} n'est pas un nombre entier"),
    (re.compile(r"unknown kind \((\w+) (.+)\)"), lambda m: f"type de site inconnu ({m[1]} {_q(m[2])})"),
    (re.compile(r"invalid FINESS number (.+)"), lambda m: f"numéro FINESS invalide {_q(m[1])}"),
    (re.compile(r"duplicate FINESS number (.+)"), lambda m: f"numéro FINESS en double {m[1]}"),
    (re.compile(r"missing identifiant_irep"), lambda m: "identifiant IREP manquant"),
    (re.compile(r"duplicate identifiant_irep (.+)"), lambda m: f"identifiant IREP en double {m[1]}"),
    (re.compile(r"invalid INSEE or postal code"), lambda m: "code INSEE ou code postal invalide"),
    (re.compile(r"invalid ATC code or (?:empty label|missing name)"), lambda m: "code ATC invalide ou libellé vide"),
    (re.compile(r"invalid or duplicate country row"), lambda m: "ligne de pays invalide ou en double"),
    (re.compile(r"invalid country_iso3 (.+)"), lambda m: f"code pays ISO 3166 invalide {_q(m[1])}"),
    (
        re.compile(r"country (\w+) of the world file is missing here"),
        lambda m: f"le pays {m[1]} du fichier mondial manque ici",
    ),
    (re.compile(r"country absent from the world file"), lambda m: "pays absent du fichier mondial"),
    (
        re.compile(r"feature without a département code or a polygon"),
        lambda m: "contour sans code de département ou sans polygone",
    ),
    (
        re.compile(r"year (.+?): expected an object of counts"),
        lambda m: f"année {_q(m[1])} : des comptes étaient attendus",
    ),
    (re.compile(r"invalid year (.+)"), lambda m: f"année invalide {_q(m[1])}"),
    (
        re.compile(r"count is not a non-negative integer: (.+)"),
        lambda m: f"le compte n'est pas un entier positif ou nul : {m[1]}",
    ),
    (re.compile(r"record is not an object"), lambda m: "l'enregistrement n'est pas un objet JSON"),
    (re.compile(r"unreadable CSV record \((.*)\)", re.S), lambda m: "enregistrement CSV illisible"),
    (
        re.compile(r"last line has no line break: the file looks truncated"),
        lambda m: "la dernière ligne n'a pas de fin de ligne : le fichier semble tronqué",
    ),
    (
        re.compile(r"binary content \(NUL byte\): not a BDPM text file"),
        lambda m: "contenu binaire (octet nul) : ce n'est pas un fichier texte de la BDPM",
    ),
    (re.compile(r"the file is empty"), lambda m: "le fichier est vide"),
]


def _match(reason: str) -> str | None:
    for pattern, make in _RULES:
        m = pattern.fullmatch(reason.strip())
        if m:
            return make(m)
    return None


def _parts(text: str) -> str:
    """Several notes joined by '; ', each translated."""
    return " ; ".join(_match(p) or UNKNOWN_FR for p in text.split("; "))


def reason_fr(reason: str | None) -> str:
    """The French of a reject or correction reason (a generic French sentence if unknown)."""
    if not reason:
        return ""
    return _match(reason) or UNKNOWN_FR


def is_translated(reason: str) -> bool:
    """Whether ``reason`` (and each of its parts) has a French rule."""
    out = reason_fr(reason)
    return UNKNOWN_FR not in out
