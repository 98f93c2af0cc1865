"""Tests of inter-reviewer agreement: alpha on known data, kappa by hand, disputes, edge cases."""

from __future__ import annotations

import json
import math
import random

import pytest

from workbench.agreement import cohen_kappa, compute_agreement
from workbench.errors import InputError
from workbench.scale import SCALE

RATED = [r.id for r in SCALE if r.value is not None]  # false .. true, values 1..6
NAN = math.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers
# by 12 units, values 1..5, with missing data. The paper gives nominal alpha 0.743 and the
# krippendorff package documents ordinal alpha 0.815 for the same matrix. Unit 12 has one
# value only: not pairable, so 11 units and 40 pairable values.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    "C": [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
}


def _triples(matrix: dict[str, list[float]], ids: list[int] | None = None):
    """(reviewer, claim id, verdict id) from a reliability matrix of scale values (1 = false)."""
    out = []
    for reviewer, row in matrix.items():
        for unit, value in enumerate(row):
            if not math.isnan(value):
                claim = ids[unit] if ids else unit + 1
                out.append((reviewer, claim, RATED[int(value) - 1]))
    return out


def _alpha_by_hand(units: list[list[int]], ordinal: bool) -> float:
    """Alpha from Krippendorff's coincidence-matrix formulas, independently of the package.

    o_ck = sum over units of (pairs c-k in the unit) / (m_u - 1); n_c = sum_k o_ck;
    alpha = 1 - (n - 1) * sum o_ck d_ck / sum_{c,k} n_c n_k d_ck, with d nominal (c != k)
    or ordinal ((sum_{g=c..k} n_g - (n_c + n_k) / 2) ** 2).
    """
    values = sorted({v for unit in units for v in unit})
    o = {(c, k): 0.0 for c in values for k in values}
    for unit in units:
        if len(unit) < 2:
            continue
        for i, c in enumerate(unit):
            for j, k in enumerate(unit):
                if i != j:
                    o[c, k] += 1 / (len(unit) - 1)
    n_c = {c: sum(o[c, k] for k in values) for c in values}
    n = sum(n_c.values())

    def delta(c: int, k: int) -> float:
        if not ordinal:
            return float(c != k)
        lo, hi = min(c, k), max(c, k)
        between = sum(n_c[g] for g in values if lo <= g <= hi)
        return (between - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[c, k] * delta(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values)
    return 1 - (n - 1) * observed / expected


def test_krippendorff_worked_example_gives_the_published_alphas():
    result = compute_agreement(_triples(KRIPPENDORFF_2011))

    assert round(result.nominal.value, 3) == 0.743
    assert round(result.ordinal.value, 3) == 0.815
    for alpha in (result.nominal, result.ordinal):
        assert (alpha.claims, alpha.ratings, alpha.unpaired) == (11, 40, 1)
    assert (result.claims, result.ratings) == (12, 41)
    assert any("single rating left out" in note for note in result.notes)
    # The same figures from the paper's formulas, computed here without the package.
    units = [
        [row[u] for row in KRIPPENDORFF_2011.values() if not math.isnan(row[u])] for u in range(12)
    ]
    assert round(_alpha_by_hand(units, ordinal=False), 3) == 0.743
    assert round(_alpha_by_hand(units, ordinal=True), 3) == 0.815


def test_alpha_agrees_with_the_formulas_on_random_data_with_gaps():
    rng = random.Random(7)
    reviewers = ["ana", "ben", "chloé", "dev"]
    ids = rng.sample(range(1, 10_000), 40)  # claim ids are keys, not positions
    matrix = {
        name: [rng.choice([NAN, 1, 2, 3, 4, 5, 6, rng.randint(1, 3)]) for _ in ids]
        for name in reviewers
    }
    result = compute_agreement(_triples(matrix, ids))
    units = [[row[u] for row in matrix.values() if not math.isnan(row[u])] for u in range(40)]

    assert result.ordinal.value == pytest.approx(_alpha_by_hand(units, ordinal=True), abs=1e-9)
    assert result.nominal.value == pytest.approx(_alpha_by_hand(units, ordinal=False), abs=1e-9)
    assert result.ordinal.claims == sum(1 for unit in units if len(unit) >= 2)


def test_cohen_kappa_of_a_textbook_two_by_two_table():
    # 50 proposals, two readers: both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    # po = 35/50 = 0.7; pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4.
    assert cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)

    triples = []
    cells = [("true", "true", 20), ("true", "false", 5), ("false", "true", 10)]
    cells.append(("false", "false", 15))
    claim = 0
    for a, b, count in cells:
        for _ in range(count):
            claim += 1
            triples += [("a", claim, a), ("b", claim, b)]
    (pair,) = compute_agreement(triples).pairs

    assert pair.kappa == pytest.approx(0.4)
    assert (pair.claims, pair.agreed) == (50, 35)
    true, false = pair.labels.index("true"), pair.labels.index("false")
    assert pair.confusion[true][false] == 5  # rows are reviewer a, columns reviewer b
    assert pair.confusion[false][true] == 10
    assert pair.as_dict()["observed"] == 0.7


