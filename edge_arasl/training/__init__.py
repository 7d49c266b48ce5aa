"""Training the ArASL classifier (needs the ``train`` extra: TensorFlow).

Imports run one way, from the bottom up: this package's :func:`import_tf`, ``options`` and
``files`` (names and JSON formats of the outputs) import nothing of the package; ``crossval``,
``checkpoint``, ``augment``, ``averaging`` and ``architecture`` build on them; ``export``
writes the model's files; ``trainer`` runs the steps. TensorFlow and Keras are imported only
when called, so the CLI and ``augment`` (plain numpy/OpenCV) work without them.
"""

from __future__ import annotations

import os
from typing import Any

from edge_arasl.errors import UserError


def import_tf() -> Any:
    """TensorFlow, or a one-line error saying how to install it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError:
        raise UserError("training needs TensorFlow: pip install 'edge-arasl[train]'") from None
    return tf
