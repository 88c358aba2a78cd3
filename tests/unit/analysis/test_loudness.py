"""Integrated loudness and loudness range against EBU Tech 3341 and Tech 3342 signals.

Each case is generated from its definition in the EBU document (tests/helpers/ebu_signals.py) and
checked within the tolerance the document sets: ±0.1 LU for the integrated loudness (Tech 3341),
±1 LU for the loudness range (Tech 3342).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers.ebu_signals import RATE, encode, five_channel, sequence, tone
from scipy import signal

from airflow_provider_music.analysis import analyze
from airflow_provider_music.analysis._loudness import LoudnessMeter, channel_weights, k_weighting_sos

# EBU Tech 3341 (v4), cases 1 to 6: stereo 1 kHz sines (level dBFS, seconds) -> -23.0 LUFS (case 2: -33).
TECH_3341_INTEGRATED = {
    "case 1: -23 dBFS 20 s": ([(-23.0, 20.0)], -23.0),
    "case 2: -33 dBFS 20 s": ([(-33.0, 20.0)], -33.0),
    "case 3: -36/-23/-36 (relative gate)": ([(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], -23.0),
    "case 4: -72/-36/-23/-36/-72 (both gates)": (
        [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)],
        -23.0,
    ),
    "case 5: -26/-20/-26": ([(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)], -23.0),
}
# EBU Tech 3342 (v4), cases 1 to 4: stereo 1 kHz sines -> loudness range in LU, ±1 LU.
TECH_3342_RANGE = {
    "case 1: -20/-30": ([(-20.0, 20.0), (-30.0, 20.0)], 10.0),
    "case 2: -20/-15": ([(-20.0, 20.0), (-15.0, 20.0)], 5.0),
    "case 3: -40/-20": ([(-40.0, 20.0), (-20.0, 20.0)], 20.0),
    "case 4: -50/-35/-20/-35/-50": (
        [(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)],
        15.0,
    ),
}
LOUDNESS_TOLERANCE_LU = 0.1
RANGE_TOLERANCE_LU = 1.0


@pytest.mark.parametrize("case", TECH_3341_INTEGRATED, ids=str)
def test_tech_3341_integrated_loudness(case: str) -> None:
    parts, expected = TECH_3341_INTEGRATED[case]
    result = analyze(encode(sequence(*parts)))
    assert result.integrated_loudness_lufs == pytest.approx(expected, abs=LOUDNESS_TOLERANCE_LU)


def test_tech_3341_case_6_five_channels_weight_the_surrounds() -> None:
    result = analyze(encode(five_channel()))
    assert result.channels == 5
    assert result.integrated_loudness_lufs == pytest.approx(-23.0, abs=LOUDNESS_TOLERANCE_LU)


def test_tech_3341_case_9_short_term_is_constant() -> None:
    # -20 dBFS 1.34 s then -30 dBFS 1.66 s, five times: every 3 s window holds one period -> S = -23.0.
    result = analyze(encode(sequence(*[(-20.0, 1.34), (-30.0, 1.66)] * 5)))
    assert result.max_short_term_lufs == pytest.approx(-23.0, abs=LOUDNESS_TOLERANCE_LU)


@pytest.mark.parametrize("case", TECH_3342_RANGE, ids=str)
def test_tech_3342_loudness_range(case: str) -> None:
    parts, expected = TECH_3342_RANGE[case]
    result = analyze(encode(sequence(*parts)))
    assert result.loudness_range_lu == pytest.approx(expected, abs=RANGE_TOLERANCE_LU)


@pytest.mark.parametrize("rate", [22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 192_000])
def test_k_weighting_is_derived_for_each_sample_rate(rate: int) -> None:
    result = analyze(encode(tone(-23.0, 10.0, rate=rate), rate=rate))
    assert result.sample_rate == rate
    assert result.integrated_loudness_lufs == pytest.approx(-23.0, abs=LOUDNESS_TOLERANCE_LU)


def test_k_weighting_at_48_khz_is_the_bs1770_table() -> None:
    # ITU-R BS.1770-4, tables 1 and 2: the coefficients at 48 kHz.
    sos = k_weighting_sos(48_000)
    shelf = [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585]
    highpass = [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]
    np.testing.assert_allclose(sos[0], shelf, atol=1e-8)
    np.testing.assert_allclose(sos[1], highpass, atol=1e-8)


def test_k_weighting_response_shape() -> None:
    # +0.69 dB at 1 kHz (why -0.691 in the formula), about +4 dB above 2 kHz, strongly cut below 40 Hz.
    _, response = signal.sosfreqz(k_weighting_sos(RATE), worN=[1000.0, 10_000.0, 20.0], fs=RATE)
    gains = 20.0 * np.log10(np.abs(response))
    assert gains[0] == pytest.approx(0.691, abs=0.01)
    assert gains[1] == pytest.approx(4.0, abs=0.1)
    assert gains[2] < -10.0


def test_channel_weights() -> None:
    assert list(channel_weights(1)) == [1.0]
    assert list(channel_weights(2)) == [1.0, 1.0]
    assert list(channel_weights(5)) == [1.0, 1.0, 1.0, 1.41, 1.41]
    assert list(channel_weights(6)) == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]  # the LFE is not counted


def test_mono_full_scale_sine_is_minus_3_lufs() -> None:
    # BS.1770-4: "a 0 dB FS 1 kHz sine wave input to the left, centre or right channel gives -3.01 LKFS".
    result = analyze(encode(tone(0.0, 5.0, channels=1)))
    assert result.integrated_loudness_lufs == pytest.approx(-3.01, abs=0.02)


@pytest.mark.parametrize("block_frames", [1000, 4800, 65_536, 10**7])
def test_figures_do_not_depend_on_the_block_size(block_frames: int) -> None:
    data = encode(sequence((-20.0, 4.0), (-30.0, 3.3)))
    reference = analyze(data)
    result = analyze(data, block_frames=block_frames)
    assert result.integrated_loudness_lufs == pytest.approx(reference.integrated_loudness_lufs, abs=1e-9)
    assert result.loudness_range_lu == pytest.approx(reference.loudness_range_lu, abs=1e-9)
    assert result.max_short_term_lufs == pytest.approx(reference.max_short_term_lufs, abs=1e-9)


def test_sub_blocks_span_the_blocks_they_are_fed_in() -> None:
    # Odd pieces (97 frames, not a divisor of 4,800) cross every 100 ms boundary at a different place.
    frames = sequence((-20.0, 1.3), (-26.0, 0.6))
    whole, split = LoudnessMeter(RATE, 2), LoudnessMeter(RATE, 2)
    whole.add(frames)
    for start in range(0, len(frames), 97):
        split.add(frames[start : start + 97])
    assert split.integrated() == pytest.approx(whole.integrated(), abs=1e-9)
    split.add(frames[:0])  # an empty block changes nothing
    assert split.integrated() == pytest.approx(whole.integrated(), abs=1e-9)


@pytest.mark.parametrize("rate", [44_100, 11_025])
def test_sub_blocks_are_100_ms_even_when_the_rate_is_not_a_multiple_of_10(rate: int) -> None:
    # 11,025 Hz: 100 ms is 1,102.5 frames, so boundaries alternate 1,102 and 1,103 frames.
    result = analyze(encode(tone(-23.0, 10.0, rate=rate), rate=rate))
    assert result.integrated_loudness_lufs == pytest.approx(-23.0, abs=LOUDNESS_TOLERANCE_LU)


def test_silence_and_too_short_audio_have_no_loudness() -> None:
    silent = analyze(encode(np.zeros((RATE * 2, 2))))
    assert silent.integrated_loudness_lufs == -math.inf
    assert silent.loudness_range_lu == 0.0
    short = analyze(encode(tone(-10.0, 0.39)))  # under one 400 ms block
    assert short.integrated_loudness_lufs == -math.inf
    assert short.max_short_term_lufs == -math.inf
    below_gate = analyze(encode(tone(-75.0, 5.0)))  # every block under the -70 LUFS absolute gate
    assert below_gate.integrated_loudness_lufs == -math.inf
