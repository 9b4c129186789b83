"""The foundation every package builds on: the database and its transactions, settings, the clock, errors,
roles and permissions, the audit chain, the edit tails and domain events."""
