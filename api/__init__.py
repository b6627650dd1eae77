"""REST adapters over the studio (inference.Studio)."""
