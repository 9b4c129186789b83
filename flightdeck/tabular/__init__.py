"""Tables that arrive as files: reading them, their production formats, row-level problem reports, size
caps, bulk writes and safe CSV downloads."""
