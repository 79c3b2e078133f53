"""The medicine page's "En bref" band (issue 15, part 1): plain-French prescription
conditions, availability, alternatives with what differs, prices, official links."""

from __future__ import annotations

import polars as pl
import pytest

from datamed.present import summary
from datamed.present.prescription import plain_condition, plain_conditions, specialty_fr
from datamed.views import catalogue, shortages

# --- prescription conditions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, plain",
    [
        ("liste I", "Sur ordonnance (liste I) : délivré seulement pour la durée prescrite."),
        ("stupéfiants", "Stupéfiant : ordonnance sécurisée, durée de prescription et de délivrance limitée."),
        (
            "prescription réservée aux spécialistes et services HEMATOLOGIE",
            "Prescrit seulement par un spécialiste (hématologie).",
        ),
        (
            "prescription réservée aux spécialistes et services HEPATO/GASTRO-ENTEROLOGIE",
            "Prescrit seulement par un spécialiste (hépato-gastro-entérologie).",
        ),
        (
            "renouvellement de la prescription réservé aux spécialistes en ONCOLOGIE MEDICALE",
            "Seul un spécialiste (oncologie médicale) peut renouveler l'ordonnance.",
        ),
        (
            "prescription initiale hospitalière semestrielle",
            "La première ordonnance (à refaire tous les 6 mois) vient d'un médecin d'un hôpital ; "
            "votre médecin peut ensuite la renouveler.",
        ),
        ("prescription limitée à 12 semaines", "Une ordonnance vaut au plus 12 semaines."),
        ("délivrance fractionnée de 7 jours", "Le pharmacien le délivre par périodes de 7 jours au plus."),
        ("réservé à l'usage HOSPITALIER", "Réservé à l'hôpital : il n'est pas délivré en pharmacie de ville."),
        # no rule: kept as written, never dropped
        ("délivrance effectuée par une pharmacie de ville", "Délivrance effectuée par une pharmacie de ville"),
    ],
)
def test_plain_condition(raw, plain):
    assert plain_condition(raw) == plain


def test_specialty_words_get_their_accents_and_unknown_words_stay():
    assert specialty_fr("ANESTHESIE-REANIMATION ou en MEDECINE D'URGENCE") == (
        "anesthésie-réanimation ou en médecine d'urgence"
    )
    assert specialty_fr("XENOLOGIE") == "XENOLOGIE"


def test_class_first_then_the_source_order():
    p = plain_conditions(
        ["pour tous les patients :", "prescription limitée à 4 semaines", "liste I", "prescription hospitalière"]
    )
    assert p.headline == "Sur ordonnance"
    assert p.lines[0].startswith("Sur ordonnance (liste I)")
    # "pour tous les patients :" still introduces the line that followed it in the source
    assert p.lines[1:3] == ("Pour tous les patients :", "Une ordonnance vaut au plus 4 semaines.")
    assert plain_conditions([]).headline == "Aucune ordonnance obligatoire n'est mentionnée dans la base"
    assert plain_conditions(["réservé à l'usage HOSPITALIER", "liste I"]).headline.startswith("Réservé à l'hôpital")


def test_every_real_condition_gets_a_line_and_most_a_rule(real_store):
    raw = real_store.table("conditions")["condition_prescription_delivrance"]
    distinct = raw.unique().drop_nulls().to_list()
    for c in distinct:
        assert plain_condition(c).strip(), c
    # the rules cover the frequent wordings: at least 85 % of the rows (measured: about 90 %)
    translated = raw.map_elements(lambda c: plain_condition(c) != c[:1].upper() + c[1:], return_dtype=pl.Boolean)
    assert translated.mean() >= 0.85
    # no condition disappears from a medicine's list (duplicates aside)
    by_cis = real_store.table("conditions").group_by("cis").agg("condition_prescription_delivrance")
    for conditions in by_cis["condition_prescription_delivrance"].head(2000).to_list():
        lines = plain_conditions(conditions).lines
        assert len(lines) == len({plain_condition(c) for c in conditions})


# --- alternatives ------------------------------------------------------------------------------


def _current_full_shortages(store) -> list[str]:
    eps = store.table("ruptures_episodes").filter(
        pl.col("en_cours") & pl.col("cip13").is_null() & pl.col("au_catalogue") & pl.col("statut").is_in([1, 2])
    )
    return eps["cis"].unique().sort().to_list()


def test_alternatives_flag_a_different_form_and_rank_the_same_form_first(real_store):
    spec = real_store.table("specialites")
    forms = dict(zip(spec["cis"].to_list(), spec["forme_pharmaceutique"].to_list()))
    flagged = 0
    for cis in _current_full_shortages(real_store):
        alts = shortages.alternatives(real_store, cis)
        if alts.is_empty():
            continue
        others = alts.filter(pl.col("cis") != cis)
        for r in others.iter_rows(named=True):
            assert r["forme"] == forms[r["cis"]]
            assert r["forme_differente"] == ((forms[r["cis"]] or "").lower() != (forms[cis] or "").lower())
        flagged += int(others["forme_differente"].any())
        # within a reason, the same form comes before a different one
        for _, group in alts.group_by("raison", maintain_order=True):
            flags = group["forme_differente"].to_list()
            assert flags == sorted(flags), cis
    assert flagged >= 10  # measured on the real file: 33 medicines


