"""Medicine page (?cis=): identity, composition, presentations, generics, HAS, availability."""

import streamlit as st

from datamed.core.text import fr_date, fr_int, fr_number
from datamed.datasets import DS
from datamed.present import charts, display, maps, summary
from datamed.present.display import md_escape
from datamed.ui import adverse_sections, charting, common, routes
from datamed.views import adverse, catalogue, shortages, sites

store = common.open_page()

raw_cis = common.param("cis")
med = catalogue.medicine(store, raw_cis)

if med is None:
    st.title("Médicament introuvable")
    if not raw_cis:
        st.info("Aucun médicament n'est indiqué. Recherchez-en un ci-dessus, par nom, substance ou code.")
    elif catalogue.valid_cis(raw_cis) is None:
        st.error(
            f"« {md_escape(raw_cis[:60])} » n'est pas un code CIS valide : un code CIS compte exactement 8 chiffres."
        )
    else:
        st.error(f"Aucun médicament ne porte le code CIS {raw_cis} dans la base actuelle.")
        gone = shortages.absent_medicine(store, raw_cis)
        if gone is not None:  # listed by the ANSM's availability file, gone from the BDPM catalogue
            st.info(gone.text, icon=":material/inventory_2:")
            for url in gone.links:
                st.link_button("Voir la page de l'ANSM", url, icon=":material/open_in_new:")
    if raw_cis:
        common.suggestions(raw_cis, kinds=("speciality", "cis", "cip13", "cip7", "substance"))
    common.footer(store, routes.MEDICINE)
    st.stop()

common.pin_params(cis=med.cis)
ident = med.identity
st.title(ident["denomination"])

badges = st.container(horizontal=True)
with badges:
    commercial = ident["etat_commercialisation"] or "État inconnu"
    st.badge(commercial, color="green" if commercial == "Commercialisée" else "gray", icon=":material/storefront:")
    st.badge(ident["statut_amm"] or "Statut inconnu", color="blue", icon=":material/verified:")
    if ident["surveillance_renforcee"]:
        st.badge("▼ Surveillance renforcée", color="orange")
    if med.mitm:
        st.badge("Intérêt thérapeutique majeur (MITM)", color="violet", icon=":material/priority_high:")
    status = med.status_now
    if status in (1, 2):
        label, colour, icon = display.STATUS_BADGES[status]
        st.badge(label, color=colour, icon=f":material/{icon}:")

