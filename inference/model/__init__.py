"""The models themselves: finding their files (weights.py), loading them fast (loader.py), one generation step as the
official pipeline does it (sampling.py), Whisper (asr.py) and fetching weights ahead of time (download.py).
torch, f5_tts and transformers are imported inside functions, never at module import."""
