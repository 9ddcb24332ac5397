"""Sweeps: one degradation, or one profile, graded by severity into the conditions of an audit.

A capture audit compares clean probes with the same probes under graded conditions, at a
threshold fixed on the clean ones. A :class:`Sweep` names those conditions:

- a **degradation sweep** varies one parameter of one degradation (``defocus`` over ``radius``
  = 1, 2, 3, 4, 6 pixels; the other parameters fixed, e.g. ``motion:angle=90``), its values
  given by the user or taken from :data:`SWEEPS`; lengths are in the stored image's pixels;
- a **profile sweep** runs the severities of a named profile
  (:mod:`faceaudit.capture.profiles`); its pixel lengths are scaled to each face's inter-eye
  distance, so a profile means the same physical scene for a small face and a large one.

Severity 0 is the photo as taken: the reference condition ``clean``, shared by every sweep.

Condition names (keys in results): a degradation level is named by its spec's key
(``"defocus:kernel=disc,radius=3"``; it parses back), a profile level by ``"<profile>/<level>"``
(``"night-street/2"``).

Examples
--------
>>> [lv.name for lv in degradation_sweep("defocus", [1, 2]).levels]
['defocus:kernel=disc,radius=1', 'defocus:kernel=disc,radius=2']
>>> s = profile_sweep("moving-subject", [4])
>>> s.levels[0].name, [d.key for d in s.chain_for(s.levels[0], ied=32)][0]
('moving-subject/4', 'motion:angle=0,length=11.85')
>>> build_sweeps(degrade=["motion:angle=90"], severities=[8])[0].levels[0].label
'motion blur of 8 px (angle 90)'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faceaudit.capture.degrade import DEGRADATIONS, Degradation, parse_degradation
from faceaudit.capture.profiles import get_profile
from faceaudit.errors import InputError

__all__ = [
    "CLEAN",
    "DEFAULT_PROFILES",
    "LABELS",
    "SWEEPS",
    "Level",
    "Sweep",
    "build_sweeps",
    "degradation_sweep",
    "profile_sweep",
]

#: The reference condition of every sweep: the photos as taken.
CLEAN = "clean"

#: Profiles swept when neither degradations nor profiles are named.
DEFAULT_PROFILES = ("night-street", "moving-subject", "far-away")

#: Each built-in degradation's swept parameter and its default values, mildest first. Lengths
#: are pixels of the stored image (ORL faces have an inter-eye distance of about 35 pixels).
SWEEPS: dict[str, tuple[str, tuple[float, ...]]] = {
    "defocus": ("radius", (1, 2, 3, 4, 6)),
    "motion": ("length", (4, 8, 12, 16, 24)),
    "downscale": ("ied", (24, 16, 12, 8, 6)),
    "jpeg": ("quality", (50, 30, 20, 10, 5)),
    "exposure": ("ev", (-1, -2, -3, -4, -5)),
    "noise": ("sigma", (4, 8, 12, 16, 24)),
    "mask": ("top", (1.2, 0.9, 0.6, 0.3)),
    "sunglasses": ("height", (0.3, 0.55, 0.8)),
    "rotate": ("angle", (10, 20, 30, 45)),
}


#: How a level of each built-in degradation sweep is labelled (``{v}``: the swept value).
LABELS: dict[str, str] = {
    "defocus": "defocus blur of radius {v} px",
    "motion": "motion blur of {v} px",
    "downscale": "face downscaled to an inter-eye distance of {v} px",
    "jpeg": "JPEG quality {v}",
    "exposure": "exposure {v} EV",
    "noise": "sensor noise of {v} DN",
    "mask": "mask from {v} inter-eye distances below the eyes",
    "sunglasses": "dark band {v} inter-eye distances high over the eyes",
    "rotate": "rotated by {v} degrees",
}


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


@dataclass(frozen=True)
class Level:
    """One condition of a sweep: severity ``1..k``, its name, label and chain.

    ``chain`` is the chain as declared (for a profile: for the reference face of
    :data:`~faceaudit.capture.profiles.REFERENCE_IED` pixels); ``value`` is the swept parameter's
    value (degradation sweeps).
    """

    severity: int
    name: str
    label: str
    meaning: str
    chain: tuple[Degradation, ...]
    value: float | None = None

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "condition": self.name,
            "label": self.label,
            "meaning": self.meaning,
            "value": self.value,
            "chain": [s.to_json() for s in self.chain],
        }


@dataclass(frozen=True)
class Sweep:
    """A graded condition: ``kind`` ``"degradation"`` or ``"profile"`` (module docstring)."""

    name: str
    kind: str
    summary: str
    levels: tuple[Level, ...]
    parameter: str | None = None
    unit: str = ""
    scaled_to_face: bool = False

    @property
    def needs_eyes(self) -> bool:
        """A level holds a step that cannot run without eye centres (``downscale``)."""
        return any(s.kind.eyes == "required" for lv in self.levels for s in lv.chain)

    @property
    def uses_eyes(self) -> bool:
        """A level holds a step placed with the eye centres when they are known."""
        return any(s.kind.eyes != "unused" for lv in self.levels for s in lv.chain)

    def chain_for(self, level: Level, *, ied: float | None = None) -> tuple[Degradation, ...]:
        """The chain of ``level`` for a face with inter-eye distance ``ied`` (profiles scale)."""
        if self.kind == "profile" and self.scaled_to_face and ied is not None:
            return get_profile(self.name).steps(level.severity, ied=ied)
        return level.chain

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "parameter": self.parameter,
            "unit": self.unit,
            "scaled_to_face": self.scaled_to_face,
            "levels": [lv.to_json() for lv in self.levels],
        }


def degradation_sweep(spec: str | Degradation, values: Sequence[float] | None = None) -> Sweep:
    """Sweep one degradation's parameter over ``values`` (default :data:`SWEEPS`).

    ``spec`` is a name (``"defocus"``) or a spec with fixed parameters (``"motion:angle=90"``). A
    spec that sets the swept parameter itself and no ``values`` gives one level.
    """
    base = spec if isinstance(spec, Degradation) else parse_degradation(spec)
    text = spec if isinstance(spec, str) else base.key
    given = {} if isinstance(spec, Degradation) else _given_params(text)
    if base.name not in SWEEPS:
        if values:
            raise InputError(
                f"degradation {base.name!r} has no swept parameter; give it as one condition "
                f"with its parameters (e.g. {base.key!r}) and no severities."
            )
        param, vals = None, ()
    else:
        param, vals = SWEEPS[base.name]
        if values:
            vals = tuple(values)
        elif param in given:
            vals = (base[param],)
    kind = DEGRADATIONS[base.name]
    unit = kind.param(param).unit if param else ""
    fixed = [
        f"{k} {_fmt(v)}" for k, v in base.params if k in given and k != param and k != "restore"
    ]
    if base.name == "downscale" and "restore" in given:
        fixed.append("restored to the input size" if base["restore"] else "not restored")
    extra = f" ({', '.join(fixed)})" if fixed else ""
    levels = []
    seen: set[str] = set()
    for v in vals or (None,):
        one = base if param is None else base.replace(**{param: v})
        if one.key in seen:
            continue
        seen.add(one.key)
        if param is None:
            label = base.key
        elif base.name in LABELS:
            label = LABELS[base.name].format(v=_fmt(one[param])) + extra
        else:
            label = f"{base.name} {param} {_fmt(one[param])}" + (f" {unit}" if unit else "") + extra
        levels.append(
            Level(
                len(levels) + 1,
                one.key,
                label,
                kind.summary,
                (one,),
                None if param is None else float(one[param]),
            )
        )
    return Sweep(
        name=text.strip(),
        kind="degradation",
        summary=kind.summary,
        levels=tuple(levels),
        parameter=param,
        unit=unit,
    )


def _given_params(text: str) -> set[str]:
    _, _, rest = text.partition(":")
    return {item.partition("=")[0].strip() for item in rest.split(",") if "=" in item}


def profile_sweep(
    name: str, severities: Sequence[int] | None = None, *, scale_to_face: bool = True
) -> Sweep:
    """Sweep a profile over ``severities`` (default every level from 1)."""
    profile = get_profile(name)
    if severities is None:
        levels = list(range(1, profile.max_severity + 1))
    else:
        levels = []
        for s in severities:
            if isinstance(s, float) and s.is_integer():
                s = int(s)
            profile.severity(s)  # refuses a level the profile does not have
            if s != 0 and s not in levels:
                levels.append(s)
        levels.sort()
    out = tuple(
        Level(
            s,
            f"{profile.name}/{s}",
            f"{profile.name} severity {s}",
            profile.severity(s).meaning,
            profile.severity(s).steps,
        )
        for s in levels
    )
    return Sweep(
        name=profile.name,
        kind="profile",
        summary=profile.summary,
        levels=out,
        parameter="severity",
        scaled_to_face=bool(scale_to_face),
    )


def build_sweeps(
    *,
    degrade: Sequence[str] = (),
    profiles: Sequence[str] = (),
    severities: Sequence[float] | None = None,
    scale_to_face: bool = True,
) -> tuple[Sweep, ...]:
    """The sweeps of a capture audit: degradations and/or profiles (default
    :data:`DEFAULT_PROFILES`).

    ``severities`` are the swept parameter's values for degradations and the levels for
    profiles; they apply to one kind of sweep only, so they refuse a mix of the two.

    Raises
    ------
    InputError
        An unknown degradation or profile, a bad parameter or severity, a severity list with
        both degradations and profiles, or two sweeps giving the same condition.
    """
    degrade = [d.strip() for d in degrade if d.strip()]
    profiles = [p.strip() for p in profiles if p.strip()]
    sev = None if severities is None else list(severities)
    if sev is not None and not sev:
        sev = None
    if sev is not None and degrade and profiles:
        raise InputError(
            "severities are parameter values for degradations but levels for profiles; sweep "
            "degradations and profiles in separate runs, or leave severities out."
        )
    if not degrade and not profiles:
        profiles = list(DEFAULT_PROFILES)
    sweeps = [degradation_sweep(d, sev) for d in degrade]
    sweeps += [profile_sweep(p, sev, scale_to_face=scale_to_face) for p in profiles]
    seen: dict[str, str] = {}
    for s in sweeps:
        if not s.levels:
            raise InputError(f"sweep {s.name!r} has no condition besides the clean photos.")
        for lv in s.levels:
            if lv.name in seen:
                raise InputError(
                    f"condition {lv.name!r} is given twice (by {seen[lv.name]!r} and "
                    f"{s.name!r}); name each condition once."
                )
            seen[lv.name] = s.name
    return tuple(sweeps)
