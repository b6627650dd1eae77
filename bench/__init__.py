"""Side-by-side benchmark: the official f5_tts pipeline vs this studio's engine, on the same full-size random weights.

    .venv/bin/python -m bench [--quick] [--nfe N] [--text-chars N] [--runs N] [--only figure,...]

See bench/__main__.py for the figures and bench/RESULTS.md for what was measured.
"""
