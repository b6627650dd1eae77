"""Multi-voice dialogue: script parsing and planning (pure), the engine-level take, the /synthesize_dialogue endpoint
through gradio_client, and the Dialogue tab in a real browser, all on the tiny model."""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from inference import Engine, InputError, Reference, Studio, SynthesisOptions, SynthesisRequest
from inference.studio.dialogue import synthesize_dialogue, synthesize_script
from inference.text.script import MAX_TURNS, Turn, parse_mapping, parse_script, plan, speakers
from tests.conftest import REF_TEXT
from tests.live import run_app

ZH_TEXT = "对，这就是我，万人敬仰的太乙真人。"
VOICES = ["alice", "bob"]


def said(script: str) -> list[tuple]:
    return [(t.speaker, t.text) for t in parse_script(script)]


# ---- parsing ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "turns"),
    [
        ("[Narrator] It was late. [Guest] Hello?", [("Narrator", "It was late."), ("Guest", "Hello?")]),
        (
            "[Narrator]It was late.[Guest]Hello?[Narrator] Silence.",
            [("Narrator", "It was late."), ("Guest", "Hello?"), ("Narrator", "Silence.")],
        ),
        (
            "  [ Old \t  Man ]\n  It was\n\n   late.  \n[Guest]\nHello?\n",
            [("Old Man", "It was late."), ("Guest", "Hello?")],
        ),
        (
            "Narrator: It was late.\nGuest: Hello?\nIs anyone there?\n\nNarrator: No answer.",
            [("Narrator", "It was late."), ("Guest", "Hello? Is anyone there?"), ("Narrator", "No answer.")],
        ),
        ("Narrator:\nIt was late.\n  Guest :  Hello?", [("Narrator", "It was late."), ("Guest", "Hello?")]),
        (
            "[Zoë] Bonjour ! [Ελένη] Γειά σου. [旁白] 夜深了。",
            [("Zoë", "Bonjour !"), ("Ελένη", "Γειά σου."), ("旁白", "夜深了。")],
        ),
        ("旁白：夜深了。\n客人：你好？", [("旁白", "夜深了。"), ("客人", "你好？")]),
        ("Once upon a time. [Guest] Hello?", [("", "Once upon a time."), ("Guest", "Hello?")]),
        ("Once upon a time.\nGuest: Hello?", [("", "Once upon a time."), ("Guest", "Hello?")]),
        # with [tags], colons are plain text; a colon not followed by a space never starts a turn
        ("[Guest] Time: five. Note: late.", [("Guest", "Time: five. Note: late.")]),
        ("Guest: Meet at 10:30, see https://example.com", [("Guest", "Meet at 10:30, see https://example.com")]),
        # more than three words before a colon is prose, not a name
        ("The reason was simple, really: nobody came.", [("", "The reason was simple, really: nobody came.")]),
        ("", []),
        ("  \n\t ", []),
    ],
)
def test_parse_script(script: str, turns: list[tuple]) -> None:
    assert said(script) == turns


@pytest.mark.parametrize(
    ("script", "speed", "seed"),
    [
        ("[Guest speed=1.2 seed=7] Hello?", 1.2, 7),
        ("[Guest seed = 7, SPEED = 0.8] Hello?", 0.8, 7),
        ("[Guest seed=0] Hello?", None, 0),
        ("Guest speed=1.5: Hello?", 1.5, None),
        ("[Guest] Hello?", None, None),
    ],
)
def test_per_tag_speed_and_seed(script: str, speed: float | None, seed: int | None) -> None:
    (turn,) = parse_script(script)
    assert (turn.speaker, turn.text, turn.speed, turn.seed) == ("Guest", "Hello?", speed, seed)


