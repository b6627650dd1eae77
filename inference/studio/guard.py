"""Transitional: the per-chunk check lives in inference/check.py. Adapters that still reach `guard.summary` here get
it until they import `check_summary` from `inference`; then this file goes."""

from ..check import summary

__all__ = ["summary"]
