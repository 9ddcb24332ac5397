"""Named capture profiles: graded chains of degradations with a physical meaning at each step.

A :class:`Profile` maps a severity ``0..k`` to a chain of
:class:`~faceaudit.capture.degrade.Degradation` specs; severity 0 is always the untouched photo.
Steps are applied in the order light meets them: optics (defocus, motion) -> sensor (exposure,
noise) -> resolution -> encoder (JPEG).

Reference face
--------------
Lengths in pixels (blur radius, motion length) are given for a face with an inter-eye distance of
:data:`REFERENCE_IED` = 64 pixels: a 1920-pixel-wide camera with a 60 degree horizontal field of
view sees a 63 mm inter-pupillary distance at 1.6 m as about 64 pixels (``IED = 104.8 / d`` pixels
at ``d`` metres), about 1 pixel per millimetre on the face. :meth:`Profile.steps` scales those
lengths to a given face (``ied=``), so that "1/125 s exposure of a walking person" blurs a 200-pixel
face as much, relative to its size, as a 64-pixel one. Inter-eye-distance targets (``far-away``)
are absolute and are not scaled.

Profiles
--------
``night-street``
    1: dusk or a well-lit street (about 50 lux): exposure 1 stop short, camera gain raised (noise
    3 DN at mid-grey), JPEG 85.
    2: street lighting (about 10 lux): -2 EV, noise 6 DN, wide aperture and shallow focus (defocus
    radius 1 px), JPEG 80.
    3: a dim side street (about 2 lux): -3 EV, noise 10 DN, defocus 1.5 px, hand shake during a
    1/15 s exposure (motion 2 px at 45 degrees), JPEG 75.
    4: very dark (below 1 lux): -4 EV, noise 16 DN, defocus 2 px, motion 4 px, JPEG 70.
``moving-subject``
    A person walking across the view at 1.4 m/s (ISO walking pace), horizontal motion of
    ``1400 mm/s x exposure time x 1.016 px/mm``: 1: 1/500 s (2.8 px); 2: 1/250 s (5.7 px);
    3: 1/125 s (11.4 px); 4: 1/60 s (23.7 px). JPEG 85 at every step.
``far-away``
    The same 1080p, 60 degree camera at growing distance (``IED = 104.8 / d``): 1: 3 m (35 px);
    2: 5 m (21 px); 3: 8 m (13 px); 4: 12 m (8.7 px); 5: 20 m (5.2 px). JPEG 85 after resampling.
    Needs the eye centres; a face already smaller than a step's target is left as it is.

Examples
--------
>>> p = get_profile("moving-subject")
>>> p.max_severity, [s.key for s in p.steps(2)]
(4, ['motion:angle=0,length=5.7', 'jpeg:quality=85,subsampling=4:2:0'])
>>> [s.key for s in p.steps(2, ied=128)][0]
'motion:angle=0,length=11.4'
"""

from __future__ import annotations

from dataclasses import dataclass

from faceaudit.capture.degrade import Degradation
from faceaudit.errors import InputError

__all__ = ["PROFILES", "REFERENCE_IED", "Profile", "Severity", "get_profile"]

#: The inter-eye distance (pixels) the profiles' pixel lengths are given for.
REFERENCE_IED = 64.0


