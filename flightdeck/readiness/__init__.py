"""Operational readiness: the rubric, evidence, checks, scoring, snapshots, attestations and the production
gate."""
