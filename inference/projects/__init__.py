"""Long-form projects: a text split into chapters and segments (source.py), kept in a durable store (store.py)."""