# --- "En bref": the answers first ----------------------------------------------------
brief = summary.brief(store, med)
show_adverse = adverse.has_data(store) and not med.composition.is_empty()
holder_sites = [(h, sites.holder_sites(store, h)) for h in (ident["titulaires"] or [])]
holder_sites = [(h, s) for h, s in holder_sites if not s.is_empty()]
# the band's headings have anchors of their own ("bref-…"): the detailed sections' ids stay unique
with st.container(border=True, key="en_bref"):
    st.header("En bref", anchor="en-bref")
    st.markdown(md_escape(summary.what_it_is(brief)))
    now, practical = st.columns([1, 1], gap="large")
    with now:
        st.subheader("Disponibilité", anchor="bref-disponibilite")
        colour = summary.AVAILABILITY_COLOURS[brief.availability.kind]
        st.markdown(
            f":{colour}[:material/{brief.availability.icon}:] "
            f'<span style="font-size:1.6rem;font-weight:700">{brief.availability.headline}</span>',
            unsafe_allow_html=True,
        )
        st.caption(brief.availability.detail)
        if brief.alternatives:
            st.markdown("**Que prendre à la place ?**")
            for alt in brief.alternatives:
                if alt.same_medicine:
                    st.markdown(f"**{md_escape(alt.label)}**")
                else:  # the name alone: a page link is one line, a long label would be cut
                    st.page_link(
                        routes.MEDICINE.file,
                        label=md_escape(summary.short_name(alt.label)),
                        query_params={"cis": alt.cis},
                        icon=":material/medication:",
                    )
                warning = f" · **Attention : {', '.join(alt.notes)}**" if alt.notes else ""
                st.caption(f"{alt.reason}{warning}")
            st.caption(summary.alternatives_caption(brief) + " Demandez conseil à votre pharmacien ou médecin.")
        elif brief.availability.kind in ("rupture", "tension"):
            st.caption(
                "Aucune alternative disponible n'a été trouvée dans la base. Demandez conseil à votre pharmacien ou médecin."
            )
    with practical:
        st.subheader("Prix et remboursement", anchor="bref-prix")
        if brief.prices:
            lines = []
            for p in brief.prices:
                cond = " (sous conditions)" if p.conditions else ""
                lines.append(f"- {md_escape(p.presentation)} : **{p.price}** · {p.reimbursement}{cond}")
            st.markdown("\n".join(lines))
            st.caption("Prix de vente au public par boîte, toutes taxes et honoraire de dispensation compris.")
            if brief.prices_hidden:
                st.caption(
                    f"Et {brief.prices_hidden} autre(s) boîte(s) : voir « Présentations, prix et remboursement »."
                )
        else:
            st.markdown(brief.no_price_reason or "")
        st.subheader("Ordonnance", anchor="bref-ordonnance")
        st.markdown(f"**{brief.prescription.headline}**")
        if brief.prescription.lines:
            st.markdown("\n".join(f"- {md_escape(line)}" for line in brief.prescription.lines[:4]))
            if len(brief.prescription.lines) > 4:
                st.caption("Les autres conditions sont détaillées plus bas.")
        st.subheader("Documents officiels et signalement", anchor="bref-documents")
        st.markdown("\n".join(f"- [{label}]({url})" for label, url in brief.links))
    st.markdown(
        "**Aller à** : "
        + " · ".join(
            f"[{title}](#{anchor})"
            for title, anchor in summary.sections(
                adverse=show_adverse, sites=bool(holder_sites), safety=not med.infos.is_empty()
            )
        )
    )

# --- identity -----------------------------------------------------------------
st.header("Identité", divider="gray", anchor="identite")
left, right = st.columns(2)
with left:
    st.markdown(f"**Code CIS** : {med.cis}")
    st.markdown(f"**Forme** : {md_escape(ident['forme_pharmaceutique'] or '—')}")
    st.markdown(f"**Voie(s) d'administration** : {', '.join(ident['voies_administration'] or []) or '—'}")
    st.markdown("**Titulaire(s) de l'autorisation** :")
    for holder in ident["titulaires"] or []:
        st.page_link(
            routes.CATALOGUE.file,
            label=md_escape(holder),
            query_params={"titulaire": holder},
            icon=":material/business:",
        )
with right:
    st.markdown(
        f"**Autorisation de mise sur le marché** : {ident['statut_amm'] or '—'}, le {fr_date(ident['date_amm'])}"
    )
    st.markdown(f"**Procédure** : {ident['type_procedure_amm'] or '—'}")
    if ident["numero_autorisation_europeenne"]:
        st.markdown(f"**Numéro d'autorisation européenne** : {ident['numero_autorisation_europeenne']}")
    st.markdown(f"**Commercialisation** : {ident['etat_commercialisation'] or '—'}")
    if ident["statut_bdm"]:
        st.markdown(
            f"**Signalement dans la base** : {display.STATUT_BDM.get(ident['statut_bdm'], ident['statut_bdm'])}"
        )
    st.markdown(
        "**Surveillance renforcée** : "
        + (
            "oui (▼ triangle noir : médicament sous surveillance supplémentaire)"
            if ident["surveillance_renforcee"]
            else "non"
        )
    )
