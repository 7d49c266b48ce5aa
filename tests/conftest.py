"""Shared fixtures. The MQTT broker fixtures live in tests/mqtt_broker.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mqtt_broker import (  # noqa: F401 (fixtures are found by name)
    mosquitto,
    mosquitto_auth,
    mosquitto_mtls,
    mosquitto_persistent,
    mosquitto_tls,
    mqtt_certs,
)

if TYPE_CHECKING:
    from edge_arasl.classifier import Classifier


# The shipped model and its committed held-out samples (models/samples/<class>/*.png).


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    from edge_arasl.classifier import DEFAULT_MODEL_PATH

    return DEFAULT_MODEL_PATH


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """One classifier on the shipped model, shared (tests run one at a time)."""
    from edge_arasl.classifier import Classifier

    return Classifier()


@pytest.fixture(scope="session")
def sample_files(shipped_model: Path) -> list[tuple[str, Path]]:
    """``(class id, png path)`` of every committed sample image."""
    files = sorted(shipped_model.parent.glob("samples/*/*.png"))
    assert files, f"no sample images under {shipped_model.parent / 'samples'}"
    return [(f.parent.name, f) for f in files]
