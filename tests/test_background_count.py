"""What a visitor is told about others: a project's segments render in the background lane and are not counted as
generations a visitor takes turns with (the UI's "taking turns with N other generations", the
studio_generations_in_progress gauge); they are counted apart (studio_background_generations_in_progress).

| generation in progress                     | engine.active | in_progress gauge | background gauge |
|--------------------------------------------|---------------|-------------------|------------------|
| a visitor's stream, started                | 1             | 1                 | 0                |
| a project's segment (inside background())  | 0             | 0                 | 1                |
| either, closed                             | 0             | 0                 | 0                |
"""

from __future__ import annotations

import pytest

from inference import Studio
from inference.scheduler import background
from tests.conftest import REF_TEXT, wait_idle


def gauges(engine) -> tuple[float, float]:
    m = engine.metrics
    return m.in_progress._value.get(), m.background._value.get()


@pytest.mark.parametrize("lane", ["live", "background"])
def test_background_generations_are_counted_apart(engine, short_ref, lane: str) -> None:
    assert wait_idle(engine)
    studio = Studio(engine)
    request = studio.request(
        "One sentence here. And a second one after it.", audio=short_ref.read_bytes(), ref_text=REF_TEXT,
        options={"nfe_step": 4, "seed": 1},
    )  # fmt: skip
    if lane == "background":
        with background():
            chunks = studio.stream(request)
            next(chunks)
            assert (studio.active, *gauges(engine)) == (0, 0, 1)
    else:
        chunks = studio.stream(request)
        next(chunks)
        assert (studio.active, *gauges(engine)) == (1, 1, 0)
    chunks.close()
    assert (studio.active, *gauges(engine)) == (0, 0, 0)