def test_kappa_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(3)
    a = [rng.choice([*RATED, "unverifiable"]) for _ in range(60)]
    b = [v if rng.random() < 0.5 else rng.choice(RATED) for v in a]
    triples = [("a", i, v) for i, v in enumerate(a)] + [("b", i, v) for i, v in enumerate(b)]

    (pair,) = compute_agreement(triples).pairs

    assert pair.kappa == pytest.approx(metrics.cohen_kappa_score(a, b), abs=1e-12)


def test_perfect_agreement_is_one_and_has_no_disputes():
    verdicts = ["false", "true", "half-true", "misleading", "unverifiable", "mostly-true"]
    triples = [(name, i, v) for name in ("a", "b", "c") for i, v in enumerate(verdicts)]

    result = compute_agreement(triples)

    assert result.ordinal.value == pytest.approx(1.0)
    assert result.nominal.value == pytest.approx(1.0)
    assert [pair.kappa for pair in result.pairs] == pytest.approx([1.0, 1.0, 1.0])
    assert result.disputes == ()


def test_systematic_disagreement_is_negative():
    # b always rates the mirror image of a: False where a says True, and so on.
    a = ["false", "true", "mostly-false", "mostly-true", "false", "true"]
    mirror = {r: RATED[5 - RATED.index(r)] for r in RATED}
    triples = [("a", i, v) for i, v in enumerate(a)] + [
        ("b", i, mirror[v]) for i, v in enumerate(a)
    ]

    result = compute_agreement(triples)

    assert result.ordinal.value < 0
    assert result.nominal.value < 0
    assert result.pairs[0].kappa < 0
    assert len(result.disputes) == 6
    assert result.disputes[0].spread == 5  # False against True: the whole scale apart


def test_unverifiable_and_not_a_claim_count_for_nominal_only():
    triples = [
        ("a", 1, "false"),
        ("b", 1, "unverifiable"),  # no place on the ordinal scale
        ("a", 2, "true"),
        ("b", 2, "true"),
        ("a", 3, "mostly-false"),
        ("b", 3, "mostly-false"),
        ("c", 3, "not-a-claim"),
    ]
    result = compute_agreement(triples)

    # Ordinal: claim 1 keeps one rated verdict (unpaired); claims 2 and 3 agree.
    assert (result.ordinal.claims, result.ordinal.ratings, result.ordinal.unpaired) == (2, 4, 1)
    assert result.ordinal.value == pytest.approx(1.0)
    # Nominal: all 7 ratings; "false" against "unverifiable" is a disagreement.
    assert (result.nominal.claims, result.nominal.ratings) == (3, 7)
    assert result.nominal.value < 1.0
    disputes = {d.claim_id: d for d in result.disputes}
    assert set(disputes) == {1, 3}
    assert disputes[1].verdicts == (("a", "false"), ("b", "unverifiable"))
    assert disputes[1].spread is None  # only one verdict on the rated scale
    assert disputes[3].spread == 0  # a and b agree on the scale; c says it is no claim
    assert any("2 rating(s) without a place" in note for note in result.notes)


def test_shuffled_triples_give_the_same_result():
    triples = _triples(KRIPPENDORFF_2011)
    expected = compute_agreement(triples).as_dict()
    rng = random.Random(11)
    for _ in range(5):
        shuffled = triples[:]
        rng.shuffle(shuffled)
        assert compute_agreement(shuffled).as_dict() == expected