@dataclass(frozen=True)
class Severity:
    """One step of a profile: its level, what it stands for, and the chain that renders it."""

    level: int
    meaning: str
    steps: tuple[Degradation, ...]

    def to_json(self) -> dict:
        return {
            "severity": self.level,
            "meaning": self.meaning,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class Profile:
    """A named, graded capture condition (see the module docstring)."""

    name: str
    summary: str
    severities: tuple[Severity, ...]
    reference_ied: float = REFERENCE_IED

    @property
    def max_severity(self) -> int:
        return len(self.severities) - 1

    def severity(self, level: int) -> Severity:
        """The step at ``level`` (0 = the untouched photo)."""
        if (
            isinstance(level, bool)
            or not isinstance(level, int)
            or not (0 <= level <= self.max_severity)
        ):
            raise InputError(
                f"severity={level!r} of profile {self.name!r} must be a whole number from 0 to "
                f"{self.max_severity}."
            )
        return self.severities[level]

    def steps(self, level: int, *, ied: float | None = None) -> tuple[Degradation, ...]:
        """The chain for ``level``; with ``ied`` (pixels), pixel lengths scaled to that face.

        Scaled lengths are rounded to 0.01 pixel, so the keys of a face stay stable.
        """
        chain = self.severity(level).steps
        if ied is None:
            return chain
        if not (isinstance(ied, int | float) and ied > 0):
            raise InputError(f"ied={ied!r} must be a positive number of pixels.")
        factor = float(ied) / self.reference_ied
        out = []
        for spec in chain:
            scaled = {p.name: round(spec[p.name] * factor, 2) for p in spec.kind.params if p.length}
            out.append(spec.replace(**scaled) if scaled else spec)
        return tuple(out)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "summary": self.summary,
            "reference_ied": self.reference_ied,
            "severities": [s.to_json() for s in self.severities],
        }


def _d(name: str, **params) -> Degradation:
    return Degradation(name, params)


def _night_street() -> Profile:
    jpeg = [_d("jpeg", quality=q) for q in (85, 80, 75, 70)]
    levels = [
        (
            "dusk or a well-lit street (~50 lux): -1 EV, noise 3 DN, JPEG 85",
            [_d("exposure", ev=-1), _d("noise", sigma=3), jpeg[0]],
        ),
        (
            "street lighting (~10 lux): -2 EV, noise 6 DN, defocus 1 px, JPEG 80",
            [_d("defocus", radius=1), _d("exposure", ev=-2), _d("noise", sigma=6), jpeg[1]],
        ),
        (
            "dim side street (~2 lux): -3 EV, noise 10 DN, defocus 1.5 px, shake 2 px, JPEG 75",
            [
                _d("defocus", radius=1.5),
                _d("motion", length=2, angle=45),
                _d("exposure", ev=-3),
                _d("noise", sigma=10),
                jpeg[2],
            ],
        ),
        (
            "very dark (<1 lux): -4 EV, noise 16 DN, defocus 2 px, shake 4 px, JPEG 70",
            [
                _d("defocus", radius=2),
                _d("motion", length=4, angle=45),
                _d("exposure", ev=-4),
                _d("noise", sigma=16),
                jpeg[3],
            ],
        ),
    ]
    return _profile("night-street", "low light: under-exposure, sensor noise, soft focus", levels)


def _moving_subject() -> Profile:
    levels = [
        (
            f"walking at 1.4 m/s, 1/{t} s exposure: motion {px} px",
            [_d("motion", length=px, angle=0), _d("jpeg", quality=85)],
        )
        for t, px in ((500, 2.8), (250, 5.7), (125, 11.4), (60, 23.7))
    ]
    return _profile("moving-subject", "a person walking across the view", levels)


def _far_away() -> Profile:
    levels = [
        (
            f"{d} m from a 1080p camera with a 60 degree view: inter-eye distance {ied} px",
            [_d("downscale", ied=ied), _d("jpeg", quality=85)],
        )
        for d, ied in ((3, 35), (5, 21), (8, 13), (12, 8.7), (20, 5.2))
    ]
    return _profile("far-away", "fewer pixels on the face as the distance grows", levels)


def _profile(name: str, summary: str, levels) -> Profile:
    sev = [Severity(0, "the photo as taken", ())]
    sev += [Severity(i + 1, meaning, tuple(chain)) for i, (meaning, chain) in enumerate(levels)]
    return Profile(name, summary, tuple(sev))


#: The built-in profiles by name.
PROFILES: dict[str, Profile] = {
    p.name: p for p in (_night_street(), _moving_subject(), _far_away())
}


def get_profile(name: str) -> Profile:
    """A built-in profile by name."""
    if name not in PROFILES:
        raise InputError(f"unknown capture profile {name!r}; choose one of {', '.join(PROFILES)}.")
    return PROFILES[name]
