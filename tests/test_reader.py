"""Reading a located hand: CNN alone, fused with landmarks, and the fixed-mode hand check."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_arasl.decoder import DecoderSettings, LetterDecoder
from edge_arasl.hand.landmarks import HandLandmarks
from edge_arasl.hand.tracker import HandSettings, load_landmarks
from edge_arasl.landmark_classifier import LandmarkClassifier
from edge_arasl.plugin import WordEvent
from edge_arasl.reader import SignReader
from edge_arasl.region import FixedRegion, Located, Roi
from edge_arasl.sources.base import Frame


@pytest.fixture(scope="module")
def landmark_classifier() -> LandmarkClassifier:
    return LandmarkClassifier()


def sample_frame(path) -> Frame:
    gray = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (256, 256))
    return Frame(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), 0.0, 0)


def test_no_hand_is_the_no_sign_vector(classifier):
    reader = SignReader(classifier)
    probs = reader.read(Frame(np.zeros((64, 64), np.uint8), 0.0, 0), None)
    assert probs[classifier.classes.index("none")] == 1.0 and probs.sum() == 1.0


def test_the_cnn_alone_without_landmarks(classifier, sample_files):
    _, path = sample_files[0]
    frame = sample_frame(path)
    probs = SignReader(classifier).read(frame, Located((0, 0, 256, 256)))
    assert np.allclose(probs, classifier.probabilities(frame.image))


def test_landmarks_are_fused_when_the_hand_was_read(classifier, landmark_classifier, sample_files):
    reader = SignReader(classifier, landmark_classifier)
    landmarks = load_landmarks(HandSettings())
    region = FixedRegion(Roi(0, 0, 1, 1), landmarks)
    fused_differs = 0
    for _, path in sample_files[::8]:
        frame = sample_frame(path)
        located = region.locate(frame)
        region.reset()
        if located is None or located.hand is None:
            continue
        cnn = classifier.probabilities(frame.image)
        fused = reader.read(frame, located)
        assert fused.sum() == pytest.approx(cnn.sum(), abs=1e-3)  # the mass is kept
        assert fused[-1] == pytest.approx(cnn[-1])  # "none" stays the CNN's call
        fused_differs += not np.allclose(fused, cnn, atol=1e-4)
    assert fused_differs >= 5


def test_fixed_mode_keeps_only_a_confident_cnn_when_no_hand_was_seen(classifier, sample_files):
    _, path = next((c, p) for c, p in sample_files if c == "bb")
    frame = sample_frame(path)
    looked = Located((0, 0, 256, 256), None, looked=True)
    confidence = classifier.probabilities(frame.image)[:-1].max()

    def read(cnn_alone_min: float) -> np.ndarray:
        settings = HandSettings(cnn_alone_min=cnn_alone_min, unread_none_max=0.0)
        return SignReader(classifier, settings=settings).read(frame, looked)

    below = read(min(confidence + 0.01, 1.0))
    assert below[classifier.classes.index("none")] == 1.0
    above = read(confidence - 0.01)
    assert np.allclose(above, classifier.probabilities(frame.image))


def test_an_unsure_cnn_that_sees_a_hand_says_hand_in_view_letter_unread(classifier, sample_files):
    _, path = next((c, p) for c, p in sample_files if c == "bb")
    frame = sample_frame(path)
    looked = Located((0, 0, 256, 256), None, looked=True)
    none = classifier.probabilities(frame.image)[classifier.classes.index("none")]
    assert none < 0.5  # a sample of a sign: the CNN does not call it empty

    def read(unread_none_max: float) -> np.ndarray:
        settings = HandSettings(cnn_alone_min=1.0, unread_none_max=unread_none_max)
        return SignReader(classifier, settings=settings).read(frame, looked)

    unread = read(min(none + 0.01, 1.0))
    signs = np.delete(unread, classifier.classes.index("none"))
    assert unread[classifier.classes.index("none")] == 0.0
    assert np.allclose(signs, 1 / len(signs))  # no sign favoured: no letter from it
    for off in (0.0, none):  # off, or the CNN's "none" at the bound: no hand
        assert read(off)[classifier.classes.index("none")] == 1.0


def test_unread_frames_keep_the_decoders_word_open_where_no_hand_would_split_it(classifier):
    reader = SignReader(classifier)
    sign = np.zeros(len(classifier.classes), np.float32)
    sign[classifier.classes.index("bb")] = 1.0
    gap = 1.5 * DecoderSettings().word_gap_s  # longer than a pause between words

    def words(middle: np.ndarray) -> list[tuple[str, ...]]:
        decoder = LetterDecoder(classifier.classes, DecoderSettings())
        script = [(sign, 0.6), (middle, gap), (sign, 0.6), (reader.no_sign, 3.0)]
        events, t = [], 0.0
        for probs, seconds in script:
            for _ in range(round(seconds * 30)):
                events += decoder.update(probs, t)
                t += 1 / 30
        return [e.raw_classes for e in events + decoder.finish() if isinstance(e, WordEvent)]

    assert words(reader.unread) == [("bb", "bb")]  # (the speller may fill the gap: "باب")
    assert words(reader.no_sign) == [("bb",), ("bb",)]


def test_a_hand_below_the_classifier_presence_falls_back_to_the_cnn(
    classifier, landmark_classifier
):
    frame = Frame(np.full((64, 64, 3), 200, np.uint8), 0.0, 0)
    weak = HandLandmarks(np.random.default_rng(0).normal(size=(21, 3)), 0.01, 0.9, None)
    probs = SignReader(classifier, landmark_classifier).read(frame, Located((0, 0, 64, 64), weak))
    assert np.allclose(probs, classifier.probabilities(frame.image))


def test_a_fusion_weight_chosen_for_other_views_is_a_warning_naming_both(
    classifier, landmark_classifier, caplog
):
    """The shipped weight was chosen for three views; a one-view CNN is told, not refused."""
    from edge_arasl.classifier import Classifier

    assert landmark_classifier.fusion_views == "scales"
    with caplog.at_level("WARNING", logger="edge_arasl.reader"):
        SignReader(Classifier(views="scales"), landmark_classifier)
        assert caplog.records == []
        SignReader(classifier, landmark_classifier)  # the fixture reads one view
    (record,) = caplog.records
    assert "views = 'scales'" in record.getMessage() and "reads 'one'" in record.getMessage()
