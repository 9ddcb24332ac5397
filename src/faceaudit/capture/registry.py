"""The registry of degradations: declared parameters (type, default, range, unit) and operations.

Every parameter kind is declared once, here (:class:`Param`), and validated by that declaration:
a bad value raises one :class:`~faceaudit.errors.InputError` sentence naming the degradation, the
parameter and the value. :func:`register_degradation` adds a kind (plug-ins may add their own);
the built-in ones are described in :mod:`faceaudit.capture.degrade`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceaudit.capture import _ops
from faceaudit.errors import InputError

__all__ = ["DEGRADATIONS", "DegradationKind", "Param", "register_degradation"]

#: Significant digits kept of a number parameter: the value used is the value shown in the key.
DIGITS = 10


@dataclass(frozen=True)
class Param:
    """One declared parameter of a degradation: type, default, allowed range or choices, unit.

    ``length`` marks a length in pixels of the face (blur radius, motion length) that a profile
    scales with the face's inter-eye distance (:meth:`faceaudit.capture.profiles.Profile.steps`).
    """

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    length: bool = False

    def check(self, degradation: str, value: Any) -> Any:
        """The canonical value, or InputError naming the parameter and the value."""
        where = f"degradation {degradation!r}: parameter {self.name}={value!r}"
        if self.kind is bool:
            if isinstance(value, str) and value.strip().lower() in (
                "true",
                "1",
                "yes",
                "false",
                "0",
                "no",
            ):
                return value.strip().lower() in ("true", "1", "yes")
            if isinstance(value, bool | np.bool_):
                return bool(value)
            raise InputError(f"{where} must be true or false.")
        if self.kind is str:
            if not isinstance(value, str) or value not in self.choices:
                raise InputError(f"{where} must be one of {', '.join(self.choices)}.")
            return value
        return self._number(where, value)

    def _number(self, where: str, value: Any) -> float | int:
        if isinstance(value, bool | np.bool_):
            raise InputError(f"{where} must be a number, not true/false.")
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{where} must be a number.") from None
        if not math.isfinite(x):
            raise InputError(f"{where} must be a finite number.")
        if self.kind is int:
            if x != int(x):
                raise InputError(f"{where} must be a whole number.")
            x = int(x)
        else:
            x = float(f"{x:.{DIGITS}g}") + 0.0  # canonical; -0.0 -> 0.0
        too_low = self.low is not None and x < self.low
        too_high = self.high is not None and x > self.high
        if too_low or too_high:
            unit = f" {self.unit}" if self.unit else ""
            if self.low is not None and self.high is not None:
                limits = f"between {self.low:g} and {self.high:g}"
            else:
                limits = f"at least {self.low:g}" if too_low else f"at most {self.high:g}"
            raise InputError(f"{where} must be {limits}{unit}.")
        return x


#: ``(image, params, eyes, rng, face_box) -> (image, eyes)`` on float32 ``(h, w, c)`` images.
Operation = Callable[..., tuple[np.ndarray, np.ndarray | None]]


@dataclass(frozen=True)
class DegradationKind:
    """A registered degradation: its parameters, its operation and what it needs.

    ``eyes``: ``"required"`` (refused without eye centres), ``"optional"`` (used when given) or
    ``"unused"``. ``version`` changes whenever the rendering changes, so cached degraded images made
    by an older implementation are not reused (:attr:`Degradation.cache_key`).
    """

    name: str
    params: tuple[Param, ...]
    operation: Operation
    summary: str
    eyes: str = "unused"
    version: int = 1

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise InputError(
            f"degradation {self.name!r} has no parameter {name!r}; its parameters are "
            f"{', '.join(p.name for p in self.params)}."
        )


#: The registry: name -> :class:`DegradationKind`.
DEGRADATIONS: dict[str, DegradationKind] = {}


def register_degradation(kind: DegradationKind) -> DegradationKind:
    """Add a degradation to :data:`DEGRADATIONS` (a name is registered once)."""
    if kind.name in DEGRADATIONS:
        raise ValueError(f"degradation {kind.name!r} is already registered")
    if not kind.name or any(c in kind.name for c in ":,=|"):
        raise ValueError(f"degradation name {kind.name!r} is empty or holds one of : , = |")
    DEGRADATIONS[kind.name] = kind
    return kind


# The built-in degradations
# ---------------------------------------------------------------------------------------------


def _builtin() -> None:
    reg = register_degradation
    reg(
        DegradationKind(
            "defocus",
            (
                Param("radius", float, 0.0, 0.0, 50.0, unit="pixels", length=True),
                Param("kernel", str, "disc", choices=("disc", "gaussian")),
            ),
            _ops.defocus,
            "out-of-focus blur (PSF radius in pixels)",
        )
    )
    reg(
        DegradationKind(
            "motion",
            (
                Param("length", float, 0.0, 0.0, 200.0, unit="pixels", length=True),
                Param("angle", float, 0.0, -360.0, 360.0, unit="degrees"),
            ),
            _ops.motion,
            "linear motion blur (length in pixels, angle in degrees)",
        )
    )
    reg(
        DegradationKind(
            "downscale",
            (Param("ied", float, 24.0, 2.0, 1000.0, unit="pixels"), Param("restore", bool, False)),
            _ops.downscale,
            "fewer pixels on the face (target inter-eye distance)",
            eyes="required",
        )
    )
    reg(
        DegradationKind(
            "jpeg",
            (
                Param("quality", int, 75, 1, 100),
                Param("subsampling", str, "4:2:0", choices=("4:2:0", "4:2:2", "4:4:4")),
            ),
            _ops.jpeg,
            "JPEG re-compression",
        )
    )
    reg(
        DegradationKind(
            "exposure",
            (
                Param("ev", float, 0.0, -10.0, 4.0, unit="stops"),
                Param("gamma", float, 2.2, 1.0, 3.0),
            ),
            _ops.exposure,
            "under- or over-exposure in photographic stops",
        )
    )
    reg(
        DegradationKind(
            "noise",
            (
                Param("sigma", float, 0.0, 0.0, 100.0, unit="DN"),
                Param("level", float, 128.0, 1.0, 255.0, unit="DN"),
                Param("shot", float, 0.5, 0.0, 1.0),
            ),
            _ops.noise,
            "Poisson-Gaussian sensor noise (sigma in DN at a signal level)",
        )
    )
    reg(
        DegradationKind(
            "mask",
            (
                Param("top", float, 0.6, 0.0, 3.0, unit="inter-eye distances"),
                Param("width", float, 2.6, 0.5, 6.0, unit="inter-eye distances"),
                Param("value", float, 200.0, 0.0, 255.0, unit="DN"),
            ),
            _ops.mask,
            "lower-face occlusion band (a medical mask)",
            eyes="optional",
        )
    )
    reg(
        DegradationKind(
            "sunglasses",
            (
                Param("height", float, 0.55, 0.1, 2.0, unit="inter-eye distances"),
                Param("width", float, 2.0, 1.0, 4.0, unit="inter-eye distances"),
                Param("value", float, 15.0, 0.0, 255.0, unit="DN"),
            ),
            _ops.sunglasses,
            "occlusion band over the eyes",
            eyes="optional",
        )
    )
    reg(
        DegradationKind(
            "rotate",
            (Param("angle", float, 0.0, -180.0, 180.0, unit="degrees"),),
            _ops.rotate,
            "in-plane rotation (camera roll)",
            eyes="optional",
        )
    )


_builtin()
