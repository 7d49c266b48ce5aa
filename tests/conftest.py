"""Shared fixtures. The MQTT broker fixtures live in tests/mqtt_broker.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
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


#: ``install(module, source, entry_points, distribution)``: see :func:`install_plugin_package`.
InstallPlugins = Callable[[str, str, dict[str, str], str], Path]


@pytest.fixture
def install_plugin_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InstallPlugins]:
    """Install a plugin package the way pip would: a module beside a dist-info whose
    entry points name its plugins, in a folder on ``sys.path``.

    ``install`` returns that folder, for the ``PYTHONPATH`` of a daemon run as a subprocess.
    The registry's cached scan (which logs each broken plugin once) is cleared on install and
    after the test.
    """
    from edge_arasl import registry
    from edge_arasl.plugin import ENTRY_POINT_GROUP

    site, modules = tmp_path / "site", []

    def install(module: str, source: str, entry_points: dict[str, str], distribution: str) -> Path:
        dist_info = site / f"{distribution.replace('-', '_')}-1.0.dist-info"
        dist_info.mkdir(parents=True)
        (site / f"{module}.py").write_text(source, encoding="utf-8")
        metadata = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n"
        (dist_info / "METADATA").write_text(metadata, encoding="utf-8")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
        monkeypatch.syspath_prepend(str(site))
        registry.scan.cache_clear()  # the scan cached before this package was installed
        modules.append(module)
        return site

    yield install
    registry.scan.cache_clear()  # the next scan must not see it
    for module in modules:
        sys.modules.pop(module, None)
