"""Studio operations over the engine: the saved-voice library (voices.py) and multi-voice dialogue (dialogue.py)."""
