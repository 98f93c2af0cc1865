"""Provides language detection for articles and sentences, built on py3langid."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# Languages the workbench can extract claims from today.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("fr", "en")

# The identifier only chooses among these. Its full model knows ~140 labels, many of them
# rare neighbours (oc, wa, lb, an, ...) that win on short French or English strings by
# accident; restricting to the languages a newsroom is likely to receive keeps the answer
# useful, and still names the language of an article we cannot handle.
CANDIDATE_LANGUAGES: tuple[str, ...] = (
    "fr", "en", "de", "es", "it", "pt", "nl", "ca", "ro", "pl", "cs", "sv", "da", "no",
    "fi", "el", "tr", "ru", "uk", "ar", "he", "fa", "hi", "zh", "ja", "ko",
)  # fmt: skip

# Returned when the text gives the identifier nothing to go on (no letters, only digits).
UNDETERMINED = "und"

# Prior weight of the supported languages relative to the other candidates. The workbench
# mostly sees French and English, so on a short, ambiguous string ("La reunion a eu lieu
# mardi", accents stripped) we lean towards them; on an article the likelihoods are so
# peaked (probabilities ~1.0) that this prior changes nothing.
_SUPPORTED_PRIOR = 2.0

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Lazy: loading the model costs ~0.3 s and callers that never detect should not pay it.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATE_LANGUAGES))
    return identifier


def detect_language(text: str) -> tuple[str, float]:
    """Return the ISO 639-1 code of `text`'s language and a confidence in [0, 1].

    Probabilities are normalised over `CANDIDATE_LANGUAGES`, with a mild prior towards
    `SUPPORTED_LANGUAGES`. Text without letters gives `("und", 0.0)` instead of a guess.
    Very short strings are inherently ambiguous: detect on a whole article when you can
    and read a low confidence as "unsure", not as an error.
    """
    if not _LETTER.search(text):
        return UNDETERMINED, 0.0
    ranked = _identifier().rank(text)
    # A flat distribution means no feature fired (e.g. "ok"): saying so is more honest
    # than returning whichever label sorts first.
    if ranked[0][1] - ranked[-1][1] < 1e-6:
        return UNDETERMINED, 0.0
    weights = {
        lang: prob * (_SUPPORTED_PRIOR if lang in SUPPORTED_LANGUAGES else 1.0)
        for lang, prob in ranked
    }
    total = sum(weights.values())
    lang, weight = max(weights.items(), key=lambda item: item[1])
    return lang, round(weight / total, 4)
