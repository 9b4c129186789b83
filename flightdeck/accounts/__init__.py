"""People: accounts and roles, passwords, sign-in and sessions, and the audit trail as admins read it."""
