"""Provides the claims store: articles, claims, their other sources, matches, claim vectors."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.store.connection import Store, _id_chunks, _now

# `ClaimRow.query` in SQL, for queries over many claims (a test checks that both agree).
QUERY_SQL = "CASE WHEN c.standalone != '' THEN c.standalone ELSE c.text END"


@dataclass(frozen=True)
class ClaimRow:
    """A stored claim with the article it came from."""

    id: int
    text: str
    start: int
    end: int
    lang: str
    score: float
    reasons: tuple[str, ...]
    article: str
    claimant: str = ""
    standalone: str = ""
    pending: str = ""
    """The wording awaiting a re-match after an edit ('' when the matches are current)."""

    @property
    def stale(self) -> bool:
        """Whether the stored matches are those of an older wording."""
        return bool(self.pending)

    @property
    def query(self) -> str:
        """The text matching searches with: the standalone wording when there is one."""
        return self.standalone or self.text

    def as_record(self) -> dict[str, Any]:
        """The claim's fields as they appear in JSONL output (match and export)."""
        return {
            "claim_id": self.id,
            "claim": self.text,
            "article": self.article,
            "start": self.start,
            "end": self.end,
            "lang": self.lang,
            "score": self.score,
        }


def _insert_claim_vectors(
    conn: sqlite3.Connection, model: str, claim_ids: Sequence[int], matrix: np.ndarray
) -> None:
    # A NaN row is a claim the model was not asked to read (an English-only model and a
    # French claim: `Retriever._reads`): no vector of an older wording may stay behind.
    rows = [
        (int(cid), row, bool(np.isfinite(row).all()))
        for cid, row in zip(claim_ids, matrix, strict=True)
    ]
    conn.executemany(
        "INSERT OR REPLACE INTO claim_vectors(claim_id, model, vec) VALUES (?,?,?)",
        ((cid, model, np.asarray(row, dtype=np.float32).tobytes()) for cid, row, ok in rows if ok),
    )
    conn.executemany(
        "DELETE FROM claim_vectors WHERE claim_id = ? AND model = ?",
        ((cid, model) for cid, _, ok in rows if not ok),
    )


