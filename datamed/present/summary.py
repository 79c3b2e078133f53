"""The medicine page's "En bref" band: a patient's questions answered first.

What it is, whether it can be had now (and what to take instead), what it costs and how
it is reimbursed, whether it needs a prescription, and where to read the leaflet or report
a side effect. Everything comes from the ``Medicine`` the page already loaded and from the
shortage views; the texts are French and ready to render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from datamed.core import config
from datamed.core.text import fr_date, fr_euro, fr_plural
from datamed.datasets import DS
from datamed.present.prescription import Prescription, plain_conditions
from datamed.store import Store
from datamed.views import shortages
from datamed.views.catalogue import Medicine

#: the national portal for reporting an adverse effect (ministry of health)
REPORT_URL = "https://signalement.social-sante.gouv.fr/"
NOTICE_URL = config.BDPM_BASE_URL + "/affichageDoc.php?specid={cis}&typedoc=N"
RCP_URL = config.BDPM_BASE_URL + "/affichageDoc.php?specid={cis}&typedoc=R"

#: Streamlit colour of each availability kind (the headline's words carry the meaning; the
#: colour and icon only repeat it)
AVAILABILITY_COLOURS = {
    "ok": "green",
    "rupture": "red",
    "tension": "orange",
    "arret": "gray",
    "stopped": "gray",
    "unknown": "gray",
}

MAX_ALTERNATIVES = 3
MAX_PRICES = 6
MARKETED_PRESENTATION = "Déclaration de commercialisation"


@dataclass(frozen=True)
class Availability:
    kind: str  # "ok", "rupture", "tension", "arret", "stopped" (medicine not marketed), "unknown"
    headline: str  # large type: the answer
    detail: str  # one sentence: since when, which boxes, as of which file
    icon: str  # Material icon name (the words carry the meaning; the icon and colour only repeat it)


@dataclass(frozen=True)
class Alternative:
    cis: str
    label: str
    reason: str
    notes: tuple[str, ...]  # what differs: the form, the strength
    same_medicine: bool  # another box of this very medicine (no page to open)


@dataclass(frozen=True)
class Price:
    presentation: str
    price: str  # "2,18 €" or a sentence when there is none
    reimbursement: str  # "Remboursé à 65 %" / "Non remboursé"
    conditions: bool  # reimbursed only in some indications (see the detailed section)


@dataclass(frozen=True)
class Brief:
    substances: tuple[str, ...]  # active substances, in plain lower case
    therapeutic_class: str | None  # the ATC therapeutic group, in French
    atc_code: str | None
    form: str | None
    routes: tuple[str, ...]
    availability: Availability
    alternatives: tuple[Alternative, ...]
    alternatives_total: int
    prices: tuple[Price, ...]
    prices_hidden: int  # marketed presentations not listed in the band
    no_price_reason: str | None  # why no price is shown, when none is
    prescription: Prescription
    links: tuple[tuple[str, str], ...]  # (label, url)


def _substances(store: Store, med: Medicine) -> tuple[str, ...]:
    if med.composition.is_empty():
        return ()
    names = dict(store.table(DS.SUBSTANCES).select("code_substance", "denomination").rows())
    compo = med.composition
    # the therapeutic fraction names what acts ("venlafaxine", not "chlorhydrate de venlafaxine")
    out = []
    for _, rows in compo.group_by("numero_liaison_sa_ft", maintain_order=True):
        ft = rows.filter(pl.col("nature_composant") == "FT")
        row = (ft if not ft.is_empty() else rows).row(0, named=True)
        name = names.get(row["code_substance"]) or row["denomination_substance"] or ""
        if name:
            out.append(name.lower())
    return tuple(dict.fromkeys(out))


def _therapeutic_class(med: Medicine) -> tuple[str | None, str | None]:
    """The first ATC code's therapeutic group (level 2, else 1) with a French label."""
    for entry in med.atc:
        hierarchy = entry["hierarchy"]  # levels 1, 2, 3, 4, 5
        for code, label, english in (hierarchy[1:2] + hierarchy[:1]) if len(hierarchy) > 1 else hierarchy:
            if not english and label and label != "libellé inconnu":
                return label[:1].upper() + label[1:], code
    return None, None


