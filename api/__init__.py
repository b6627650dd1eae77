"""REST adapters over the engine."""