if med.atc:
    for entry in med.atc:
        source = (
            "officiel (liste MITM)"
            if entry["source"] == "MITM"
            else "déduit : mêmes substances actives qu'un médicament de la liste MITM"
        )
        st.markdown(f"**Classe ATC** : {display.atc_chain(entry['hierarchy'])}")
        st.caption(
            f"Code {source}." + (" " + display.ATC_ENGLISH_NOTE if display.has_english([entry["hierarchy"]]) else "")
        )
        st.page_link(
            routes.CATALOGUE.file,
            label=f"Voir les autres médicaments de la classe {entry['code'][:5]}",
            query_params={"atc": entry["code"][:5]},
            icon=":material/arrow_forward:",
        )
else:
    st.markdown(
        "**Classe ATC** : non renseignée (la BDPM ne publie le code ATC que pour les médicaments de la liste MITM)."
    )

# --- composition -----------------------------------------------------------------
st.header("Composition", divider="gray", anchor="composition")
if med.composition.is_empty():
    st.info("La composition de ce médicament n'est pas publiée dans la base.")
else:
    for element in med.composition["designation_element"].unique(maintain_order=True).to_list():
        rows = med.composition.filter(med.composition["designation_element"] == element)
        st.markdown(f"**{md_escape(element.capitalize())}**")
        for r in rows.iter_rows(named=True):
            kind = "substance active" if r["nature_composant"] == "SA" else "fraction thérapeutique"
            dosage = f"{r['dosage']} pour {r['reference_dosage']}" if r["dosage"] else "dosage non précisé"
            cols = st.columns([3, 4], vertical_alignment="center")
            cols[0].page_link(
                routes.SUBSTANCE.file,
                label=md_escape(r["denomination_substance"]),
                query_params={"substance": r["code_substance"]},
                icon=":material/science:",
            )
            cols[1].markdown(f"{md_escape(dosage)} · *{kind}*")

# --- adverse effects, per active substance ----------------------------------------
if show_adverse:
    st.header("Effets indésirables déclarés", divider="gray", anchor="effets-indesirables")
    codes = (
        med.composition.filter(med.composition["nature_composant"] == "SA")["code_substance"]
        .unique(maintain_order=True)
        .to_list()
    )
    seen, profiles = set(), []
    for code in codes:
        for p in adverse.profiles_for_substance(store, code):
            if p.ei_id not in seen:
                seen.add(p.ei_id)
                profiles.append(p)
    if not profiles:
        st.info("Aucune donnée de pharmacovigilance (2014-2018) n'est reliée aux substances actives de ce médicament.")
    elif len(profiles) == 1:
        adverse_sections.render_profile(profiles[0], key="med_0", heading=False)
    else:
        st.caption("Les données sont publiées par substance active : un onglet par substance.")
        for i, (tab, p) in enumerate(zip(st.tabs([p.label for p in profiles]), profiles)):
            with tab:
                adverse_sections.render_profile(p, key=f"med_{i}", heading=False)

# --- presentations ---------------------------------------------------------------
st.header("Présentations, prix et remboursement", divider="gray", anchor="prix")
if med.presentations.is_empty():
    st.info("Aucune présentation (boîte) n'est publiée pour ce médicament.")
else:
    common.dataframe(
        display.presentations_table(med.presentations),
        hide_index=True,
        alt="Présentations du médicament avec codes CIP, prix et taux de remboursement",
    )
    st.caption(
        "Prix en euros toutes taxes comprises ; « — » : prix non publié (médicament non remboursable ou réservé à l'hôpital)."
    )

# --- generics ---------------------------------------------------------------------
st.header("Groupe générique", divider="gray", anchor="generiques")
if not med.generic_groups:
    st.info("Ce médicament n'appartient à aucun groupe générique.")
for group in med.generic_groups:
    st.markdown(f"**{md_escape(group['label'])}**")
    for m in group["members"].iter_rows(named=True):
        label = m["denomination"] or f"CIS {m['cis']} (absent du catalogue actuel)"
        suffix = " · non commercialisé" if m["etat_commercialisation"] == "Non commercialisée" else ""
        if m["denomination"] and m["cis"] != med.cis:
            st.page_link(
                routes.MEDICINE.file, label=f"{m['type']} : {md_escape(label)}{suffix}", query_params={"cis": m["cis"]}
            )
        else:
            this = " — *ce médicament*" if m["cis"] == med.cis else ""
            st.markdown(f"{m['type']} : {md_escape(label)}{suffix}{this}")