def _availability(store: Store, med: Medicine) -> Availability:
    file_date = med.snapshots.get(DS.DISPONIBILITES)
    as_of = f"Situation au {fr_date(file_date)} (fichier de l'ANSM)." if file_date else ""
    marketed = med.identity.get("etat_commercialisation") == "Commercialisée"
    status = med.status_now
    if status in (1, 2):
        eps = shortages.medicine_episodes(store, med.cis)
        current = eps.filter(pl.col("en_cours") & (pl.col("statut") == status)) if not eps.is_empty() else eps
        partial = not current.is_empty() and current["cip13"].is_not_null().all()
        word = "Rupture de stock" if status == 1 else "Tension d'approvisionnement"
        headline = word + (" de certaines boîtes" if partial else "")
        since = ""
        if not current.is_empty():
            start = current.sort("date_debut", nulls_last=True).row(0, named=True)
            if start["date_debut"] is not None and not start["debut_est_maj"]:
                since = f"Signalée depuis le {fr_date(start['date_debut'])}. "
            elif start["date_debut"] is not None:
                since = f"Signalement mis à jour le {fr_date(start['date_debut'])} (date de début inconnue). "
        kind = "rupture" if status == 1 else "tension"
        return Availability(kind, headline, (since + as_of).strip(), "error" if status == 1 else "warning")
    if not marketed:
        state = (med.identity.get("etat_commercialisation") or "état inconnu").lower()
        return Availability(
            "stopped", "Non commercialisé", f"Ce médicament est {state} en France. {as_of}".strip(), "block"
        )
    if status == 3:
        return Availability(
            "arret",
            "Arrêt de commercialisation annoncé",
            f"Le laboratoire a déclaré l'arrêt de sa commercialisation. {as_of}".strip(),
            "block",
        )
    if file_date is None:
        return Availability(
            "unknown", "Disponibilité inconnue", "Le fichier de disponibilité de l'ANSM n'est pas chargé.", "help"
        )
    back = " Il a été remis à disposition après une rupture ou une tension." if status == 4 else ""
    return Availability(
        "ok",
        "Disponible",
        f"Aucune rupture ni tension n'est signalée.{back} {as_of} "
        "L'absence de signalement ne garantit pas la présence en pharmacie.",
        "check_circle",
    )


def _alternatives(store: Store, med: Medicine) -> tuple[tuple[Alternative, ...], int]:
    if med.status_now not in (1, 2):
        return (), 0
    alts = shortages.alternatives(store, med.cis)
    out = []
    for r in alts.head(MAX_ALTERNATIVES).iter_rows(named=True):
        same = r["cis"] == med.cis
        label = (r["presentation"] or "Autre boîte") if same else (r["denomination"] or f"CIS {r['cis']}")
        out.append(Alternative(r["cis"], label, r["raison"], tuple(shortages.alternative_notes(r)), same))
    return tuple(out), alts.height


def _reimbursement(rates: list | None) -> str:
    if not rates:
        return "Non remboursé"
    return "Remboursé à " + " ou ".join(f"{r} %" for r in rates)


