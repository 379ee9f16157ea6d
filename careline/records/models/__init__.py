"""Tables of the records app."""
