"""Reusable Streamlit pieces. Pages compose these; the logic they show lives in `flightdeck`."""
