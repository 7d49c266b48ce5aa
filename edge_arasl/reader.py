"""Reading a located hand: the CNN on its pixels, fused with the landmark classifier.

The pipeline and ``classify`` both read hands this way, so the one rule lives here: the CNN
always reads the square :attr:`~edge_arasl.region.Located.box`; when the hand's landmarks were
read, the landmark classifier's probabilities are pooled into the CNN's
(:mod:`edge_arasl.fusion`, with the weight chosen on validation blocks and stored in the
landmark model's metadata).
"""

from __future__ import annotations

import logging

import numpy as np

from edge_arasl.classifier import Classifier
from edge_arasl.fusion import Fusion
from edge_arasl.hand.tracker import HandSettings
from edge_arasl.labels import NONE_CLASS
from edge_arasl.landmark_classifier import LandmarkClassifier
from edge_arasl.region import Located, crop
from edge_arasl.sources.base import Frame

log = logging.getLogger(__name__)


class SignReader:
    """Class probabilities (in the CNN's class order) of a :class:`Located` hand.

    Where the landmark model looked and saw no hand, the CNN's reading stands only if it
    gives some sign at least ``settings.cnn_alone_min``: the landmark model misses some real
    hands (low resolution, unusual poses), and the CNN is rarely that sure of an empty scene
    (models/MODEL_CARD.md, "Hand finding"); ``1.0`` trusts the landmarks alone. Below that, a
    CNN ``none`` probability under ``settings.unread_none_max`` still says a hand is in view,
    its letter unread (:attr:`unread`: no ``none``, every sign alike), which keeps the
    decoder's word open; ``0`` never says so (``classify`` reads single photos, no words).
    """

    def __init__(
        self,
        classifier: Classifier,
        landmarks: LandmarkClassifier | None = None,
        settings: HandSettings | None = None,
    ) -> None:
        self.classifier = classifier
        self.landmarks = landmarks
        self.settings = settings or HandSettings()
        self.fusion = (
            None
            if landmarks is None
            else Fusion(classifier.classes, landmarks.classes, landmarks.fusion_weight)
        )
        if landmarks is not None and landmarks.fusion_views not in (None, classifier.views):
            log.warning(
                "%s: its fusion weight %g was chosen with the CNN reading views = %r; this one "
                "reads %r (train-landmarks --views %s chooses the weight for it)",
                landmarks.model_path,
                landmarks.fusion_weight,
                landmarks.fusion_views,
                classifier.views,
                classifier.views,
            )
        self._none = classifier.classes.index(NONE_CLASS)
        self.no_sign = np.zeros(len(classifier.classes), dtype=np.float32)
        self.no_sign[self._none] = 1.0
        self._signs = self.no_sign == 0
        #: A hand in view whose sign is not read: probability spread evenly over the signs.
        self.unread = self._signs.astype(np.float32) / self._signs.sum()

    def read(self, frame: Frame, located: Located | None) -> np.ndarray:
        """Probabilities of ``located`` (``None``: no hand, the "no sign" vector)."""
        if located is None:
            return self.no_sign
        probs = self.classifier.probabilities_prepared(
            crop(frame, located.box, self.classifier.input_size)
        )
        if located.hand is None:
            if located.looked and not probs[self._signs].max() >= self.settings.cnn_alone_min:
                unread = probs[self._none] < self.settings.unread_none_max
                return self.unread if unread else self.no_sign
            return probs
        if self.fusion is None or self.landmarks is None:
            return probs
        return self.fusion(probs, self.landmarks.read(located.hand))
