"""KPIs: definitions and their driver trees, loading their data (files, the command line, SQL sources),
roll-ups, series, status and alerts."""
