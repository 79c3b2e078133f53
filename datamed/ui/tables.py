"""A speciality table whose rows open the medicine page."""

from __future__ import annotations

import polars as pl
import streamlit as st

from datamed.present.display import specialities_table
from datamed.ui import common, routes


def speciality_table(frame: pl.DataFrame, key: str, alt: str) -> None:
    """Render specialities; selecting a row opens its medicine page."""
    if frame.is_empty():
        st.info("Aucun médicament ne correspond à ces critères.")
        return
    shown = specialities_table(frame)
    event = common.dataframe(
        shown,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        alt=alt,
    )
    st.caption("Cliquez sur une ligne pour ouvrir la fiche du médicament.")
    rows = event.selection.rows if event is not None else []
    if rows:
        cis = shown["CIS"][rows[0]]
        st.switch_page(routes.MEDICINE.file, query_params={"cis": cis})
