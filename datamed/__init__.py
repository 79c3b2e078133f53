"""DataMed: explore French medicine-safety open data.

The package is the pure library behind the Streamlit app: raw-file readers, the
build pipeline that writes prepared Parquet datasets, the search index and the
query functions that the pages call. Nothing in here imports Streamlit except
``datamed.ui``.
"""

__version__ = "0.1.0"
