"""Transitional: the voice library lives in inference/voices.py. Adapters that still import `VoiceNotFound` here get
it until they import it from `inference`; then this file goes."""

from ..voices import VoiceNotFound

__all__ = ["VoiceNotFound"]
