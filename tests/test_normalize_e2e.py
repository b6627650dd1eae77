"""The number reader's misreadings reported in issue #20, through the launched app's own `/normalize_text` (what the
Preview button shows), each compared with the table's rule (tests/normalize_table.py `accepts`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import run_app
from tests.normalize_table import Case, accepts

pytestmark = pytest.mark.e2e

# written -> what a narrator says (any of them)
ISSUE_20 = {
    "1,250 people": ("one thousand two hundred fifty people",),
    "£1,250.75": ("one thousand two hundred fifty pounds seventy five pence",),
    "€1,000": ("one thousand euros", "a thousand euros"),
    "1001 nights": ("one thousand one nights", "a thousand one nights"),
    "Page 1000.": ("page one thousand",),
    "$3.50": ("three dollars fifty cents",),
    "$0.99": ("ninety nine cents",),
    "Call 555-1234": ("call five five five one two three four",),
    "version 3.11.7": ("version three point eleven point seven",),
    "call 911": ("call nine one one",),
    "14:00": ("fourteen hundred", "two pm"),
    "1234 apples": ("one thousand two hundred thirty four apples",),
    "$1,000": ("one thousand dollars", "a thousand dollars"),
}


@pytest.fixture(scope="module")
def client(tiny, tmp_path_factory: pytest.TempPathFactory):
    from gradio_client import Client

    work: Path = tmp_path_factory.mktemp("normalize-e2e")
    (work / "voices").mkdir()
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(work / "voices"), "GRADIO_TEMP_DIR": str(work / "tmp")}
    with run_app(env=env, log_path=work / "app.log") as (base, _):
        client = Client(base, verbose=False)
        yield client
        client.close()


def test_the_issue_20_examples_read_as_a_narrator_would(client) -> None:
    wrong = []
    for written, readings in ISSUE_20.items():
        spoken = client.predict(written, api_name="/normalize_text")
        if not accepts(Case("issue 20", "en", written, readings, ""), spoken):
            wrong.append(f"{written!r} -> {spoken!r}")
    assert not wrong, wrong
    assert client.predict("$3.50", "", False, api_name="/normalize_text") == "$3.50"  # switched off: as written
