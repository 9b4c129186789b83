"""Model cards: the card of any version, built from the registry, downloadable as Markdown or HTML."""

import pandas as pd
import streamlit as st

from components import model_data
from components.guard import guard
from components.navigation import BY_KEY
from components.query_params import query_id
from components.runtime import database
from components.text import md
from flightdeck.models import model_card
from flightdeck.models.records import STAGE_LABELS

user = guard("model_card")
db = database()
st.title("Model cards", anchor=False)
st.caption(
    "Built from what the registry holds (nothing typed twice): share them with reviewers and auditors."
)


stamp = model_data.stamp()
models = [m for m in model_data.models(stamp) if m.versions]
if not models:
    st.info("No model has a version yet, so there is no card to show.", icon=":material/description:")
    st.stop()
ids = [m.id for m in models]
by_id = {m.id: m for m in models}
left, right = st.columns(2)
model_id = left.selectbox(
    "Model",
    ids,
    index=ids.index(query_id("model", ids) or ids[0]),
    format_func=lambda i: by_id[i].name,
)
versions = model_data.versions(model_id, stamp)
numbers = [v.number for v in versions]
stages = {v.number: v.stage for v in versions}
number = right.selectbox(
    "Version",
    numbers,
    index=numbers.index(query_id("version", numbers) or by_id[model_id].production_number or numbers[0]),
    format_func=lambda n: f"v{n} · {STAGE_LABELS[stages[n]]}",
)
st.query_params.update({"model": str(model_id), "version": str(number)})

card = model_data.card(model_id, number, stamp)
buttons = st.columns([1, 1, 3])
buttons[0].download_button(
    "Download Markdown",
    data=lambda: model_card.to_markdown(card),
    file_name=f"{card.file_stem}.md",
    mime="text/markdown",
    icon=":material/download:",
)
buttons[1].download_button(
    "Download HTML",
    data=lambda: model_card.to_html(card),
    file_name=f"{card.file_stem}.html",
    mime="text/html",
    icon=":material/download:",
)
with buttons[2]:
    st.page_link(
        BY_KEY["model"].path,
        label="Open the model",
        icon=":material/open_in_new:",
        query_params={"model": str(model_id), "version": str(number)},
    )

with st.container(border=True):
    st.header(md(card.title), anchor=False)
    st.caption(md(card.subtitle))
    for section in card.sections:
        st.subheader(md(section.title), anchor=False)
        for paragraph in section.paragraphs:
            st.markdown(md(paragraph))
        if section.facts:
            st.markdown("  \n".join(f"**{md(name)}** {md(value)}" for name, value in section.facts))
        if section.table is not None and section.table.rows:
            st.dataframe(
                pd.DataFrame(list(section.table.rows), columns=list(section.table.columns)),
                hide_index=True,
                width="stretch",
            )