def test_options_apply_to_their_turn_only_and_lines_are_counted() -> None:
    turns = parse_script("[A] one\n\n[B seed=3] two\n[B] three")
    assert [(t.speaker, t.seed, t.line) for t in turns] == [("A", None, 1), ("B", 3, 3), ("B", None, 4)]
    assert speakers(turns) == ["A", "B"]
    assert speakers(parse_script("hi [A] x [a] y [B] z")) == ["", "A", "B"]


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("[Guest speed=fast] Hello?", "speed=fast in [Guest speed=fast] on line 1 is not a number"),
        ("[Guest seed=1.5] Hello?", "seed=1.5"),
        ("\n[Guest pitch=2] Hello?", "Unknown option 'pitch' in [Guest pitch=2] on line 2"),
        ("[] Hello?", "no speaker name"),
        ("[speed=1.2] Hello?", "no speaker name"),
        ("[speed=1.2 Guest] Hello?", "name before the options"),
        ("[Guest] Hello [Host", "Unmatched '[' on line 1"),
        ("[Guest] Hello\n] there", "Unmatched ']' on line 2"),
        ("Guest: a [b", "Unmatched '['"),
    ],
)
def test_malformed_scripts_are_named(script: str, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        parse_script(script)


NAME_WORD = st.text(st.characters(categories=["L"]), min_size=1, max_size=8)
TEXT_WORD = st.text(st.characters(categories=["L", "N", "P"], exclude_characters="[]:：\\"), min_size=1, max_size=8)
SPACE = st.sampled_from([" ", "  ", "\t", " \n ", "\n\n"])


@st.composite
def dialogues(draw: st.DrawFn) -> list[tuple[str, float | None, int | None, list[str]]]:
    return draw(
        st.lists(
            st.tuples(
                st.lists(NAME_WORD, min_size=1, max_size=3).map(" ".join),
                st.none() | st.sampled_from([0.5, 1.0, 1.25, 2.0]),
                st.none() | st.integers(0, 2**31 - 1),
                st.lists(TEXT_WORD, min_size=1, max_size=6),
            ),
            min_size=1,
            max_size=6,
        )
    )


def render(name: str, speed: float | None, seed: int | None) -> str:
    return " ".join(
        [name, *([f"speed={speed}"] if speed is not None else []), *([f"seed={seed}"] if seed is not None else [])]
    )


@settings(max_examples=150, deadline=None)
@given(dialogues(), st.data())
def test_bracket_scripts_round_trip(turns, data) -> None:
    script = "".join(
        f"{data.draw(SPACE)}[{data.draw(SPACE).replace(chr(10), '')}{render(*t[:3])}]"
        f"{data.draw(SPACE)}{data.draw(SPACE).join(t[3])}"
        for t in turns
    )
    parsed = parse_script(script)
    assert [(p.speaker, p.speed, p.seed, p.text) for p in parsed] == [
        (unicodedata.normalize("NFC", n), sp, sd, " ".join(w)) for n, sp, sd, w in turns
    ]


@settings(max_examples=150, deadline=None)
@given(dialogues(), st.data())
def test_colon_scripts_round_trip(turns, data) -> None:
    lines = []
    for name, speed, seed, words in turns:
        lines.append(f"{render(name, speed, seed)}: {' '.join(words[:2])}")
        lines.extend(data.draw(st.sampled_from(["", "  "])) + w for w in words[2:])  # continuation lines
    parsed = parse_script("\n".join(lines))
    assert [(p.speaker, p.speed, p.seed, p.text) for p in parsed] == [
        (unicodedata.normalize("NFC", n), sp, sd, " ".join(w)) for n, sp, sd, w in turns
    ]


def test_worked_examples_in_the_docstrings() -> None:
    import doctest

    import inference.studio.dialogue
    import inference.text.script

    for module in (inference.text.script, inference.studio.dialogue):
        result = doctest.testmod(module)
        assert result.failed == 0  # they hold
    assert doctest.testmod(inference.text.script).attempted > 0  # the examples exist


# ---- mapping and planning ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        {"Narrator": "alice", "Guest": "bob"},
        '{"Narrator": "alice", "Guest": "bob"}',
        '[["Narrator", "alice"], ["Guest", "bob"]]',
        [{"tag": "Narrator", "voice": "alice"}, ["[Guest]", " bob "], ["", ""]],
        "Narrator = alice\nGuest=bob",
        '"Narrator=alice, Guest=bob"',
    ],
)
def test_parse_mapping_forms(value) -> None:
    assert parse_mapping(value) == {"Narrator": "alice", "Guest": "bob"}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("{not json", "not valid JSON"),
        ([1, 2, 3], "is not a tag and a voice"),
        ({"Narrator": 3}, "must be a tag and a voice name"),
        ({"Narrator": "alice", "narrator": "bob"}, "mapped twice"),
        (42, "must be an object"),
    ],
)
def test_bad_mappings_are_named(value, words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse_mapping(value)
    assert parse_mapping(None) == parse_mapping("") == parse_mapping("  ") == {}


def test_plan_maps_tags_to_voices() -> None:
    turns = parse_script("Intro. [narrator] It was late. [BOB] Hi. [Guest seed=9] Hello?")
    planned = plan(turns, {"Narrator": "Alice", "default": "bob", "guest": "BOB"}, VOICES)
    assert [(t.speaker, t.voice, t.seed) for t in planned] == [
        ("", "bob", None),
        ("narrator", "alice", None),
        ("BOB", "bob", None),
        ("Guest", "bob", 9),
    ]


def test_unknown_tags_are_all_named_with_the_known_voices() -> None:
    turns = parse_script("[Narrator] Hi.\n[Host] Hello.\n[Critic] Hm.\n[host] Again.")
    with pytest.raises(InputError) as info:
        plan(turns, {"Narrator": "alice"}, VOICES)
    text = str(info.value)
    assert "Unknown speaker tags: [Host] (lines 2, 4), [Critic] (line 3)." in text
    assert "Known voices: alice, bob." in text and "[Narrator]" not in text
    with pytest.raises(InputError, match=r"Unknown speaker tag: \[Note\] \(line 2\)"):
        plan(parse_script("alice: Hi.\nNote: this is prose."), {}, VOICES)  # a colon line read as a tag is named
    with pytest.raises(InputError, match="none yet"):
        plan(turns, {}, [])


@pytest.mark.parametrize(
    ("script", "mapping", "words"),
    [
        ("", {}, "The script is empty"),
        ("  \n ", {"default": "alice"}, "The script is empty"),
        ("It was late. [bob] Hi.", {}, "text before any speaker tag (line 1: 'It was late.')"),
        ("[Guest] Hi.", {"Guest": "carol"}, "No voice called 'carol' ([Guest] -> 'carol')"),
        ("[alice] Hi. [bob]\n[alice] Bye.", {}, "The turn of [bob] on line 1 has nothing to say"),
        ("[alice] ... [bob] Hi.", {}, "[alice] on line 1 has nothing to say"),
        ("[alice speed=9] Hi.", {}, "In the tag [alice] on line 1: speed=9.0 is out of range"),
        ("[alice seed=-1] Hi.", {}, "seed=-1 is out of range"),
        ("[alice] a " * (MAX_TURNS + 1), {}, f"the limit is {MAX_TURNS}"),
    ],
)
def test_plan_refuses_before_generating(script: str, mapping: dict, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        plan(parse_script(script), mapping, VOICES)


# ---- the engine -------------------------------------------------------------------------------------------------
FAST = SynthesisOptions(nfe_step=7, seed=100)


@pytest.fixture(scope="module")
def refs(ref_wav: Path, ref_zh: Path) -> dict[str, Reference]:
    return {"alice": Reference(ref_wav, REF_TEXT), "bob": Reference(ref_zh, ZH_TEXT)}


def test_dialogue_with_two_voices(engine: Engine, refs: dict[str, Reference]) -> None:
    script = "[Narrator] It was late. [Guest speed=1.5] Hello there? [Narrator seed=7] Nobody answered."
    planned = plan(parse_script(script), {"Narrator": "alice", "Guest": "bob"}, refs)
    calls = []
    result = synthesize_dialogue(
        engine, planned, refs, pause_s=0.25, options=FAST, progress=lambda done, total: calls.append((done, total))
    )

    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert result.sample_rate == 24000 and result.wave.dtype == np.float32 and result.base_seed == 100
    assert [(t.index, t.speaker, t.voice, t.seed, t.speed) for t in result.turns] == [
        (1, "Narrator", "alice", 100, 1.0),
        (2, "Guest", "bob", 101, 1.5),
        (3, "Narrator", "alice", 7, 1.0),
    ]
    lengths = [t.duration for t in result.turns]
    assert result.duration == pytest.approx(sum(lengths) + 2 * 0.25, abs=1e-3)
    assert [t.start for t in result.turns] == pytest.approx([0, lengths[0] + 0.25, sum(lengths[:2]) + 0.5], abs=1e-3)
    gap = result.wave[round(lengths[0] * 24000) + 10 : round((lengths[0] + 0.25) * 24000) - 10]
    assert len(gap) > 5000 and not gap.any()  # the pause is silence
    assert result.table()[1] == {
        "turn": 2,
        "speaker": "Guest",
        "voice": "bob",
        "text": "Hello there?",
        "seed": 101,
        "speed": 1.5,
        "start": round(result.turns[1].start, 3),
        "duration": round(lengths[1], 3),
        "spoken_text": "Hello there?",
        "check": None,
    }

    # Each turn is what a single synthesis with the reported seed gives: a good take can be reproduced alone.
    alone = engine.synthesize(
        SynthesisRequest("Hello there?", refs["bob"], SynthesisOptions(nfe_step=7, seed=101, speed=1.5))
    )
    start = round(result.turns[1].start * 24000)
    np.testing.assert_array_equal(result.wave[start : start + len(alone.wave)], alone.wave)


def test_random_base_seed_is_reported_and_reproduces(engine: Engine, refs: dict[str, Reference]) -> None:
    planned = plan(parse_script("[alice] Hi. [bob] Hello."), {}, refs)
    first = synthesize_dialogue(engine, planned, refs, pause_s=0.0, options=SynthesisOptions(nfe_step=7))
    assert [t.seed for t in first.turns] == [first.base_seed, (first.base_seed + 1) % 2**31]
    assert first.duration == pytest.approx(sum(t.duration for t in first.turns), abs=1e-3)
    again = synthesize_dialogue(
        engine, planned, refs, pause_s=0.0, options=SynthesisOptions(nfe_step=7, seed=first.base_seed)
    )
    np.testing.assert_array_equal(again.wave, first.wave)


def test_inputs_are_checked_before_the_first_turn(
    engine: Engine, refs: dict[str, Reference], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_generation(*args, **kwargs):
        raise AssertionError("generated although the input was bad")

    monkeypatch.setattr(engine, "synthesize", no_generation)
    planned = plan(parse_script("[alice] Hi. [bob] Hello."), {}, refs)
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio " * 100)
    with pytest.raises(InputError, match="could not read"):
        synthesize_dialogue(engine, planned, {**refs, "bob": Reference(broken, "x")}, options=FAST)
    with pytest.raises(InputError, match="No reference was given for the voice 'bob'"):
        synthesize_dialogue(engine, planned, {"alice": refs["alice"]}, options=FAST)
    with pytest.raises(InputError, match="pause between turns must be 0 to 5"):
        synthesize_dialogue(engine, planned, refs, pause_s=float("nan"), options=FAST)
    with pytest.raises(InputError, match="empty"):
        synthesize_dialogue(engine, [], refs, options=FAST)
    with pytest.raises(InputError, match="limit is"):
        long = [Turn("alice", "word " * 1100, voice="alice")] * 5
        synthesize_dialogue(engine, long, refs, options=FAST)


def test_synthesize_script_uses_saved_and_uploaded_voices(engine: Engine, ref_wav: Path, ref_zh: Path) -> None:
    engine.voices.save("Dialogue alice", ref_wav.read_bytes(), REF_TEXT, overwrite=True)
    try:
        result = synthesize_script(
            engine,
            "Once. [Guest] Hello.",
            '{"default": "dialogue ALICE"}',
            {"Guest": Reference(ref_zh, ZH_TEXT)},
            0.1,
            FAST,
        )
        assert [(t.speaker, t.voice) for t in result.turns] == [("", "Dialogue alice"), ("Guest", "Guest")]
        assert result.table()[0]["speaker"] == "default"
    finally:
        engine.voices.delete("Dialogue alice")


def test_tab_rows_follow_the_script(engine: Engine) -> None:
    import gradio as gr

    from ui.dialogue import ROWS, SLOTS, DialogueHandlers, Upload

    h = DialogueHandlers(Studio(engine))
    names = ["Upload 1", "Mine", ""]
    empty = [("", None)] * ROWS
    out = h.find_speakers("Intro. [Narrator] Hi. [mine] Yo. [narrator] Bye.", empty, names)
    assert [tag for tag, _ in out] == ["default", "Narrator", "mine", gr.skip()]  # an empty row that stays: not sent
    assert [u.get("value") for _, u in out] == [None, None, "Mine", None]  # a tag named like a voice gets it
    assert out[0][1]["choices"][:SLOTS] == ["Upload 1", "Mine", "Upload 3"]
    # Rows whose tag stays are not sent again, so a voice being picked meanwhile is kept.
    again = h.find_speakers(
        "[Narrator] Hi. [Guest] Yo.", [("Narrator", "alice"), ("mine", None), ("", None), ("", None)], names
    )
    assert [tag for tag, _ in again] == [gr.skip(), "Guest", gr.skip(), gr.skip()]
    assert "value" not in again[0][1] and again[1][1]["value"] is None
    assert h.find_speakers("[broken", empty, names) is None
    with pytest.raises(InputError, match=re.escape("No voice is picked for the tag [Guest]")):
        h.generate(
            "[Guest] Hi.",
            [("Guest", ""), *[("", "")] * (ROWS - 1)],
            [Upload(None, n, "") for n in names],
            0.4,
            7,
            1,
            lambda *a, **k: None,
        )


# ---- the launched app: gradio_client and the browser ------------------------------------------------------------
@pytest.fixture(scope="module")
def app_url(tiny, tmp_path_factory, ref_wav: Path, ref_zh: Path) -> Iterator[str]:
    """The app with two voices copied into VOICES_DIR by hand."""
    root = tmp_path_factory.mktemp("dialogue-app")
    voices = root / "voices"
    voices.mkdir()
    shutil.copy(ref_wav, voices / "alice.wav")
    (voices / "alice.txt").write_text(REF_TEXT, encoding="utf-8")
    shutil.copy(ref_zh, voices / "bob.wav")
    (voices / "bob.txt").write_text(ZH_TEXT, encoding="utf-8")
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}, log_path=root / "app.log") as (
        base,
        _,
    ):
        yield base


@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    c = Client(app_url, verbose=False)
    yield c
    c.close()  # its heartbeat stream would hold the app's shutdown for seconds


def test_dialogue_through_gradio_client(client) -> None:
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/synthesize_dialogue"]
    names = ["script", "voices", "pause", "nfe_step", "seed", "normalize", "check"]  # new ones go at the end
    assert [p["parameter_name"] for p in info["parameters"]] == names
    assert [p["parameter_has_default"] for p in info["parameters"]] == [False, True, True, True, True, True, True]

    script = "[Narrator] It was late. [Guest] Hello? [Narrator seed=5] Silence."
    audio, turns, base = client.predict(
        script, '{"Narrator": "alice", "Guest": "bob"}', pause=0.3, nfe_step=7, seed=11, api_name="/synthesize_dialogue"
    )
    wave, sr = sf.read(audio)
    assert sr == 24000 and wave.ndim == 1 and base == 11
    assert [(t["turn"], t["speaker"], t["voice"], t["text"], t["seed"]) for t in turns] == [
        (1, "Narrator", "alice", "It was late.", 11),
        (2, "Guest", "bob", "Hello?", 12),
        (3, "Narrator", "alice", "Silence.", 5),
    ]
    assert len(wave) / sr == pytest.approx(sum(t["duration"] for t in turns) + 2 * 0.3, abs=0.01)

    # A list mapping and a tag named after a saved voice; the same seed gives the same audio.
    again, turns2, _ = client.predict(
        script.replace("[Guest]", "[bob]"),
        [["Narrator", "alice"]],
        pause=0.3,
        nfe_step=7,
        seed=11,
        api_name="/synthesize_dialogue",
    )
    assert [t["voice"] for t in turns2] == ["alice", "bob", "alice"]
    np.testing.assert_allclose(sf.read(again)[0], wave, atol=1e-4)


@pytest.mark.parametrize(
    ("script", "voices", "words"),
    [
        (
            "[Narrator] Hi. [Host] Hello. [Critic] Hm.",
            '{"Narrator": "alice"}',
            ["Unknown speaker tags: [Host] (line 1), [Critic] (line 1)", "Known voices: alice, bob"],
        ),
        ("[Narrator] Hi.", '{"Narrator": "carol"}', ["No voice called 'carol'"]),
        ("", "{}", ["The script is empty"]),
        ("[alice] Hi.", "{oops", ["not valid JSON"]),
    ],
)
def test_dialogue_errors_reach_the_client(client, script: str, voices: str, words: list[str]) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(script, voices, nfe_step=7, api_name="/synthesize_dialogue")
    for w in words:
        assert w in str(info.value)
    assert "Traceback" not in str(info.value)


def test_dialogue_tab_in_the_browser(app_url: str, browser, ref_wav: Path) -> None:
    from playwright.sync_api import expect

    from tests.test_browser import player_audio

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        context.set_default_timeout(30_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(app_url)
        page.get_by_role("tab", name="Dialogue").click()

        # Type a two-speaker script; leaving the box fills the tag rows.
        page.locator("#dialogue-script textarea").fill("[Narrator] It was late.\n[Visitor] Hello? Anyone?")
        page.locator("#dialogue-tag-1 textarea, #dialogue-tag-1 input").first.click()
        expect(page.locator("#dialogue-tag-0 textarea, #dialogue-tag-0 input").first).to_have_value("Narrator")
        expect(page.locator("#dialogue-tag-1 textarea, #dialogue-tag-1 input").first).to_have_value("Visitor")

        # The visitor's voice is uploaded in the tab and given a name.
        page.locator("#dialogue-uploads").get_by_text("Voices uploaded for this dialogue").click()
        slot = page.locator("#dialogue-ref-0")
        slot.locator("input[type=file]").set_input_files(str(ref_wav))
        expect(slot.locator("a[data-testid=download-link]")).to_have_attribute("href", re.compile(r"/file="))
        page.locator("#dialogue-ref-name-0 textarea, #dialogue-ref-name-0 input").first.fill("Guest ref")
        page.locator("#dialogue-ref-text-0 textarea, #dialogue-ref-text-0 input").first.fill(REF_TEXT)
        page.locator("#dialogue-script textarea").click()  # leaving the name box offers it in the pickers

        # Narrator: a saved voice, picked from the list; Visitor: the uploaded reference.
        for row, voice in ((0, "alice"), (1, "Guest ref")):
            picker = page.locator(f"#dialogue-voice-{row}")
            picker.locator("input").click()
            picker.get_by_role("option", name=voice, exact=True).click()
            expect(page.locator(f"#dialogue-voice-{row} input")).to_have_value(voice)

        page.locator("#dialogue-quality").get_by_label("Fast (7 steps)").check()
        page.locator("#dialogue-generate").click()
        expect(page.locator("#dialogue-result a[data-testid=download-link]")).to_have_attribute(
            "href", re.compile(r"/file=.*/dialogue-narrator-it-was-late-visitor-seed-\d+\.wav$"), timeout=120_000
        )
        info = player_audio(page, "dialogue-result")
        assert info["peak"] > 0 and info["decoded_seconds"] > 0.5, info

        table = page.locator("#dialogue-turns")
        expect(table).to_contain_text("Narrator")
        expect(table).to_contain_text("Visitor")
        expect(table).to_contain_text("alice")
        expect(table).to_contain_text("Guest ref")
        expect(page.locator("#dialogue-seed-used input")).to_have_value(re.compile(r"^\d+$"))
        page.screenshot(path="/tmp/studio-dialogue.png", full_page=True)
        assert not errors, errors
    finally:
        context.close()