def test_reviewers_without_common_claims_have_no_kappa():
    triples = [
        ("a", 1, "false"),
        ("a", 2, "true"),
        ("b", 3, "false"),
        ("b", 4, "true"),
        ("c", 1, "false"),
        ("c", 2, "true"),
        ("c", 3, "false"),
        ("c", 4, "mostly-true"),
    ]
    pairs = {(p.reviewer_a, p.reviewer_b): p for p in compute_agreement(triples).pairs}

    assert pairs["a", "b"].claims == 0
    assert pairs["a", "b"].kappa is None
    assert pairs["a", "b"].as_dict()["observed"] is None
    assert pairs["a", "c"].kappa == pytest.approx(1.0)
    assert pairs["b", "c"].kappa == pytest.approx(1 / 3)  # po 0.5, pe 0.25
    notes = compute_agreement(triples).notes
    assert "kappa undefined for 'a' and 'b': no claims in common" in notes


def test_undefined_values_are_none_with_a_reason():
    single = compute_agreement([("a", 1, "false"), ("a", 2, "true")])
    assert single.ordinal.value is None and single.nominal.value is None
    assert single.pairs == ()
    assert "1 reviewer(s): agreement needs two or more" in single.notes
    assert "ordinal alpha undefined: no claim has two ratings to compare" in single.notes

    # Everyone says True about everything: agreement, but no variation to measure it by.
    same = compute_agreement([(n, c, "true") for n in ("a", "b") for c in (1, 2, 3)])
    assert same.ordinal.value is None and same.nominal.value is None
    assert same.pairs[0].kappa is None
    assert any("no variation" in note for note in same.notes)
    assert same.as_dict()["alpha"]["ordinal"]["value"] is None

    empty = compute_agreement([])
    assert (empty.claims, empty.ratings, empty.ordinal.value) == (0, 0, None)


def test_inputs_are_checked_and_empty_verdicts_skipped():
    with pytest.raises(InputError, match="two verdicts"):
        compute_agreement([("a", 1, "false"), ("a", 1, "true")])
    with pytest.raises(InputError, match="unknown verdict"):
        compute_agreement([("a", 1, "maybe")])

    result = compute_agreement(
        [("a", 1, "false"), ("a", 1, "false"), ("b", 1, "Faux"), ("b", 2, ""), ("a", 2, "true")]
    )
    assert result.ratings == 3  # the repeat counts once, "" is not a rating
    assert result.reviewers[1].by_verdict["false"] == 1  # "Faux" is the French label
    assert any("1 empty verdict(s) ignored" in note for note in result.notes)


def test_as_dict_is_json_with_rounded_floats_and_who_said_what():
    result = compute_agreement(_triples(KRIPPENDORFF_2011))
    data = json.loads(json.dumps(result.as_dict()))

    assert data["alpha"]["nominal"]["value"] == 0.7434
    assert data["alpha"]["ordinal"]["value"] == 0.8154
    assert data["reviewers"]["A"]["total"] == 9
    assert data["reviewers"]["A"]["by_verdict"]["false"] == 3
    assert list(data["reviewers"]["A"]["by_verdict"]) == data["labels"]
    # Unit 6 of the paper: A 1, B 2, C 3, D 4.
    dispute = next(d for d in data["disputes"] if d["claim_id"] == 6)
    assert dispute["verdicts"] == {
        "A": "false",
        "B": "mostly-false",
        "C": "misleading",
        "D": "half-true",
    }
    assert dispute["spread"] == 3
    assert [d["claim_id"] for d in data["disputes"]] == [2, 6, 8]  # unit 9 is 2, 2, 2, 2
    pair = data["pairs"][0]
    # A and B share 9 units, agree on 8: po = 72/81, pe = (3*2 + 3*4 + 2*2 + 1*1)/81 = 23/81,
    # kappa = 49/58 = 0.844827..., rounded to 4 decimals.
    assert pair["reviewers"] == ["A", "B"] and pair["kappa"] == 0.8448
    assert sum(map(sum, pair["confusion"]["matrix"])) == pair["claims"] == 9
