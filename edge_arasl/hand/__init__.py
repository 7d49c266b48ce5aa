"""Finding the hand: palm detection, hand landmarks and tracking (MediaPipe's models, run here).

``palm`` finds palms in a whole frame, ``landmarks`` reads 21 hand landmarks in an upright crop,
``geometry`` turns either into the next crop, ``features`` makes the landmarks a shape that no
longer depends on where or how big the hand is, and ``tracker`` ties them together behind the
pipeline's region seam.
"""
