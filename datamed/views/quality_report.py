"""The data-quality and linking report, in Markdown and in HTML (French).

Built from the prepared ``qualite*`` and ``liens_*`` datasets; shipped with every
release (``rapport_qualite.md`` / ``.html``) and written next to the prepared data
from the "Qualité des données" page.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import polars as pl

from datamed.core.text import fr_int, fr_number, fr_percent
from datamed.datasets import DS, quality
from datamed.store import Store

EXAMPLES_PER_LINK = 10


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


def _example(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        items = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return str(raw)[:120]
    if not items:
        return ""
    first = items[0]
    text = ", ".join(f"{k}={v}" for k, v in first.items()) if isinstance(first, dict) else str(first)
    return text[:160]


def sections(store: Store) -> tuple[list[str], list[Table]]:
    """Intro paragraphs and tables of the report."""
    q = store.table(DS.QUALITE)
    intro = [
        ("Données de démonstration (fictives). " if store.is_demo else "")
        + f"Rapport établi sur les données préparées le {store.built_at()[:10] or '—'} par DataMed {store.manifest.get('code_version', '')}.",
    ]
    tables: list[Table] = []
    if not q.is_empty():
        scores = quality.scores(q)
        failed = q.filter(pl.col("statut") == "échoué")
        intro.append(
            f"{fr_int(q.height)} contrôles exécutés sur {fr_int(scores.height)} sources ; {fr_int(failed.height)} en échec. "
            + quality.SCORE_METHOD_FR
        )
        tables.append(
            Table(
                "Score de qualité par source",
                ["Source", "Score (sur 100)", "Contrôles", "Réussis", "En échec"],
                [
                    [
                        r["source"],
                        fr_number(r["score"], 1),
                        fr_int(r["n_controles"]),
                        fr_int(r["n_reussis"]),
                        fr_int(r["n_echecs_controles"]),
                    ]
                    for r in scores.sort("score").iter_rows(named=True)
                ],
            )
        )
        tables.append(
            Table(
                "Contrôles en échec",
                ["Source", "Jeu", "Contrôle", "Catégorie", "Gravité", "Échecs / vérifiés", "Exemple"],
                [
                    [
                        r["source"],
                        r["jeu"],
                        r["description"],
                        r["categorie"],
                        r["gravite"],
                        f"{fr_int(r['n_echecs'])} / {fr_int(r['n_verifies'])} ({fr_percent(r['taux_echec'])})",
                        _example(r["exemples"]),
                    ]
                    for r in failed.sort(["gravite", "taux_echec"], descending=[False, True]).iter_rows(named=True)
                ],
                "Toutes les lignes en échec (au plus 500 par contrôle) sont dans le jeu `qualite_echecs`.",
            )
        )
    evo = store.table(DS.QUALITE_EVOLUTION)
    if not evo.is_empty():
        counts = (
            evo.group_by("jeu", "changement", "instantane_avant", "instantane_apres").len().sort("len", descending=True)
        )
        tables.append(
            Table(
                "Évolutions entre instantanés",
                ["Jeu", "Changement", "Avant", "Après", "Nombre"],
                [
                    [
                        r["jeu"],
                        r["changement"],
                        r["instantane_avant"] or "",
                        r["instantane_apres"] or "",
                        fr_int(r["len"]),
                    ]
                    for r in counts.iter_rows(named=True)
                ],
                "Le détail (chaque CIS, présentation ou statut) est dans le jeu `qualite_evolution`.",
            )
        )
    links = store.table(DS.LIENS_SYNTHESE)
    if not links.is_empty():
        tables.append(
            Table(
                "Liaisons entre bases",
                [
                    "Liaison",
                    "Reliés / éléments",
                    "Couverture",
                    "Pondérée",
                    "Exact",
                    "Normalisé",
                    "Approché",
                    "Autre",
                    "Score min.",
                    "Score médian",
                ],
                [
                    [
                        r["libelle"],
                        f"{fr_int(r['n_relies'])} / {fr_int(r['n_elements'])} {r['unite']}",
                        fr_percent(r["couverture"]),
                        fr_percent(r["poids_relies"]),
                        fr_int(r["n_exact"]),
                        fr_int(r["n_normalise"]),
                        fr_int(r["n_approche"]),
                        fr_int(r["n_autre"]),
                        fr_number(r["score_min"], 1),
                        fr_number(r["score_median"], 1),
                    ]
                    for r in links.iter_rows(named=True)
                ],
                " ".join(f"{r['libelle']} : {r['methode']}" for r in links.iter_rows(named=True)),
            )
        )
        unmatched = store.table(DS.LIENS_NON_RELIES)
        if not unmatched.is_empty():
            rows = []
            labels = dict(links.select("lien", "libelle").rows())
            for (lien,), group in unmatched.group_by("lien", maintain_order=True):
                for r in group.head(EXAMPLES_PER_LINK).iter_rows(named=True):
                    rows.append(
                        [labels.get(lien, lien), r["element"], r["libelle"] or "", ", ".join(r["suggestions"] or [])]
                    )
            tables.append(
                Table(
                    f"Éléments non reliés (les {EXAMPLES_PER_LINK} plus importants par liaison)",
                    ["Liaison", "Élément", "Libellé", "Suggestions"],
                    rows,
                    "Liste complète dans le jeu `liens_non_relies`.",
                )
            )
    return intro, tables


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(intro: list[str], tables: list[Table]) -> str:
    out = ["# Rapport de qualité des données et des liaisons", "", *[p + "\n" for p in intro]]
    for t in tables:
        out += [f"## {t.title}", ""]
        if not t.rows:
            out += ["Aucun.", ""]
            continue
        out.append("| " + " | ".join(t.headers) + " |")
        out.append("|" + "---|" * len(t.headers))
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
        if t.note:
            out += ["", t.note]
        out.append("")
    return "\n".join(out) + "\n"


CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:80rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f7} caption{text-align:left;font-weight:600;padding:.3rem 0}
p.note{color:#555;font-size:.85rem}
"""


def to_html(intro: list[str], tables: list[Table]) -> str:
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="fr"><head><meta charset="utf-8"><title>Rapport de qualité des données — DataMed</title>',
        f"<style>{CSS}</style></head><body>",
        "<h1>Rapport de qualité des données et des liaisons</h1>",
        *[f"<p>{e(p)}</p>" for p in intro],
    ]
    for t in tables:
        out.append(f"<h2>{e(t.title)}</h2>")
        if not t.rows:
            out.append("<p>Aucun.</p>")
            continue
        out.append(
            f"<table><caption>{e(t.title)}</caption><thead><tr>"
            + "".join(f'<th scope="col">{e(h)}</th>' for h in t.headers)
            + "</tr></thead><tbody>"
        )
        out += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in t.rows]
        out.append("</tbody></table>")
        if t.note:
            out.append(f'<p class="note">{e(t.note)}</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(store: Store) -> tuple[str, str]:
    """(Markdown, HTML) of the report."""
    intro, tables = sections(store)
    return to_markdown(intro, tables), to_html(intro, tables)


def cached(store: Store) -> tuple[str, str]:
    """``render`` once per store (the page's download buttons ask for it lazily)."""
    return store.memo(("rapport_qualite",), lambda: render(store))


def cached_markdown(store: Store) -> str:
    return cached(store)[0]


def cached_html(store: Store) -> str:
    return cached(store)[1]
