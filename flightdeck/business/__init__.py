"""The business side: goals, who owns what, and the context of the data (the dictionary and hierarchies)."""