# --- HAS ----------------------------------------------------------------------------
st.header("Avis de la Haute Autorité de santé", divider="gray", anchor="avis-has")
link_col = {"Lien": st.column_config.LinkColumn("Lien", display_text="Lire l'avis")}
if med.smr.is_empty() and med.asmr.is_empty():
    st.info("Aucun avis de la commission de la transparence n'est publié pour ce médicament.")
if not med.smr.is_empty():
    st.markdown("**Service médical rendu (SMR)** : l'intérêt du médicament, qui fonde son remboursement.")
    common.dataframe(
        display.has_table(med.smr, "valeur_smr", "libelle_smr"),
        hide_index=True,
        column_config=link_col,
        alt="Avis SMR de la HAS",
    )
if not med.asmr.is_empty():
    st.markdown("**Amélioration du service médical rendu (ASMR)** : le progrès apporté, de I (majeur) à V (absent).")
    common.dataframe(
        display.has_table(med.asmr, "valeur_asmr", "libelle_asmr"),
        hide_index=True,
        column_config=link_col,
        alt="Avis ASMR de la HAS",
    )
if med.snapshots.get(DS.HAS_SMR):
    st.caption(f"Avis HAS publiés jusqu'au fichier du {fr_date(med.snapshots['has_smr'])}.")

# --- prescription -------------------------------------------------------------------
st.header("Conditions de prescription et de délivrance", divider="gray", anchor="prescription")
if med.conditions:
    st.markdown("\n".join(f"- {md_escape(c)}" for c in med.conditions))
else:
    st.info("Aucune condition particulière de prescription n'est publiée.")

# --- availability --------------------------------------------------------------------
st.header("Disponibilité", divider="gray", anchor="disponibilite")
dispo_date = fr_date(med.snapshots.get(DS.DISPONIBILITES))
st.markdown(f"**Situation au {dispo_date}** : {display.status_markdown(med.status_now)}")
if not med.availability_current.is_empty():
    common.dataframe(
        display.availability_table(med.availability_current),
        hide_index=True,
        column_config={"Page ANSM": st.column_config.LinkColumn(display_text="Page ANSM")},
        alt="Signalements de disponibilité en cours",
    )
    for url in med.availability_current["lien_ansm"].drop_nulls().unique().to_list():
        st.link_button("Voir la page de l'ANSM", url, icon=":material/open_in_new:")
if med.status_now in (1, 2):
    st.subheader("Alternatives disponibles", anchor=False)
    alts = shortages.alternatives(store, med.cis)
    if alts.is_empty():
        st.warning(
            "Aucune alternative disponible n'a été trouvée dans la base (même médicament, même groupe générique ou même substance, dosage et voie)."
        )
    else:
        st.caption(
            "Médicaments commercialisés sans rupture ni tension signalée, avec la raison pour laquelle ils peuvent remplacer celui-ci."
        )
        for r in alts.head(25).iter_rows(named=True):
            notes = shortages.alternative_notes(r)
            warn = f" — attention : {', '.join(notes)}" if notes else ""
            if r["cis"] == med.cis:
                st.markdown(f"- {md_escape(r['presentation'] or '')} (CIP13 {r['cip13']}) — *{r['raison']}*")
            else:
                st.page_link(
                    routes.MEDICINE.file,
                    label=f"{md_escape(r['denomination'] or r['cis'])} — {r['raison']}{md_escape(warn)}",
                    query_params={"cis": r["cis"]},
                )
    st.info("Demandez conseil à votre pharmacien ou médecin.", icon=":material/local_pharmacy:")