def _prices(med: Medicine) -> tuple[tuple[Price, ...], int, str | None]:
    pres = med.presentations
    if pres.is_empty():
        return (), 0, "Aucune boîte n'est publiée pour ce médicament."
    marketed = pres.filter(pl.col("etat_commercialisation").str.starts_with(MARKETED_PRESENTATION))
    if marketed.is_empty():
        return (), 0, "Aucune boîte n'est commercialisée actuellement."
    out = []
    for r in marketed.sort("prix_public_euro", nulls_last=True).head(MAX_PRICES).iter_rows(named=True):
        price = r["prix_public_euro"] if r["prix_public_euro"] is not None else r["prix_medicament_euro"]
        if price is not None:
            text = fr_euro(price)
        elif r["agrement_collectivites"] and not r["taux_remboursement"]:
            text = "Pas de prix public (usage à l'hôpital)"
        else:
            text = "Prix libre (non publié)"
        out.append(
            Price(
                presentation=" ".join((r["libelle_presentation"] or f"boîte CIP {r['cip13']}").split()),
                price=text,
                reimbursement=_reimbursement(r["taux_remboursement"]),
                conditions=bool(r["indications_remboursement"]),
            )
        )
    return tuple(out), marketed.height - len(out), None


def brief(store: Store, med: Medicine) -> Brief:
    klass, atc_code = _therapeutic_class(med)
    alternatives, total = _alternatives(store, med)
    prices, hidden, no_price = _prices(med)
    links = (
        ("Notice (pour le patient)", NOTICE_URL.format(cis=med.cis)),
        ("Résumé des caractéristiques du produit (RCP)", RCP_URL.format(cis=med.cis)),
        ("Fiche de la base publique des médicaments", med.bdpm_url),
        ("Déclarer un effet indésirable", REPORT_URL),
    )
    return Brief(
        substances=_substances(store, med),
        therapeutic_class=klass,
        atc_code=atc_code,
        form=med.identity.get("forme_pharmaceutique"),
        routes=tuple(med.identity.get("voies_administration") or ()),
        availability=_availability(store, med),
        alternatives=alternatives,
        alternatives_total=total,
        prices=prices,
        prices_hidden=hidden,
        no_price_reason=no_price,
        prescription=plain_conditions(med.conditions),
        links=links,
    )


def what_it_is(b: Brief) -> str:
    """One plain sentence: 'Un médicament à base de paracétamol (analgésiques), en comprimé, par voie orale.'"""
    parts = ["Un médicament"]
    if b.substances:
        first = b.substances[0]
        parts.append((" à base d'" if first[:1] in "aeiouyhéèêâîôû" else " à base de ") + _join(b.substances))
    if b.therapeutic_class:
        parts.append(f" ({b.therapeutic_class.lower()})")
    if b.form:
        parts.append(f", en {b.form}")
    if b.routes:
        parts.append(", par voie " + _join(b.routes))
    return "".join(parts) + "."


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def alternatives_caption(b: Brief) -> str:
    more = b.alternatives_total - len(b.alternatives)
    extra = f" ; {fr_plural(more, 'autre')} dans la section Disponibilité" if more > 0 else ""
    return f"{fr_plural(b.alternatives_total, 'alternative disponible', 'alternatives disponibles')}{extra}."


def file_date(med: Medicine) -> date | None:
    return med.snapshots.get(DS.DISPONIBILITES)


def sections(*, adverse: bool, sites: bool, safety: bool) -> list[tuple[str, str]]:
    """The section menu: (title, anchor) of each detailed section the page shows, in order."""
    out = [("Identité", "identite"), ("Composition", "composition")]
    if adverse:
        out.append(("Effets indésirables", "effets-indesirables"))
    out += [
        ("Prix et remboursement", "prix"),
        ("Génériques", "generiques"),
        ("Avis HAS", "avis-has"),
        ("Prescription", "prescription"),
        ("Disponibilité", "disponibilite"),
    ]
    if sites:
        out.append(("Sites", "sites"))
    if safety:
        out.append(("Sécurité", "securite"))
    out.append(("Références", "references"))
    return out


def short_name(label: str) -> str:
    """A medicine's name without its form: 'RISPERIDONE EG 4 mg, comprimé pelliculé' ->
    'RISPERIDONE EG 4 mg' (the form is said next to it when it differs)."""
    return label.split(",")[0].strip() or label
