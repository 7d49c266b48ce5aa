"""Log-linear fusion of the CNN's and the landmark classifier's probabilities, on hand-made
vectors: the two ends of the weight, the rule for ``none``, class alignment by name."""

from __future__ import annotations

import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.fusion import Fusion
from edge_arasl.labels import MODEL_CLASSES, NONE_CLASS, SIGN_CLASSES

NONE = MODEL_CLASSES.index(NONE_CLASS)


def _cnn(**probs: float) -> np.ndarray:
    """CNN probabilities over MODEL_CLASSES: the named ones, the rest spread evenly."""
    p = np.zeros(len(MODEL_CLASSES), np.float32)
    for name, value in probs.items():
        p[MODEL_CLASSES.index(name)] = value
    rest = [i for i, c in enumerate(MODEL_CLASSES) if c not in probs]
    p[rest] = (1 - sum(probs.values())) / len(rest)
    return p


def _landmarks(classes: tuple[str, ...] = SIGN_CLASSES, **probs: float) -> np.ndarray:
    p = np.full(len(classes), (1 - sum(probs.values())) / (len(classes) - len(probs)), np.float32)
    for name, value in probs.items():
        p[classes.index(name)] = value
    return p


def test_weight_zero_is_the_cnn_alone():
    cnn = _cnn(dal=0.6, thal=0.3, none=0.05)
    fused = Fusion(MODEL_CLASSES, SIGN_CLASSES, 0.0)(cnn, _landmarks(thal=0.9))
    np.testing.assert_array_equal(fused, cnn)


def test_weight_one_ranks_the_signs_as_the_landmarks_do_and_keeps_the_cnns_none():
    cnn = _cnn(dal=0.6, thal=0.2, none=0.1)
    landmarks = _landmarks(thal=0.7, ra=0.2, dal=0.05)
    fused = Fusion(MODEL_CLASSES, SIGN_CLASSES, 1.0)(cnn, landmarks)
    signs = fused[[MODEL_CLASSES.index(c) for c in SIGN_CLASSES]]
    assert [SIGN_CLASSES[i] for i in np.argsort(-signs)[:3]] == ["thal", "ra", "dal"]
    assert fused[NONE] == pytest.approx(0.1)
    assert fused.sum() == pytest.approx(1.0, abs=1e-6)
    # The signs share what none leaves, in the landmark classifier's proportions.
    assert signs[SIGN_CLASSES.index("thal")] == pytest.approx(0.9 * 0.7, rel=1e-4)


def test_a_class_both_models_find_likely_beats_one_only_one_model_is_sure_of():
    cnn = _cnn(dal=0.55, thal=0.40, none=0.0)
    landmarks = _landmarks(ra=0.55, thal=0.40, dal=0.001)
    fused = Fusion(MODEL_CLASSES, SIGN_CLASSES, 0.5)(cnn, landmarks)
    assert MODEL_CLASSES[int(fused.argmax())] == "thal"


def test_classes_are_matched_by_name_not_position():
    reordered = tuple(reversed(SIGN_CLASSES))
    cnn = _cnn(dal=0.5, thal=0.3, none=0.1)
    aligned = Fusion(MODEL_CLASSES, SIGN_CLASSES, 0.4)(cnn, _landmarks(thal=0.8, ra=0.1))
    reversed_ = Fusion(MODEL_CLASSES, reordered, 0.4)(cnn, _landmarks(reordered, thal=0.8, ra=0.1))
    np.testing.assert_allclose(aligned, reversed_, rtol=1e-6)
    cnn_reordered = tuple(reversed(MODEL_CLASSES))
    flipped = Fusion(cnn_reordered, SIGN_CLASSES, 0.4)(cnn[::-1], _landmarks(thal=0.8, ra=0.1))
    np.testing.assert_allclose(flipped[::-1], aligned, rtol=1e-6)


def test_no_hand_gives_the_cnn_unchanged_and_rows_fuse_alike_in_a_batch():
    fusion = Fusion(MODEL_CLASSES, SIGN_CLASSES, 0.3)
    cnn = np.stack([_cnn(dal=0.7), _cnn(ra=0.4, none=0.5)])
    landmarks = np.stack([_landmarks(thal=0.9), _landmarks(ra=0.9)])
    np.testing.assert_array_equal(fusion(cnn[0], None), cnn[0])
    batch = fusion(cnn, landmarks)
    np.testing.assert_allclose(batch[1], fusion(cnn[1], landmarks[1]), rtol=1e-6)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, rtol=1e-5)


def test_a_zero_probability_of_one_model_is_floored_not_a_veto():
    cnn = _cnn(dal=0.9, thal=0.0, none=0.0)
    fused = Fusion(MODEL_CLASSES, SIGN_CLASSES, 0.7)(cnn, _landmarks(thal=0.999))
    assert MODEL_CLASSES[int(fused.argmax())] == "thal"


@pytest.mark.parametrize("weight", [-0.1, 1.5, True, "0.5"])
def test_a_weight_outside_0_to_1_is_a_one_line_error(weight):
    with pytest.raises(UserError, match="fusion weight"):
        Fusion(MODEL_CLASSES, SIGN_CLASSES, weight)


def test_landmark_classes_the_cnn_lacks_are_a_one_line_error():
    with pytest.raises(UserError, match="'hamza'"):
        Fusion(MODEL_CLASSES, (*SIGN_CLASSES, "hamza"), 0.5)


def test_mismatched_vectors_are_refused():
    fusion = Fusion(MODEL_CLASSES, SIGN_CLASSES, 0.5)
    with pytest.raises(ValueError, match="landmark probabilities"):
        fusion(_cnn(), np.full(len(MODEL_CLASSES), 1 / 33, np.float32))
