"""The musical signal behind every character but ``default``: a 4-second loop, in pure Python.

Two bars at 120 BPM in A minor (Am, F, C, G, two beats each): a pad, a plucked bass, an arpeggio,
kick, snare and hi-hat. Every note is rendered from its own onset and its tail wraps around the end
of the loop, so the loop repeats seamlessly whatever the frequencies, and there is never a gap (no
silence at either end of a track, wherever it is cut). The period is built once per process (about
half a second, off the event loop), each level is set from it (`character_period`), and streams
tile it.

The gains below were measured with ``airflow_provider_music.analysis`` (BS.1770-4 loudness, 4x
oversampled true peak) and are checked by tests/unit/emulator/test_character_audio.py.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
import threading
from array import array

from ._character import AudioCharacter

SAMPLE_RATE = 44100
_PCM_FULL_SCALE = 32767
_PCM_MIN = -32768

_BEAT = SAMPLE_RATE // 2  # 120 BPM
_EIGHTH = _BEAT // 2
_CHORD_BEATS = 2
#: Am, F, C, G as MIDI notes, one chord every two beats: the loop is 8 beats, 4 seconds.
_CHORDS: tuple[tuple[int, int, int], ...] = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))
PERIOD_FRAMES = len(_CHORDS) * _CHORD_BEATS * _BEAT
_ARPEGGIO = (0, 1, 2, 1)  # chord-tone indices of the eighth notes

# Each voice: partial amplitudes (1x, 2x, 3x the frequency) and its envelope in seconds.
_PAD_PARTIALS = (1.0, 0.3)
_PAD_ATTACK_S, _PAD_RELEASE_S = 0.08, 0.25
_BASS_PARTIALS = (1.0, 0.5, 0.2)
_BASS_DECAY_S, _BASS_LENGTH_S = 0.35, 0.5
_LEAD_PARTIALS = (1.0, 0.4, 0.15)
_LEAD_DECAY_S, _LEAD_LENGTH_S = 0.15, 0.4
_PLUCK_ATTACK_S = 0.004
_KICK_START_HZ, _KICK_END_HZ, _KICK_SWEEP_S = 120.0, 50.0, 0.03
_KICK_DECAY_S, _KICK_LENGTH_S = 0.12, 0.4
_SNARE_HZ, _SNARE_DECAY_S, _SNARE_LENGTH_S = 185.0, 0.07, 0.25
_HAT_DECAY_S, _HAT_LENGTH_S = 0.015, 0.06
_NOISE_SEED = 0x2545F491

# Mix levels (linear, before the character's gain) and pan (left gain, right gain).
_LEVELS: dict[str, float] = {"pad": 0.08, "bass": 0.22, "lead": 0.12, "kick": 0.55, "snare": 0.3, "hat": 0.12}
_PANS: dict[str, tuple[float, float]] = {
    "pad": (1.0, 1.0),
    "bass": (1.0, 1.0),
    "lead": (1.0, 0.7),
    "kick": (1.0, 1.0),
    "snare": (0.85, 1.0),
    "hat": (0.7, 1.0),
}

# Character levels, measured on the period above (see the module docstring).
#: ``music``: gain for -14 LUFS integrated (true peak about -1.5 dBTP).
MUSIC_GAIN = 0.8766
#: ``quiet``: 21 dB below ``music``: -35 LUFS.
QUIET_DB = -21.0
#: ``loud``: driven into a hard limit below full scale: -6 LUFS, inter-sample peaks above 0 dBTP.
LOUD_GAIN = 2.43
LOUD_CEILING = 0.9
#: ``clipping``: ``music`` this much louder, hard-clipped at full scale.
CLIP_DB = 12.0


def _midi_hz(note: int) -> float:
    return 440.0 * math.pow(2.0, (note - 69) / 12)


def _decay(length: int, tau_s: float, attack_s: float) -> list[float]:
    """A pluck: a short linear attack, then an exponential decay."""
    tau, attack = tau_s * SAMPLE_RATE, max(1.0, attack_s * SAMPLE_RATE)
    return [min(1.0, n / attack) * math.exp(-n / tau) for n in range(length)]


def _swell(length: int, sustain: int) -> list[float]:
    """A pad: a slow attack, held for ``sustain`` frames, then a linear release."""
    attack, release = _PAD_ATTACK_S * SAMPLE_RATE, max(1, length - sustain)
    return [min(1.0, n / attack, 1.0 - max(0, n - sustain) / release) for n in range(length)]


def _tone(hz: float, partials: tuple[float, ...], envelope: list[float]) -> list[float]:
    sin = math.sin
    steps = [(amp, 2.0 * math.pi * hz * (k + 1) / SAMPLE_RATE) for k, amp in enumerate(partials) if amp]
    (a1, w1), rest = steps[0], steps[1:]
    if len(rest) == 2:
        (a2, w2), (a3, w3) = rest
        return [e * (a1 * sin(w1 * n) + a2 * sin(w2 * n) + a3 * sin(w3 * n)) for n, e in enumerate(envelope)]
    (a2, w2) = rest[0]
    return [e * (a1 * sin(w1 * n) + a2 * sin(w2 * n)) for n, e in enumerate(envelope)]


def _kick(envelope: list[float]) -> list[float]:
    sweep, start, end = _KICK_SWEEP_S * SAMPLE_RATE, _KICK_START_HZ, _KICK_END_HZ
    scale = 2.0 * math.pi / SAMPLE_RATE
    return [
        e * math.sin(scale * (end * n + (start - end) * sweep * (1.0 - math.exp(-n / sweep))))
        for n, e in enumerate(envelope)
    ]


def _noise(length: int, seed: int) -> list[float]:
    """Bright deterministic noise: a 32-bit LCG, first-differenced (a gentle high-pass)."""
    out, state, previous = [], seed, 0.0
    for _ in range(length):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        value = state / 2147483648.0 - 1.0
        out.append(0.5 * (value - previous))
        previous = value
    return out


def _add(bus: list[float], start: int, values: list[float]) -> None:
    """Mix ``values`` into ``bus`` from ``start``, wrapping around the end of the period."""
    start %= len(bus)
    while values:
        end = min(len(bus), start + len(values))
        head, values = values[: end - start], values[end - start :]
        bus[start:end] = map(operator.add, bus[start:end], head)
        start = 0


def _voices() -> dict[str, list[float]]:
    buses = {name: [0.0] * PERIOD_FRAMES for name in _LEVELS}
    chord_frames = _CHORD_BEATS * _BEAT
    pad_env = _swell(chord_frames + round(_PAD_RELEASE_S * SAMPLE_RATE), chord_frames)
    bass_env = _decay(round(_BASS_LENGTH_S * SAMPLE_RATE), _BASS_DECAY_S, _PLUCK_ATTACK_S)
    lead_env = _decay(round(_LEAD_LENGTH_S * SAMPLE_RATE), _LEAD_DECAY_S, _PLUCK_ATTACK_S)
    kick = _kick(_decay(round(_KICK_LENGTH_S * SAMPLE_RATE), _KICK_DECAY_S, 0.0))
    snare_env = _decay(round(_SNARE_LENGTH_S * SAMPLE_RATE), _SNARE_DECAY_S, 0.0)
    snare_noise = _noise(len(snare_env), _NOISE_SEED)
    snare = [
        e * (0.7 * v + 0.3 * math.sin(2.0 * math.pi * _SNARE_HZ * n / SAMPLE_RATE))
        for n, (e, v) in enumerate(zip(snare_env, snare_noise, strict=True))
    ]
    hat_env = _decay(round(_HAT_LENGTH_S * SAMPLE_RATE), _HAT_DECAY_S, 0.0)
    for index, chord in enumerate(_CHORDS):
        start = index * chord_frames
        for note in chord:
            _add(buses["pad"], start, _tone(_midi_hz(note), _PAD_PARTIALS, pad_env))
        for beat in range(_CHORD_BEATS):
            bass = _tone(_midi_hz(chord[0] - 12), _BASS_PARTIALS, bass_env)
            _add(buses["bass"], start + beat * _BEAT, bass)
        for step in range(_CHORD_BEATS * 2):
            note = chord[_ARPEGGIO[step % len(_ARPEGGIO)]] + 12
            _add(buses["lead"], start + step * _EIGHTH, _tone(_midi_hz(note), _LEAD_PARTIALS, lead_env))
    beats = len(_CHORDS) * _CHORD_BEATS
    for beat in range(beats):
        _add(buses["kick" if beat % 2 == 0 else "snare"], beat * _BEAT, kick if beat % 2 == 0 else snare)
    for eighth in range(beats * 2):
        hat = _noise(len(hat_env), _NOISE_SEED + eighth)
        _add(buses["hat"], eighth * _EIGHTH, list(map(operator.mul, hat_env, hat)))
    return buses


@functools.lru_cache(maxsize=1)
def music_period() -> tuple[array[float], array[float]]:
    """The loop as (left, right) floats, before any level's gain (`MUSIC_GAIN` makes it -14 LUFS)."""
    buses = _voices()
    channels = []
    for side in (0, 1):
        mix = [0.0] * PERIOD_FRAMES
        for name, bus in buses.items():
            gain = _LEVELS[name] * _PANS[name][side]
            mix = list(map(operator.add, mix, (gain * v for v in bus)))
        channels.append(array("d", mix))
    return channels[0], channels[1]