def test_strength_of_a_salt_comes_from_its_fraction(real_store):
    # CHLORHYDRATE DE VENLAFAXINE has no dosage of its own; its fraction VENLAFAXINE has:
    # the 37,5 mg capsule is not "même dosage" as the 150 and 225 mg tablets
    spec = real_store.table("specialites")
    venla = spec.filter(pl.col("denomination").str.starts_with("VENLAFAXINE ARROW LP 37,5 mg"))
    assert venla.height == 1
    alts = shortages.alternatives(real_store, venla["cis"][0])
    names = alts["denomination"].to_list()
    assert not any(" 150 mg" in (n or "") or " 225 mg" in (n or "") for n in names), names


def test_alternatives_are_available_now(real_store):
    status = shortages.status_by_cis(real_store)
    for cis in _current_full_shortages(real_store)[:60]:
        alts = shortages.alternatives(real_store, cis)
        for other in alts.filter(pl.col("cis") != cis)["cis"].to_list():
            assert other not in status or status[other][1], (cis, other)  # at most some boxes short


# --- the band ----------------------------------------------------------------------------------


def test_band_of_a_medicine_in_shortage_with_a_different_form(real_store):
    for cis in _current_full_shortages(real_store):
        alts = shortages.alternatives(real_store, cis)
        if not alts.is_empty() and alts.head(3)["forme_differente"].any():
            break
    else:
        pytest.fail("no medicine in shortage whose top alternatives differ in form")
    med = catalogue.medicine(real_store, cis)
    b = summary.brief(real_store, med)
    assert b.availability.kind in ("rupture", "tension")
    assert b.availability.headline.startswith(("Rupture de stock", "Tension d'approvisionnement"))
    assert "Situation au 27/01/2026" in b.availability.detail
    assert 1 <= len(b.alternatives) <= summary.MAX_ALTERNATIVES
    assert b.alternatives_total == alts.height
    differing = [a for a in b.alternatives if a.notes]
    assert differing and all(n.startswith("forme différente (") for a in differing for n in a.notes)
    assert all(a.reason for a in b.alternatives)


def test_band_of_a_reimbursed_medicine_gives_prices_per_box(real_store):
    spec = real_store.table("specialites")
    cis = spec.filter(pl.col("denomination") == "DOLIPRANE 1000 mg, comprimé")["cis"][0]
    med = catalogue.medicine(real_store, cis)
    b = summary.brief(real_store, med)
    pres = real_store.table("presentations").filter(
        (pl.col("cis") == cis) & pl.col("etat_commercialisation").str.starts_with("Déclaration de commercialisation")
    )
    priced = pres.filter(pl.col("prix_public_euro").is_not_null())
    assert len(b.prices) == pres.height
    expected = f"{priced['prix_public_euro'][0]:.2f}".replace(".", ",") + "\u00a0€"
    first = b.prices[0]
    assert first.price == expected and first.reimbursement == f"Remboursé à {priced['taux_remboursement'][0][0]} %"
    assert "  " not in first.presentation
    assert b.availability.kind == "ok" and b.availability.headline == "Disponible"
    assert "ne garantit pas" in b.availability.detail
    assert summary.what_it_is(b) == "Un médicament à base de paracétamol (analgésiques), en comprimé, par voie orale."
    urls = dict(b.links)
    assert urls["Notice (pour le patient)"].endswith(f"specid={cis}&typedoc=N")
    assert urls["Résumé des caractéristiques du produit (RCP)"].endswith(f"specid={cis}&typedoc=R")
    assert urls["Déclarer un effet indésirable"] == summary.REPORT_URL


def test_band_of_a_medicine_no_longer_marketed(real_store):
    spec = real_store.table("specialites")
    status = shortages.status_by_cis(real_store)
    stopped = spec.filter(pl.col("etat_commercialisation") != "Commercialisée")["cis"].to_list()
    cis = next(c for c in stopped if c not in status)
    b = summary.brief(real_store, catalogue.medicine(real_store, cis))
    assert b.availability.kind == "stopped" and b.availability.headline == "Non commercialisé"
    assert b.alternatives == ()


def test_what_it_is_elides_before_a_vowel():
    b = summary.Brief(
        substances=("immunoglobuline humaine normale",),
        therapeutic_class=None,
        atc_code=None,
        form="solution pour perfusion",
        routes=("intraveineuse",),
        availability=summary.Availability("ok", "Disponible", "", "check_circle"),
        alternatives=(),
        alternatives_total=0,
        prices=(),
        prices_hidden=0,
        no_price_reason=None,
        prescription=plain_conditions([]),
        links=(),
    )
    assert summary.what_it_is(b) == (
        "Un médicament à base d'immunoglobuline humaine normale, en solution pour perfusion, par voie intraveineuse."
    )


def test_section_menu_lists_only_the_sections_shown():
    titles = [t for t, _ in summary.sections(adverse=False, sites=False, safety=False)]
    assert "Effets indésirables" not in titles and "Sites" not in titles and titles[-1] == "Références"
    anchors = [a for _, a in summary.sections(adverse=True, sites=True, safety=True)]
    assert len(anchors) == len(set(anchors)) == 11
