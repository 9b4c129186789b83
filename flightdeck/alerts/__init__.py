"""The alert inbox shared by every monitor, and the webhook that announces what it raises and clears."""