#: The levels a character's music is at: each of these names its own; the others are at ``music``'s.
LEVELS: tuple[str, ...] = ("music", "quiet", "loud", "clipping")


def level_of(character: AudioCharacter) -> str:
    """The level (one of `LEVELS`) of a music character's signal."""
    return character.name if character.name in LEVELS else "music"


def _shape(level: str) -> tuple[float, int, int]:
    """(gain, lowest, highest sample) of a level."""
    if level == "quiet":
        return MUSIC_GAIN * 10 ** (QUIET_DB / 20), _PCM_MIN, _PCM_FULL_SCALE
    if level == "loud":
        ceiling = round(LOUD_CEILING * _PCM_FULL_SCALE)
        return LOUD_GAIN, -ceiling, ceiling
    if level == "clipping":
        return MUSIC_GAIN * 10 ** (CLIP_DB / 20), _PCM_MIN, _PCM_FULL_SCALE
    return MUSIC_GAIN, _PCM_MIN, _PCM_FULL_SCALE


_periods: dict[str, bytes] = {}
_lock = threading.Lock()


def period_ready(level: str) -> bool:
    """Whether `character_period` of ``level`` is built already (so it returns at once)."""
    return level in _periods


def character_period(level: str) -> bytes:
    """The loop at ``level`` (one of `LEVELS`) as 16-bit little-endian stereo PCM, built once."""
    period = _periods.get(level)
    if period is not None:
        return period
    with _lock:
        if level not in _periods:
            _periods[level] = _render(level)
        return _periods[level]


def _render(level: str) -> bytes:
    gain, low, high = _shape(level)
    left, right = music_period()
    samples = array("h", bytes(4 * PERIOD_FRAMES))
    scale = _PCM_FULL_SCALE * gain
    for side, channel in enumerate((left, right)):
        samples[side::2] = array("h", [max(low, min(high, round(scale * v))) for v in channel])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()
