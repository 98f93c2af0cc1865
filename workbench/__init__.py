"""Fact-check workbench: claims extracted, matched to evidence, reviewed and exported."""

__version__ = "0.1.0"
