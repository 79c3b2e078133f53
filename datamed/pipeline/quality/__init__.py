"""Data-quality checks run at every build over every source.

``run_checks`` takes the prepared frames, the manifest's source entries, the
readers' rejected lines, the raw folder and the previous prepared folder, and
returns three frames:

- ``qualite``: one row per check x dataset (``controle``, ``jeu`` is unique),
  with counts, failure rate, status and up to five failing examples (JSON);
  the per-file checks (``lignes_rejetees``, ``valeurs_corrigees``,
  ``pv_colonnes``) sum the files of a dataset (availability snapshots, site
  files) and name the file in each failure when there are several;
- ``qualite_echecs``: the failing rows for drill-down, at most
  ``MAX_FAILURES`` per check x dataset, with key, source line and a French
  detail;
- ``qualite_evolution``: changes between the two newest raw BDPM snapshots
  (CIS and presentations added / removed, marketing and authorisation status
  changes), between consecutive availability snapshots (per-CIS status), and
  row-count jumps of each dataset since the previous build.

Every check is vectorised polars. A check whose dataset is missing or empty,
or which has nothing to verify, gets the status "non applicable" (never an
exception). The status is always derived from the counts::

    n_verifies == 0  -> "non applicable"
    n_echecs  >  0  -> "échoué"
    otherwise       -> "réussi"

Threshold checks (snapshot evolution, row-count jumps) count one verification
and one failure when the threshold is crossed.

One module per family of checks, in the order they run (and their rows appear
in ``qualite``): ``rejects`` (types: rejected lines, corrected values),
``required``, ``codes`` (formats, CIP13 key, CIP7 in CIP13), ``integrity``,
``duplicates``, ``dates``, ``labels`` (spaces, mojibake, variants),
``plausibility`` (pharmacovigilance columns, prices, allowed values, official
wordings, coordinates) and ``evolution`` (raw snapshots, availability changes,
previous build). ``run`` holds the accumulator they all write to. Keys,
required columns, source labels and origins of each dataset come from the
registry (``datamed.datasets.registry``), code patterns from
``datamed.core.codes``.

Score of a source (``scores``)
------------------------------
For each source label, over its *applicable* checks (status "réussi" or
"échoué")::

    score = 100 * sum(w_i * (1 - taux_echec_i)) / sum(w_i)

with the gravity weights ``SCORE_WEIGHTS`` (bloquante 3, majeure 2,
mineure 1). A source with no applicable check has a null score. The score is
thus a gravity-weighted mean of the share of verified items that pass: 100
means every applicable check verified without failure; one blocking check
failing on every item costs three times as much as a minor one.

``integrity_failure_rate`` pools the referential-integrity checks: failed /
verified items over the applicable "intégrité référentielle" rows (0.0 when
nothing was verified); the refresh gate stops a release above 1 %.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from datamed.datasets.quality import (
    CATEGORIES,
    CHANGEMENTS,
    ECHECS_SCHEMA,
    EVOLUTION_SCHEMA,
    GRAVITES,
    MAX_FAILURES,
    QUALITE_SCHEMA,
    SCORE_METHOD_FR,
    SCORE_WEIGHTS,
    SCORES_SCHEMA,
    STATUTS,
    integrity_failure_rate,
    scores,
)
from datamed.pipeline.quality.codes import check_codes
from datamed.pipeline.quality.dates import check_dates
from datamed.pipeline.quality.duplicates import check_duplicates
from datamed.pipeline.quality.evolution import (
    availability_changes,
    compare_previous,
    compare_snapshots,
    start_snapshot_reads,
)
from datamed.pipeline.quality.integrity import check_integrity
from datamed.pipeline.quality.labels import check_labels
from datamed.pipeline.quality.plausibility import (
    check_allowed_values,
    check_coordinates,
    check_expected_labels,
    check_prices,
    check_pv_columns,
    check_status_code_label,
)
from datamed.pipeline.quality.rejects import check_rejects
from datamed.pipeline.quality.required import check_required
from datamed.pipeline.quality.run import MAX_EXAMPLES, Run


def run_checks(
    datasets: dict[str, pl.DataFrame],
    sources: list[dict],
    rejects: pl.DataFrame | None,
    raw: Path | None,
    previous: Path | None,
    *,
    today: date | None = None,
) -> dict[str, pl.DataFrame]:
    """Run every check; return ``{"qualite", "qualite_echecs", "qualite_evolution"}``.

    ``today`` (default: the UTC date) is the build date, reference of the dates
    of derived datasets and of the evolution rows.
    """
    run = Run(datasets, sources, rejects, raw, previous, today)
    start_snapshot_reads(run)
    check_rejects(run)
    check_required(run)
    check_codes(run)
    check_integrity(run)
    check_duplicates(run)
    check_dates(run)
    check_labels(run)
    check_pv_columns(run)
    check_prices(run)
    check_allowed_values(run)
    check_expected_labels(run)
    check_status_code_label(run)
    check_coordinates(run)
    compare_snapshots(run)
    availability_changes(run)
    compare_previous(run)
    return run.results()


__all__ = [
    "CATEGORIES",
    "CHANGEMENTS",
    "ECHECS_SCHEMA",
    "EVOLUTION_SCHEMA",
    "GRAVITES",
    "MAX_EXAMPLES",
    "MAX_FAILURES",
    "QUALITE_SCHEMA",
    "SCORES_SCHEMA",
    "SCORE_METHOD_FR",
    "SCORE_WEIGHTS",
    "STATUTS",
    "integrity_failure_rate",
    "run_checks",
    "scores",
]
