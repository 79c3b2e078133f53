"""The dataset registry: every prepared dataset declared once.

- ``DS``: the names, as constants (``datamed.datasets.names``);
- ``REGISTRY`` / ``get``: what each dataset is (title, description, sources, keys,
  required columns, column docs, public or internal, disclosure class), in
  ``datamed.datasets.registry``.

Readers, pipeline steps, the store, quality checks, the release and the
"Données ouvertes" page all read it.
"""

from datamed.datasets.names import DS, UnknownDataset, pv_dataset

MANIFEST = "manifest.json"  # the prepared folder's index, written last by the build

__all__ = ["DS", "MANIFEST", "UnknownDataset", "pv_dataset"]
