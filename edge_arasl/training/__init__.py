"""Training the ArASL classifier (needs the ``train`` extra: TensorFlow).

``augment`` is plain numpy/OpenCV and imports without TensorFlow; ``architecture`` and
``trainer`` import TensorFlow when called.
"""
