"""The serverless job kinds: chosen from one table by the input's keys, each parsing and running itself, so that a new
kind is one class and one line in serverless/jobs.py's KINDS; and INPUT_DOC, the input's documentation, lists every
key each kind takes. No model is loaded here."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest

from inference import Engine, EngineSettings, Studio, SynthesisOptions
from serverless import jobs
from serverless.dub import DubJob
from serverless.edit import EDIT_KEYS, EditJob
from serverless.handler import Worker
from serverless.job import SPEECH_KEYS, Job
from serverless.limits import WorkerSettings
from serverless.speak import SpeakJob


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"text": "Hi.", "voice": "bob"}, SpeakJob),
        ({"subtitles": "1\n00:00:01,000 --> 00:00:02,000\nHi.\n"}, DubJob),
        ({"edit": {}}, EditJob),
        ({"voice": "bob"}, SpeakJob),  # nothing marks it: the speak job says what is missing
        ({"text": "Hi.", "subtitles": "..."}, DubJob),  # which refuses the text
        ({"edit": {}, "text": "Hi."}, EditJob),  # which refuses any other key
    ],
)
def test_the_kind_is_chosen_by_the_first_key_of_the_table(raw: dict, kind: type[Job]) -> None:
    assert jobs.kind_for(raw) is kind


@dataclass(frozen=True)
class EchoJob(Job):
    """A kind the worker has never heard of: what adding a kind takes."""

    KEY = "echo"

    said: str

    @classmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        return cls(str(raw["echo"]))

    def run(self, studio: Studio) -> dict[str, Any]:
        return {"echo": self.said, "voices": studio.voices.names()}

    async def stream(self, studio: Studio) -> AsyncIterator[dict[str, Any]]:
        for word in self.said.split():
            yield {"word": word}


def test_a_new_kind_is_one_class_and_one_line_in_the_table(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "KINDS", (EchoJob, *jobs.KINDS))
    worker = Worker(Studio(Engine(EngineSettings(voices_dir=tmp_path))))

    async def both() -> tuple[dict, list]:
        job = {"id": "e", "input": {"echo": "one two"}}
        return await worker.handler(job), [item async for item in worker.stream_handler(job)]

    out, items = asyncio.run(both())
    assert out == {"echo": "one two", "voices": []}
    assert items == [{"word": "one"}, {"word": "two"}]


def test_input_doc_lists_every_key_of_every_kind_and_each_options_range() -> None:
    doc = jobs.INPUT_DOC
    for key in (*SPEECH_KEYS, *EDIT_KEYS):
        assert f"    {key} " in doc or f"{key}," in doc or f"{key}:" in doc, key
    for name, spec in SynthesisOptions.specs().items():
        assert f"    {name:<17} {spec.describe()}: {spec.help}" in doc, name
    assert "{" not in doc.replace('{"', "").replace("{}", ""), "a placeholder was left unfilled"


@pytest.mark.parametrize("module", ["serverless.handler", "serverless.jobs"])
def test_no_docstring_is_rewritten_at_import(module: str) -> None:
    """The docstrings are what the files say: the input's documentation is INPUT_DOC, not a template filled in."""
    import importlib

    imported = importlib.import_module(module)
    source = Path(imported.__file__ or "").read_text(encoding="utf-8")
    assert imported.__doc__ == ast.get_docstring(ast.parse(source), clean=False)
    assert "{" not in (imported.__doc__ or "").replace('{"', "").replace("{...}", "")