risk = shortages.medicine_risk(store, med.cis)
if risk:
    with st.expander("Risque de rupture dans les 6 mois (estimation expérimentale de DataMed)"):
        st.markdown(
            f"Probabilité estimée d'une nouvelle rupture ou tension : **{fr_number(100 * risk['probabilite'], 1)} %** "
            f"(rang {fr_int(risk['rang'])} sur {fr_int(risk['sur'])} médicaments commercialisés)."
        )
        if risk["facteurs"]:
            st.markdown("Principaux facteurs : " + " ; ".join(md_escape(f) for f in risk["facteurs"]) + ".")
        st.caption(
            "Estimation statistique à partir des signalements passés, à usage de veille ; elle ne prédit pas la disponibilité d'une boîte en pharmacie."
        )
episodes = shortages.medicine_episodes(store, med.cis)
if not episodes.is_empty():
    dated = episodes.filter(episodes["date_debut"].is_not_null())
    if not dated.is_empty():
        desc = f"Chronologie des épisodes de rupture ou de tension de {ident['denomination']}, du début à la remise à disposition."
        charting.show(
            charts.episode_timeline, dated, med.snapshots.get(DS.DISPONIBILITES), desc, alt=desc, key="med_timeline"
        )
    with st.expander(f"Historique des épisodes ({episodes.height})"):
        common.dataframe(
            display.episodes_table(episodes),
            hide_index=True,
            column_config={"Page ANSM": st.column_config.LinkColumn(display_text="Page ANSM")},
            alt="Épisodes de disponibilité du médicament",
        )
common.method(
    "Source : fichier de disponibilité des médicaments de l'ANSM (CIS_CIP_Dispo_Spec), à la date indiquée. "
    "Statuts : rupture de stock, tension d'approvisionnement, arrêt de commercialisation, remise à disposition. "
    "Selon l'ANSM, pour les signalements antérieurs au 06/10/2023, la date de début est en réalité une date de mise à jour. "
    "L'absence de signalement ne garantit pas la disponibilité en pharmacie."
)

# --- industrial sites of the holder ---------------------------------------------------
if holder_sites:
    st.header("Sites industriels connus de l'entreprise titulaire", divider="gray", anchor="sites")
    st.warning(
        "Ces sites appartiennent à l'entreprise titulaire ou à son groupe. Ce n'est pas forcément là que ce médicament "
        "est fabriqué : aucune source publique ne relie un médicament à son site de fabrication.",
        icon=":material/info:",
    )
    for holder, frame in holder_sites:
        st.markdown(f"**{md_escape(holder)}** : {len(frame)} site(s) connu(s)")
        desc = f"Carte des sites industriels connus de {holder} en France."
        st.pydeck_chart(maps.france_deck(store, frame, "points"), key=f"sites_{holder}", alt=desc, height=320)
        common.dataframe(sites.site_table(frame), hide_index=True, alt=f"Sites connus de {holder}")
    st.page_link(routes.SITES.file, label="Voir la carte de tous les sites", icon=":material/factory:")

# --- safety information -------------------------------------------------------------
if not med.infos.is_empty():
    st.header("Informations importantes de sécurité", divider="gray", anchor="securite")
    for r in med.infos.iter_rows(named=True):
        text, links = display.safe_info_text(r["texte"])
        period = f"du {fr_date(r['date_debut'])}" + (f" au {fr_date(r['date_fin'])}" if r["date_fin"] else "")
        st.markdown(f"**{period}** — {md_escape(text)}")
        for label, url in links:
            st.link_button(label[:80], url, icon=":material/open_in_new:")

# --- references ---------------------------------------------------------------------
st.header("Références", divider="gray", anchor="references")
st.markdown(
    f"- Médicament d'intérêt thérapeutique majeur (MITM) : **{'oui' if med.mitm else 'non'}**\n"
    f"- Fiche officielle : [base de données publique des médicaments (CIS {med.cis})]({med.bdpm_url})"
)
common.footer(store, routes.MEDICINE)
