"""Reject and correction reasons in French on the Données page (issue 15: no English shown)."""

from __future__ import annotations

import pytest

from datamed.core.reasons import UNKNOWN_FR, is_translated, reason_fr


@pytest.mark.parametrize("which", ["real_store", "demo_store"])
def test_every_reason_of_the_builds_has_a_french_rule(which, request):
    store = request.getfixturevalue(which)
    reasons = store.table("rejets")["reason"].unique().to_list()
    assert reasons, "the build rejects or corrects some lines: the check is not vacuous"
    assert [r for r in reasons if not is_translated(r)] == []


@pytest.mark.parametrize(
    "english, french",
    [
        (
            "cases greater than exposure: exposure set to missing for this cell, cases kept",
            "plus de cas que de consommants : le nombre de consommants de cette case est mis à vide, les cas gardés",
        ),
        ("expected 12 tab-separated fields, found 4", "4 champs séparés par des tabulations au lieu de 12"),
        ("invalid code 'ABC' in column cis", "code invalide « ABC » dans la colonne cis"),
        ("unparseable date '31/02/2024' in column date_amm", "date illisible « 31/02/2024 » dans la colonne date_amm"),
        ("unknown SOC 'Foo disorders'", "classe d'organes (SOC) inconnue « Foo disorders »"),
        ("n_cas negative", "n_cas négatif"),
        (
            "start date after the snapshot date (in the future)",
            "date de début postérieure à la date du fichier (dans le futur)",
        ),
        (
            "corrected (row kept): malformed postal code '323': commune not found",
            "corrigée, ligne gardée : code postal mal formé « 323 » : commune introuvable",
        ),
        (
            "corrected (row kept): source coordinates out of range (95.0, 2.0): discarded, placed by code postal + commune",
            "corrigée, ligne gardée : coordonnées de la source hors limites (95.0, 2.0) : écartées, site placé par "
            "code postal + commune",
        ),
        (
            "corrected (row kept): latitude and longitude swapped in the source (2.3, 48.8): corrected; "
            "malformed postal code '750': commune not found",
            "corrigée, ligne gardée : latitude et longitude inversées dans la source (2.3, 48.8) : corrigées ; "
            "code postal mal formé « 750 » : commune introuvable",
        ),
    ],
)
def test_reason_fr(english, french):
    assert reason_fr(english) == french and is_translated(english)


def test_an_unknown_reason_is_said_in_french_not_shown_in_english():
    assert reason_fr("some brand new check failed") == UNKNOWN_FR and not is_translated("some brand new check failed")
    assert reason_fr("") == "" and reason_fr(None) == ""