class ClaimStore(Store):
    """Articles, their claims and each claim's stored matches and vectors."""

    # ----- articles, claims, matches -------------------------------------------------------
    def add_article(
        self,
        name: str,
        source: str,
        content_hash: str,
        lang: str,
        text: str,
        claims: Sequence[dict],
        url: str = "",
        published: str = "",
    ) -> list[int]:
        """Store an article and its claims (idempotent); return the claims' ids in order.

        A URL or publication date given for an article already stored fills in or replaces
        what it had (the claims, verdicts and matches stay)."""
        now = _now()
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM articles WHERE content_hash = ?", (content_hash,)
            ).fetchone()
            if row:
                article_id = row[0]
                for column, value in (("url", url), ("published", published)):
                    if value:
                        conn.execute(
                            f"UPDATE articles SET {column} = ? WHERE id = ?", (value, article_id)
                        )
            else:
                article_id = conn.execute(
                    "INSERT INTO articles(name, source, content_hash, lang, text, added_at, url, "
                    "published) VALUES (?,?,?,?,?,?,?,?)",
                    (name, source, content_hash, lang, text, now, url, published),
                ).lastrowid
            ids = []
            for claim in claims:
                conn.execute(
                    "INSERT INTO claims(article_id, text, start, end, lang, score, reasons, "
                    "created_at, claimant, standalone, details) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT(article_id, start, end, text) DO NOTHING",
                    (
                        article_id,
                        claim["text"],
                        claim["start"],
                        claim["end"],
                        claim.get("lang", ""),
                        float(claim.get("score", 0.0)),
                        json.dumps(list(claim.get("reasons", ())), ensure_ascii=False),
                        now,
                        claim.get("claimant", ""),
                        claim.get("standalone", ""),
                        json.dumps(claim.get("details", {}), ensure_ascii=False),
                    ),
                )
                ids.append(
                    conn.execute(
                        "SELECT id FROM claims WHERE article_id = ? AND start = ? AND end = ? "
                        "AND text = ?",
                        (article_id, claim["start"], claim["end"], claim["text"]),
                    ).fetchone()[0]
                )
        return ids

    def claims(self, ids: Sequence[int] | None = None) -> list[ClaimRow]:
        sql = (
            "SELECT c.id, c.text, c.start, c.end, c.lang, c.score, c.reasons, a.name, "
            "c.claimant, c.standalone, c.rematch_pending FROM claims c "
            "JOIN articles a ON a.id = c.article_id"
        )
        params: list[Any] = []
        if ids is not None:
            sql += f" WHERE c.id IN ({','.join('?' * len(ids))})"
            params = list(ids)
        rows = self.conn.execute(sql + " ORDER BY c.id", params).fetchall()
        return [
            ClaimRow(
                r[0], r[1], r[2], r[3], r[4], r[5], tuple(json.loads(r[6])), r[7], r[8], r[9], r[10]
            )
            for r in rows
        ]

    def has_claim(self, claim_id: int) -> bool:
        """Whether a claim with this id is stored. `claim_id` must be one of SQLite's 64-bit
        integers (the driver raises OverflowError for others: `verdicts._SQLITE_IDS`)."""
        row = self.conn.execute("SELECT 1 FROM claims WHERE id = ?", (claim_id,)).fetchone()
        return row is not None

    def claim_text(self, claim_id: int) -> str | None:
        """A claim's current wording, None when there is no such claim."""
        row = self.conn.execute("SELECT text FROM claims WHERE id = ?", (claim_id,)).fetchone()
        return None if row is None else row[0]

    def reword_claim(self, conn: sqlite3.Connection, claim_id: int, text: str) -> None:
        """Give a claim a reviewer's wording, inside the caller's transaction (`conn`), which
        writes its audit row: the extracted wording is kept (`original_text`, set once), and
        matching searches with the new one from now on (`standalone`)."""
        current, original, standalone, details = conn.execute(
            "SELECT text, original_text, standalone, details FROM claims WHERE id = ?",
            (claim_id,),
        ).fetchone()
        extras = json.loads(details or "{}")
        if original is None:
            # The first edit: the extracted standalone wording (names, pronouns and dates
            # resolved) is kept, so that going back to the article's wording (an undo) gives
            # matching that wording again, not the bare sentence.
            extras.setdefault("original_standalone", standalone)
        restored = text == (original if original is not None else current)
        alone = (extras.get("original_standalone") or text) if restored else text
        conn.execute(
            "UPDATE claims SET original_text = COALESCE(original_text, text), text = ?, "
            "standalone = ?, rematch_pending = ?, details = ? WHERE id = ?",
            (text, alone, text, json.dumps(extras, ensure_ascii=False), claim_id),
        )
        # The old wording's vectors would let verdict memory compare the wrong text; the
        # re-match stores the new ones.
        conn.execute("DELETE FROM claim_vectors WHERE claim_id = ?", (claim_id,))

    def pending_rematches(self) -> list[int]:
        """Claims reworded and not matched again since (a re-match killed, or not yet run)."""
        rows = self.conn.execute("SELECT id FROM claims WHERE rematch_pending != '' ORDER BY id")
        return [int(r[0]) for r in rows]

    def article_id(self, content_hash: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM articles WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return int(row[0]) if row else None

    def claim_keys(self, exclude_article: int | None = None) -> list[tuple[int, str, str]]:
        """(id, text matched on, language) of every claim, except one article's own."""
        return [
            (int(r[0]), r[1], r[2])
            for r in self.conn.execute(
                f"SELECT c.id, {QUERY_SQL}, c.lang FROM claims c WHERE c.article_id != ? "
                "ORDER BY c.id",
                (-1 if exclude_article is None else exclude_article,),
            )
        ]

    def add_claim_sources(self, article_id: int, sources: Sequence[tuple[int, dict]]) -> None:
        """Record that the article also makes these (existing) claims, at these spans.

        A claim stored under its check-worthiness threshold takes the new source's score when
        that is better (as near-duplicates within an article do): a statement scored low in
        one article and high in another is not left hidden."""
        now = _now()
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO claim_sources(claim_id, article_id, start, end, text, added_at) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [(cid, article_id, c["start"], c["end"], c["text"], now) for cid, c in sources],
            )
            conn.executemany(
                "UPDATE claims SET score = MAX(score, ?) WHERE id = ? "
                "AND score < COALESCE(json_extract(details, '$.min_score'), -1.0)",
                [(float(c["score"]), cid) for cid, c in sources if "score" in c],
            )

    def claim_sources(self, claim_id: int) -> list[dict[str, Any]]:
        """The other articles (name, span, wording) that make the same claim."""
        rows = self.conn.execute(
            "SELECT a.name, s.start, s.end, s.text, a.url FROM claim_sources s "
            "JOIN articles a ON a.id = s.article_id WHERE s.claim_id = ? ORDER BY s.added_at",
            (claim_id,),
        ).fetchall()
        return [dict(zip(("article", "start", "end", "text", "url"), r, strict=True)) for r in rows]

    def save_matches(
        self,
        results: Sequence[tuple[int, Sequence[Any]]],
        agreement: Sequence[Sequence[list[dict[str, Any]]]] | None = None,
        vectors: dict[str, np.ndarray] | None = None,
        matched: Sequence[str] | None = None,
    ) -> None:
        """Replace the stored matches of each claim with its new ranked hits, in one transaction.

        `agreement`, parallel to `results`, holds each hit's agreement signals (verdict hints);
        `vectors` each model's claim vectors (rows parallel to `results`), written in the same
        transaction so that matches never outlive their claim's vectors or the reverse.
        `matched`, parallel to `results`, is each claim's wording as it was matched: a claim
        awaiting a re-match of that wording is current again, and a claim reworded since
        keeps what it has: these matches and vectors are of an old wording (a late re-match
        never overwrites a newer one's evidence; the claim stays pending)."""
        now = _now()
        with self.transaction() as conn:
            keep = list(range(len(results)))
            if matched is not None:
                # Read inside the transaction: no rewording can slip in between.
                current = {
                    int(r[0]): r[1]
                    for chunk, marks in _id_chunks([claim_id for claim_id, _ in results])
                    for r in conn.execute(
                        f"SELECT id, text FROM claims WHERE id IN ({marks})", chunk
                    )
                }
                keep = [i for i in keep if current.get(results[i][0]) == matched[i]]
            claim_ids = [results[i][0] for i in keep]
            for model, matrix in (vectors or {}).items():
                _insert_claim_vectors(conn, model, claim_ids, np.asarray(matrix)[keep])
            for index in keep:
                claim_id, hits = results[index]
                signals = agreement[index] if agreement is not None else [[] for _ in hits]
                conn.execute("DELETE FROM matches WHERE claim_id = ?", (claim_id,))
                conn.executemany(
                    "INSERT INTO matches(claim_id, rank, passage_id, score, signals, matched_at, "
                    "agreement) VALUES (?,?,?,?,?,?,?)",
                    [
                        (
                            claim_id,
                            rank,
                            hit.passage_id,
                            hit.score,
                            json.dumps(hit.signals),
                            now,
                            json.dumps(found, ensure_ascii=False),
                        )
                        for rank, (hit, found) in enumerate(zip(hits, signals, strict=True), 1)
                    ],
                )
                if matched is not None:
                    conn.execute(
                        "UPDATE claims SET rematch_pending = '' "
                        "WHERE id = ? AND rematch_pending = ?",
                        (claim_id, matched[index]),
                    )

    def matches(self, claim_id: int) -> list[dict[str, Any]]:
        """A claim's stored matches in rank order, each with its passage, its document (its
        `extra` fields included) and its agreement signals."""
        rows = self.conn.execute(
            "SELECT m.rank, m.passage_id, m.score, m.signals, m.matched_at, d.doc_key, d.title, "
            "d.url, d.publisher, d.published, p.lang, p.text, m.agreement, d.extra "
            "FROM matches m JOIN passages p ON p.id = m.passage_id "
            "JOIN documents d ON d.id = p.document_id WHERE m.claim_id = ? ORDER BY m.rank",
            (claim_id,),
        ).fetchall()
        keys = (
            "rank", "passage_id", "score", "signals", "matched_at", "evidence_id", "title",
            "url", "publisher", "published", "lang", "text", "agreement", "extra",
        )  # fmt: skip
        out = []
        for row in rows:
            record = dict(zip(keys, row, strict=True))
            for key in ("signals", "agreement", "extra"):
                record[key] = json.loads(record[key] or "null")
            out.append(record)
        return out

    def save_claim_vectors(self, model: str, claim_ids: Sequence[int], matrix: np.ndarray) -> None:
        """Store (or replace) one model's vectors of some claims, in one transaction."""
        with self.transaction() as conn:
            _insert_claim_vectors(conn, model, claim_ids, matrix)

    def claim_vectors(
        self, model: str, claim_ids: Sequence[int] | None = None
    ) -> dict[int, np.ndarray]:
        """{claim id: vector} for one model; all claims with one when `claim_ids` is None."""
        sql = "SELECT claim_id, vec FROM claim_vectors WHERE model = ?"
        if claim_ids is None:
            queries = [(sql, [model])]
        else:
            ids = list(dict.fromkeys(int(c) for c in claim_ids))
            queries = [
                (f"{sql} AND claim_id IN ({marks})", [model, *chunk])
                for chunk, marks in _id_chunks(ids)
            ]
        return {
            int(cid): np.frombuffer(blob, dtype=np.float32)
            for query, params in queries
            for cid, blob in self.conn.execute(query, params)
        }

    def vectors_of_claim(self, claim_id: int) -> dict[str, np.ndarray]:
        """{model: vector} of one claim, for every model that embedded it."""
        return {
            model: np.frombuffer(blob, dtype=np.float32)
            for model, blob in self.conn.execute(
                "SELECT model, vec FROM claim_vectors WHERE claim_id = ?", (int(claim_id),)
            )
        }

    def article_of(self, claim_id: int) -> tuple[int, str, str] | None:
        """(article id, text, publication date) of a claim's article; the text is '' for
        claims given directly, the date '' when unknown."""
        row = self.conn.execute(
            "SELECT a.id, a.text, a.published FROM claims c JOIN articles a "
            "ON a.id = c.article_id WHERE c.id = ?",
            (claim_id,),
        ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else None

    def _claim_extras(self, claim_id: int) -> tuple[str | None, str, str, str, dict[str, Any]]:
        """(original text, article URL, article date, article text, details) of a claim, as
        the export needs them."""
        original, url, published, article_text, details = self.conn.execute(
            "SELECT c.original_text, a.url, a.published, a.text, c.details FROM claims c "
            "JOIN articles a ON a.id = c.article_id WHERE c.id = ?",
            (claim_id,),
        ).fetchone()
        return original, url, published, article_text, json.loads(details or "{}")
