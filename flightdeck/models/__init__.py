"""Models: the registry and its versions, artifacts, evaluation, the four-eyes lifecycle, prediction and
outcome logs, drift, live performance, alerts and model cards."""
