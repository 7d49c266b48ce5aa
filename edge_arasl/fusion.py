"""Fusing the CNN's reading of the pixels with the landmark classifier's reading of the hand.

The two models fail differently: the CNN on lighting, background and framing, the landmark
classifier on hand shapes the landmark model reads badly. A log-linear pool (a weighted
geometric mean) combines them so that a class both models find likely wins, and one model's
confident "no" weighs against it::

    log p(c) = (1 - w) log p_cnn(c) + w log p_landmarks(c) + const    for c in both models

Rule for classes only the CNN knows (``none``): they keep the CNN's probability exactly, and
the rest of the probability mass (1 - p_cnn(none)) is shared among the signs in the pooled
proportions. So the landmarks can change *which* sign it is, never *whether* a sign is shown:
that stays the CNN's call (a hand can be found in a frame with no sign in it). When no hand was
found, the CNN's probabilities are returned unchanged. ``w = 0`` is the CNN alone, ``w = 1``
ranks the signs as the landmark classifier does.

Classes are matched by name, not position, so either model may list them in any order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_arasl.errors import UserError

#: Floor on probabilities before the logarithm: the int8 CNN's softmax is quantised in steps of
#: 1/256, so "0" means "below 0.002", not "impossible"; one model alone must not veto a class.
PROBABILITY_FLOOR = 1e-4


class Fusion:
    """Pools landmark-classifier probabilities into the CNN's, by class name, with weight ``w``.

    ``cnn_classes`` is the CNN's output order (e.g. :data:`edge_arasl.labels.MODEL_CLASSES`),
    which the fused probabilities keep; every landmark class must be one of them.
    """

    def __init__(
        self,
        cnn_classes: Sequence[str],
        landmark_classes: Sequence[str],
        weight: float,
        floor: float = PROBABILITY_FLOOR,
    ) -> None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise UserError(f"fusion weight must be a number from 0 to 1, not {weight!r}")
        if not 0.0 <= weight <= 1.0:
            raise UserError(f"fusion weight must be from 0 to 1, not {weight:g}")
        if not 0.0 < floor < 1.0:
            raise ValueError(f"floor must be in (0, 1), not {floor!r}")
        cnn_classes, landmark_classes = tuple(cnn_classes), tuple(landmark_classes)
        unknown = [c for c in landmark_classes if c not in cnn_classes]
        if unknown:
            raise UserError(
                f"landmark classifier class(es) {', '.join(map(repr, unknown))} are not among "
                "the sign classifier's"
            )
        if len(set(landmark_classes)) != len(landmark_classes):
            raise UserError("landmark classifier lists a class twice")
        self.cnn_classes, self.landmark_classes = cnn_classes, landmark_classes
        self.weight = float(weight)
        self.floor = float(floor)
        #: Positions in the CNN's output of the landmark classes, in the landmark order.
        self._shared = np.array([cnn_classes.index(c) for c in landmark_classes], dtype=np.intp)

    def __call__(self, cnn: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
        """Fused probabilities in the CNN's class order; ``landmarks`` None: no hand found.

        ``cnn`` is ``(n_cnn,)`` or ``(N, n_cnn)``; ``landmarks`` has the same leading shape.
        """
        cnn = np.asarray(cnn, dtype=np.float32)
        if cnn.shape[-1] != len(self.cnn_classes):
            raise ValueError(f"expected {len(self.cnn_classes)} CNN probabilities, {cnn.shape}")
        if landmarks is None or self.weight == 0.0:
            return cnn.copy()
        landmarks = np.asarray(landmarks, dtype=np.float32)
        if landmarks.shape != (*cnn.shape[:-1], len(self.landmark_classes)):
            raise ValueError(
                f"landmark probabilities {landmarks.shape} do not match the CNN's {cnn.shape}"
            )
        shared = cnn[..., self._shared].astype(np.float64)
        mass = shared.sum(axis=-1, keepdims=True)  # what "none" (and any CNN-only class) leaves
        logits = (1.0 - self.weight) * np.log(np.maximum(shared, self.floor))
        logits += self.weight * np.log(np.maximum(landmarks.astype(np.float64), self.floor))
        logits -= logits.max(axis=-1, keepdims=True)
        pooled = np.exp(logits)
        pooled *= mass / pooled.sum(axis=-1, keepdims=True)
        fused = cnn.copy()
        fused[..., self._shared] = pooled
        return fused

    def __repr__(self) -> str:
        return f"Fusion(weight={self.weight:g}, {len(self.landmark_classes)} shared classes)"
