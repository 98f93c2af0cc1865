"""Provides claim extraction from articles: language detection, segmentation and scoring."""

from __future__ import annotations

# These modules import only the standard library at module level (py3langid loads on first
# detection, the learned scorer's numpy and models when it scores), so importing
# workbench.extract stays cheap and never pulls in torch or faiss.
from workbench.extract.claims import extract_claims, score_sentence
from workbench.extract.lang import SUPPORTED_LANGUAGES, detect_language
from workbench.extract.pipeline import Extraction, extract_article, extract_candidates

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Extraction",
    "detect_language",
    "extract_article",
    "extract_candidates",
    "extract_claims",
    "score_sentence",
]
