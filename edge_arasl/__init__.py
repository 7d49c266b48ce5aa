"""edge-arasl: Arabic Sign Language fingerspelling to Arabic text on the edge."""

__version__ = "0.1.0"
