"""Consent to clone a voice (F5_REQUIRE_CONSENT; inference/consent.py, the Studio's consent methods, their adapters),
on real speech: espeak-ng voices read, Whisper tiny.en (CTranslate2) hears, resemblyzer compares the voices.

| case                          | what is sent                                    | expected                        |
|-------------------------------|-------------------------------------------------|---------------------------------|
| phrases                       | 300 fresh phrases                               | all but a few distinct; common  |
|                               |                                                 | words; the lead; 5 own words    |
| the owner reads the phrase    | en-us reference, en-us reading                  | a proof (heard, WER, similarity,|
|                               |                                                 | thresholds, sha256); reference  |
|                               |                                                 | usable on every worker          |
| other words (an old phrase)   | en-us reading another phrase                    | "did not say the phrase", the   |
|                               |                                                 | phrase; the token still good    |
| another speaker reads it      | en-us reference, en-us+f3 reading               | "not the voice of the reference"|
| expired / replayed / forged   | clock past 10 min; a spent token; an altered or | "expired" / "already used" /    |
| token                         | foreign-key token; garbage                      | "not issued"                    |
| a volume that cannot be       | the voices folder is a file                     | "cannot be written", what to do |
| written                       |                                                 | (no path)                       |
| off by default                | F5_REQUIRE_CONSENT unset, a recording           | used and saved, nothing asked,  |
|                               |                                                 | no proof written                |
| required, no consent          | a recording as reference, request, save, edit   | refused with the steps; a voice |
|                               |                                                 | the operator put in is usable   |
| a saved voice keeps its proof | save_voice with (reading, token); rename; delete| <name>.consent.json beside it,  |
|                               |                                                 | moved, deleted                  |
| REST, gradio_client           | /v1/consent/phrase, /v1/consent, /v1/voices,    | 200/201 with the proof; 400 with|
| (the app in process)          | /consent_phrase, /give_consent                  | the steps or what to do         |
| serverless                    | consent_phrase job; speak job with / without    | a phrase; audio / the steps     |
|                               | consent keys                                    |                                 |
| the Clone tab                 | consent off / on                                | the Consent group hidden / shown|
|                               | the page's check: another voice, the owner      | "Not accepted: ..." / recorded  |

Phrases are random in use; tests that read one aloud fix it (PHRASE, which tiny.en hears right from both voices),
since tiny.en mishears some espeak-ng phrases: bench/consent.py measures the rates over fresh phrases.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import consent as consent_module
from inference.consent import LEAD, TOKEN_TTL_S, Consents, make_phrase, own_words, unheard
from inference.errors import InputError
from tests.speech import SENTENCES, real_whisper, speak

PHRASE = f"Purple mountain, orange winter, fifty nine. {LEAD}."
OTHER_PHRASE = f"Red candle, golden window, twenty nine. {LEAD}."  # an older phrase, as if replayed
OWNER, STRANGER = "en-us", "en-us+f3"


def wav(wave: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wave, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def whisper():
    from inference.model.asr_ct2 import CTranslate2Transcriber

    return CTranslate2Transcriber(str(real_whisper()), device="cpu")


@pytest.fixture(scope="module")
def audio() -> dict[str, bytes]:
    """The recordings: references (a sentence) and readings (the phrase, another phrase) by both voices."""
    return {
        "reference": wav(speak(SENTENCES[0], OWNER, rate=24000), 24000),
        "reference2": wav(speak(SENTENCES[1], OWNER, rate=24000), 24000),
        "reading": wav(speak(PHRASE, OWNER), 16000),
        "other_words": wav(speak(OTHER_PHRASE, OWNER), 16000),
        "stranger": wav(speak(PHRASE, STRANGER), 16000),
    }


@pytest.fixture(scope="module", autouse=True)
def fixed_phrase():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consent_module, "make_phrase", lambda rng=None: PHRASE)
        yield


def studio_on(folder: Path, whisper, required: bool = True, **more):
    from inference import Engine, EngineSettings, Studio

    settings = EngineSettings(voices_dir=folder, require_consent=required, **more)
    return Studio(Engine(settings, transcriber=whisper))


def refused(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as e:
        call(*args, **kwargs)
    return e.value


# ---- phrases and tokens --------------------------------------------------------------------------------------------
def test_phrases_change_each_time_and_use_common_words() -> None:
    phrases = [make_phrase() for _ in range(300)]  # the module's own (imported before PHRASE was fixed)
    assert len(set(phrases)) >= 295, len(set(phrases))
    for p in phrases:
        assert p.endswith(f" {LEAD}.") and len(own_words(p)) == 5, p
        colour, thing = p.split(",")[0].lower().split()
        assert colour in consent_module.COLOURS and thing in consent_module.THINGS, p
    # an old phrase sharing some own words, in another order, does not count them
    assert unheard(["blue", "river", "72"], ["a", "blue", "river", "27"]) == ("72",)
    assert unheard(["blue", "river", "red", "tiger"], ["red", "tiger", "blue", "river"]) == ("red", "tiger")


def test_tokens_expire_are_single_use_and_cannot_be_forged(tmp_path: Path) -> None:
    now = [1_000_000.0]
    consents = Consents(tmp_path, clock=lambda: now[0])
    good = (lambda wave, sr, text: (0.0, text)), (lambda *a: 0.95)  # the words and the voice pass: tokens alone
    wave = (np.zeros(16000, np.float32), 16000)
    token, phrase = consents.issue()
    assert phrase == PHRASE and consents.read(token)[0] == PHRASE
    now[0] += TOKEN_TTL_S + 1
    assert "expired" in refused(consents.check, wave, wave, token, *good, "a" * 64).message
    now[0] -= TOKEN_TTL_S + 1
    proof = consents.check(wave, wave, token, *good, "a" * 64)
    assert proof.phrase == PHRASE and consents.proof("a" * 64) == proof
    assert "already used" in refused(consents.check, wave, wave, token, *good, "b" * 64).message
    another_worker = Consents(tmp_path, consents.clock)  # on the same volume
    assert "already used" in refused(another_worker.read, token).message
    fresh, _ = consents.issue()
    payload, signature = fresh.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["e"] += 3600  # a longer life, signed with the old signature
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=") + "." + signature
    foreign, _ = Consents(tmp_path / "another-volume").issue()
    for bad in (forged, foreign, "garbage", "a.b.c", fresh[:-3]):
        assert "not issued by this studio" in refused(consents.read, bad).message, bad
    assert Consents(tmp_path, consents.clock).read(fresh)[0] == PHRASE  # any worker sharing the volume checks it
    assert (tmp_path / ".consent-key").stat().st_size == 32
    (tmp_path / "not-a-folder").write_text("")  # a volume that cannot be written
    e = refused(Consents(tmp_path / "not-a-folder").issue)
    assert "cannot be written" in e.message and "VOICES_DIR writable" in e.hint and str(tmp_path) not in str(e), e


# ---- the check on real speech ---------------------------------------------------------------------------------------
def test_the_owner_reading_the_phrase_is_accepted(tmp_path: Path, whisper, audio: dict[str, bytes]) -> None:
    studio = studio_on(tmp_path, whisper)
    token, phrase = studio.consent_phrase()
    assert phrase == PHRASE
    proof = studio.give_consent(audio["reference"], audio["reading"], token)
    print("accepted:", proof)
    assert proof.word_error_rate <= proof.max_word_error_rate and proof.similarity >= proof.min_similarity, proof
    assert proof.reference_sha256 == hashlib.sha256(audio["reference"]).hexdigest()
    assert proof.phrase == PHRASE and "mountain" in proof.heard.lower()
    kept = json.loads((tmp_path / ".consents" / f"{proof.reference_sha256}.json").read_text())
    assert kept["similarity"] == proof.similarity and kept["date"] == proof.date
    assert studio.reference(audio=audio["reference"]).audio == audio["reference"]
    another_worker = studio_on(tmp_path, whisper)
    assert another_worker.request("Hello.", audio=audio["reference"]).reference.audio == audio["reference"]
    assert "recording" in str(refused(another_worker.reference, audio=audio["reference2"]))  # not this one


def test_other_words_are_refused_and_the_phrase_is_said_again(tmp_path: Path, whisper, audio) -> None:
    studio = studio_on(tmp_path, whisper)
    token, _ = studio.consent_phrase()
    e = refused(studio.give_consent, audio["reference"], audio["other_words"], token)
    assert e.message.startswith("The recording did not say the phrase") and PHRASE in e.hint, e
    assert studio.give_consent(audio["reference"], audio["reading"], token).phrase == PHRASE  # the token still good


def test_another_speaker_reading_it_is_refused(tmp_path: Path, whisper, audio) -> None:
    studio = studio_on(tmp_path, whisper)
    token, _ = studio.consent_phrase()
    e = refused(studio.give_consent, audio["reference"], audio["stranger"], token)
    print(e)
    assert "not the voice of the reference" in e.message and "must read the phrase" in e.hint, e
    assert "consent" in str(refused(studio.reference, audio=audio["reference"]))


# ---- enforcement -----------------------------------------------------------------------------------------------
def test_off_by_default_nothing_is_asked(tmp_path: Path, whisper, audio) -> None:
    from inference import EngineSettings

    assert EngineSettings().require_consent is False
    assert EngineSettings.from_env({"F5_REQUIRE_CONSENT": "1"}).require_consent is True
    studio = studio_on(tmp_path, whisper, required=False)
    assert studio.reference(audio=audio["reference"]).audio == audio["reference"]
    voice = studio.save_voice("Free", audio["reference"], SENTENCES[0])
    assert voice.name == "Free" and sorted(p.name for p in tmp_path.iterdir()) == ["Free.txt", "Free.wav"]


def test_required_refuses_a_new_recording_with_the_steps(tmp_path: Path, whisper, audio) -> None:
    from inference import EditRequest

    studio = studio_on(tmp_path, whisper)
    for call in (
        lambda: studio.reference(audio=audio["reference"]),
        lambda: studio.request("Hello.", audio=audio["reference"]),
        lambda: studio.save_voice("Ann", audio["reference"], SENTENCES[0]),
        lambda: studio.edit(EditRequest(audio["reference"], "The quick brown cat.")),
    ):
        e = refused(call)
        assert "only with its owner's consent" in e.message and "consent phrase" in e.hint, e
    assert studio.voices.names() == []
    (tmp_path / "Operator.wav").write_bytes(audio["reference2"])  # put there by the operator
    assert studio.reference(voice="operator").voice == "Operator"


def test_a_saved_voice_keeps_its_proof_beside_it(tmp_path: Path, whisper, audio) -> None:
    studio = studio_on(tmp_path, whisper)
    token, _ = studio.consent_phrase()
    voice = studio.save_voice("Ann", audio["reference"], SENTENCES[0], consent=(audio["reading"], token))
    proof = json.loads((tmp_path / "Ann.consent.json").read_text())
    assert proof["phrase"] == PHRASE and proof["reference_sha256"] == hashlib.sha256(audio["reference"]).hexdigest()
    assert studio.reference(voice=voice.name).voice == "Ann"
    studio.voices.rename("Ann", "Anna")
    assert not (tmp_path / "Ann.consent.json").exists() and json.loads((tmp_path / "Anna.consent.json").read_text())
    studio.voices.delete("Anna")
    assert not any(p.name.startswith("Anna") for p in tmp_path.iterdir())
    # consent given before (kept by the reference's hash): saving needs nothing more
    assert studio.save_voice("Again", audio["reference"], SENTENCES[0]).name == "Again"
    assert json.loads((tmp_path / "Again.consent.json").read_text())["phrase"] == PHRASE


# ---- the adapters ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tiny, tmp_path_factory: pytest.TempPathFactory, whisper):
    """The app as app.py builds it (REST and the UI), in this process, with consent required."""
    from app import ServerSettings, create_app
    from tests.badinputs import serve

    studio = studio_on(tmp_path_factory.mktemp("consent-voices"), whisper, model=str(tiny["yaml"]))
    app, _ = create_app(ServerSettings(), studio)
    with serve(app) as url:
        yield url, studio


@pytest.mark.slow
def test_rest_phrase_consent_and_saving(served, audio) -> None:
    import httpx

    url, studio = served
    with httpx.Client(base_url=url, timeout=120) as http:
        got = http.get("/v1/consent/phrase").json()
        assert got["phrase"] == PHRASE and got["token"], got
        files = {"audio": ("ann.wav", audio["reference"], "audio/wav")}
        r = http.post("/v1/voices", data={"name": "Ann", "transcript": SENTENCES[0]}, files=files)
        assert r.status_code == 400 and "consent" in r.json()["error"]["message"], r.text
        r = http.post(
            "/v1/consent",
            data={"token": got["token"]},
            files={"reference": ("r.wav", audio["reference"]), "recording": ("s.wav", audio["stranger"])},
        )
        assert r.status_code == 400 and "not the voice of the reference" in r.json()["error"]["message"], r.text
        r = http.post(
            "/v1/voices",
            data={"name": "Ann", "transcript": SENTENCES[0], "consent_token": got["token"]},
            files={**files, "consent_recording": ("c.wav", audio["reading"], "audio/wav")},
        )
        assert r.status_code == 201, r.text
        assert json.loads((studio.settings.voices_dir / "Ann.consent.json").read_text())["phrase"] == PHRASE
        token = http.get("/v1/consent/phrase").json()["token"]
        r = http.post(
            "/v1/consent",
            data={"token": token},
            files={"reference": ("r.wav", audio["reference2"]), "recording": ("s.wav", audio["reading"])},
        )
        assert r.status_code == 200 and r.json()["phrase"] == PHRASE, r.text


@pytest.mark.slow
def test_gradio_client_phrase_and_consent(served, audio, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    url, studio = served
    paths = {}
    for name in ("reference", "reading", "other_words"):
        paths[name] = tmp_path / f"{name}.wav"
        paths[name].write_bytes(audio[name])
    client = Client(url, verbose=False)
    token, phrase = client.predict(api_name="/consent_phrase")
    assert phrase == PHRASE
    with pytest.raises(Exception, match="did not say the phrase"):
        client.predict(handle_file(str(paths["reference"])), handle_file(str(paths["other_words"])), token,
                       api_name="/give_consent")  # fmt: skip
    proof = client.predict(
        handle_file(str(paths["reference"])), handle_file(str(paths["reading"])), token, api_name="/give_consent"
    )
    assert proof["phrase"] == PHRASE and proof["similarity"] >= proof["min_similarity"], proof


@pytest.mark.slow
def test_serverless_phrase_job_and_speak_with_consent(tiny, tmp_path: Path, whisper, audio) -> None:
    from tests.conftest import serverless_worker

    studio = studio_on(tmp_path, whisper, model=str(tiny["yaml"]))
    worker = serverless_worker(studio.engine)
    out = worker.handler({"id": "p", "input": {"consent_phrase": True}})
    assert out["phrase"] == PHRASE and out["token"], out
    job = {"text": "Hi.", "ref_audio_base64": base64.b64encode(audio["reference"]).decode(), "ref_text": SENTENCES[0]}
    job |= {"nfe_step": 4, "seed": 1}
    refusal = worker.handler({"id": "no", "input": job})
    assert "only with its owner's consent" in refusal["error"], refusal
    consent = {"consent_audio_base64": base64.b64encode(audio["reading"]).decode(), "consent_token": out["token"]}
    spoken = worker.handler({"id": "yes", "input": job | consent})
    assert "error" not in spoken and spoken["duration"] > 0, spoken
    again = worker.handler({"id": "again", "input": job})  # the proof is kept: no second consent
    assert "error" not in again, again


def test_the_consent_group_shows_only_when_required(tmp_path: Path, whisper) -> None:
    from ui import build_ui

    for required in (False, True):
        demo = build_ui(studio_on(tmp_path / str(required), whisper, required=required))
        groups = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "consent"]
        assert len(groups) == 1 and groups[0].visible is required, (required, groups)


def test_the_consent_group_checks_in_place(tmp_path: Path, whisper, audio) -> None:
    import gradio as gr

    from ui.consent import ConsentPanel

    paths = {}
    for name in ("reference", "reading", "stranger"):
        paths[name] = tmp_path / f"{name}.wav"
        paths[name].write_bytes(audio[name])
    with gr.Blocks():
        panel = ConsentPanel(studio_on(tmp_path / "voices", whisper))
    shown = panel.show_phrase()
    assert PHRASE in shown[panel.phrase] and shown[panel.token], shown
    token = shown[panel.token]
    refusal = panel.check(str(paths["reference"]), str(paths["stranger"]), token)[panel.result]
    assert refusal.startswith("**Not accepted:**") and "must read the phrase" in refusal, refusal
    done = panel.check(str(paths["reference"]), str(paths["reading"]), token)[panel.result]
    assert done.startswith("**Consent recorded**") and "can now be used" in done, done
    assert "Record or upload" in panel.check(None, str(paths["reading"]), token)[panel.result]
