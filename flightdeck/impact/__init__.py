"""Business impact of models in production: the estimators, their inputs from KPIs and deployments, money,
and impact alerts."""
