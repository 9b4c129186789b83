"""Keys: the snake_case names fields, KPIs, hierarchies and models go by in files, queries and
URLs."""

from __future__ import annotations

import re

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
