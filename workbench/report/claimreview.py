"""Provides ClaimReview JSON-LD (schema.org, as Google's fact-check markup documents it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from workbench.errors import InputError
from workbench.extract.claimant import guess_claimant
from workbench.report import ReportOptions, label, rating_of, safe_url, script_safe_json
from workbench.scale import BEST_RATING, WORST_RATING

SHORT = 75


def short_claim(text: str, limit: int = SHORT) -> str:
    """The claim as one short sentence: cut at a word boundary under `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def claim_review(row: dict[str, Any], options: ReportOptions) -> dict[str, Any] | None:
    """One ClaimReview object, or None for a claim without a verdict."""
    rating = rating_of(row)
    if rating is None:
        return None
    verdict = row["verdict"]
    organization: dict[str, Any] = {"@type": "Organization", "name": options.organization}
    if safe_url(options.organization_url, relative=False):
        organization["url"] = safe_url(options.organization_url, relative=False)
    claimant = row.get("claimant") or guess_claimant(row["claim"])
    author = (
        {"@type": "Person", "name": claimant}
        if claimant
        else {"@type": "Organization", "name": row["article"]}
    )
    appearance: dict[str, Any] = {"@type": "CreativeWork"}
    url = safe_url(row.get("article_url") or row["article"], relative=False)
    if url:
        appearance["url"] = url
    else:
        appearance["name"] = row["article"]
    review_rating: dict[str, Any] = {"@type": "Rating"}
    if rating.value is not None:
        review_rating.update(
            ratingValue=rating.value, bestRating=BEST_RATING, worstRating=WORST_RATING
        )
    review_rating.update(
        alternateName=label(rating, options.lang), name=label(rating, options.lang)
    )
    out: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
    }
    if options.review_url:
        try:
            review_url = options.review_url.format(claim_id=row["claim_id"])
        except (AttributeError, KeyError, IndexError, ValueError) as exc:
            raise InputError(
                f"[publish] review_url {options.review_url!r} is not a template with "
                "{claim_id} only (write a literal brace as {{ or }})"
            ) from exc
        if safe_url(review_url, relative=False):
            out["url"] = safe_url(review_url, relative=False)
    out.update(
        # The claim as it reads alone: who and when resolved, as a reader of the review needs.
        claimReviewed=short_claim(row.get("standalone") or row["claim"]),
        author=organization,
        datePublished=verdict["updated_at"][:10],
        inLanguage=options.lang,
        itemReviewed={
            "@type": "Claim",
            "author": author,
            **({"datePublished": row["article_published"]} if row.get("article_published") else {}),
            "appearance": appearance,
            "inLanguage": row["lang"],
        },
        reviewRating=review_rating,
    )
    return out


def render_claimreview(rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """A JSON list of ClaimReview objects, one per claim with a verdict, safe to paste
    inside <script type="application/ld+json"> (`<`, `>`, `&` written as \\u escapes)."""
    reviews = [review for row in rows if (review := claim_review(row, options)) is not None]
    return script_safe_json(json.dumps(reviews, ensure_ascii=False, indent=2)) + "\n"
