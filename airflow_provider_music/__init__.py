"""Apache Airflow provider for the AI/ML API's music generation (``elevenlabs/eleven_music``)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
