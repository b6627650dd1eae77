"""Audio in and out: references prepared for the model (prepare.py), generated audio shaped (postprocess.py) and
encoded for every interface (encode.py). Numpy and soundfile only: no torch."""

SAMPLE_RATE = 24000  # Hz: the rate F5-TTS and its vocoder work at, and every output's rate
TARGET_RMS = 0.1  # linear RMS, F5-TTS's target_rms: quiet references are raised to it, the output lowered back
FFMPEG_TIMEOUT_S = 120  # s, wall-clock limit for one ffmpeg decode or whole-file encode
