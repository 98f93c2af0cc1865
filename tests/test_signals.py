"""Agreement signals, French and English: each kind agrees, conflicts or stays absent."""

from __future__ import annotations

from workbench.hints.signals import (
    ABSENT,
    AGREES,
    CAUTION,
    CONFLICTS,
    Side,
    Signal,
    agreement,
    agreement_many,
    counts,
    nli_signal,
    sentences,
)

MUELLER_FR = (
    "Vladimir Poutine a félicité le procureur spécial américain Robert Mueller pour son enquête "
    "objective, qui a confirmé l'absence de toute collusion entre la Russie et le gouvernement "
    "américain."
)
BARR_EN = (
    "Attorney General William Barr's letter of 24 March 2019 summarized the special counsel's "
    "conclusions. It quoted Mueller's finding that the investigation did not establish that "
    "members of the Trump campaign conspired or coordinated with the Russian government."
)
BARR_FR = (
    "Le texte indique que l'enquête de Robert Mueller n'a pas établi d'entente entre l'équipe de "
    "campagne de Donald Trump et la Russie en 2016."
)


def _of(signals: list[Signal], kind: str) -> list[Signal]:
    return [s for s in signals if s.kind == kind]


def _one(claim: Side, evidence: Side, kind: str) -> Signal:
    (signal,) = _of(agreement(claim, evidence), kind)
    return signal


# --- dates ---------------------------------------------------------------------------------------


def test_a_month_agrees_with_a_day_range_inside_it_across_languages() -> None:
    claim = Side(
        "Trump rencontrera Poutine au mois de juin au sommet du G20 à Osaka.", "fr", "2019-05-15"
    )
    evidence = Side(
        "Peskov said Putin and Trump could meet at the G20 summit in Osaka, set for 28-29 June.",
        "en",
        "2019-06-17",
    )
    signal = _one(claim, evidence, "date")
    assert signal.status == AGREES
    assert (signal.claim, signal.evidence) == ("au mois de juin", "28-29 June")
    assert signal.detail == "2019-06-28..2019-06-29"
    assert "date: claim: au mois de juin; evidence: 28-29 June: agrees" in signal.describe()


def test_french_day_ranges_written_with_et() -> None:
    claim = Side("Le sommet du G20 aura lieu en juin à Osaka.", "fr", "2019-05-15")
    evidence = Side("Le sommet du G20 se tient les 28 et 29 juin 2019 à Osaka.", "fr", "2019-06-28")
    signal = _one(claim, evidence, "date")
    assert signal.status == AGREES and signal.evidence == "28 et 29 juin 2019"


def test_a_nearby_day_about_the_same_people_conflicts() -> None:
    claim = Side("Poutine a parlé au téléphone avec Donald Trump le 3 mai.", "fr", "2019-05-15")
    evidence = Side(
        "Donald Trump spoke with Vladimir Putin by telephone on Saturday, 4 May 2019.",
        "en",
        "2019-05-05",
    )
    signal = _one(claim, evidence, "date")
    assert signal.status == CONFLICTS
    assert (signal.claim, signal.evidence) == ("3 mai", "4 May 2019")
    assert signal.detail == "2019-05-03 vs 2019-05-04"


def test_an_english_day_conflict_and_agreement() -> None:
    claim = Side("Trump spoke with Putin on May 3, 2019.", "en", "2019-05-10")
    right = Side("Trump and Putin spoke by phone on 3 May 2019.", "en", "2019-05-04")
    wrong = Side("Trump and Putin spoke by phone on 5 May 2019.", "en", "2019-05-06")
    assert _one(claim, right, "date").status == AGREES
    assert _one(claim, wrong, "date").status == CONFLICTS


def test_a_near_date_about_other_people_is_not_a_conflict() -> None:
    claim = Side("Poutine a parlé au téléphone avec Donald Trump le 3 mai.", "fr", "2019-05-15")
    evidence = Side("The European Council met in Brussels on 4 May 2019.", "en", "2019-05-05")
    assert _one(claim, evidence, "date").status == ABSENT


def test_evidence_published_before_the_claimed_day_is_no_date_conflict() -> None:
    # An announcement on 10 May speaks of the announcement, not of the meeting on 14 May.
    claim = Side("Mike Pompeo a rencontré Vladimir Poutine à Sotchi le 14 mai 2019.", "fr")
    evidence = Side(
        "On 10 May 2019 the State Department said Mike Pompeo would meet Vladimir Putin in Sochi.",
        "en",
        "2019-05-11",
    )
    assert _one(claim, evidence, "date").status == ABSENT


def test_weekdays_are_dated_from_the_article() -> None:
    claim = Side("Mike Pompeo a rencontré Vladimir Poutine mardi à Sotchi.", "fr", "2019-05-15")
    evidence = Side("Mike Pompeo met Vladimir Putin in Sochi on 14 May 2019.", "en", "2019-05-14")
    signal = _one(claim, evidence, "date")
    assert signal.status == AGREES and signal.detail == "2019-05-14"


# --- numbers -------------------------------------------------------------------------------------


def test_numbers_agree_across_formats_and_languages() -> None:
    claim = Side(
        "Le rapport de Robert Mueller compte 448 pages et a coûté 25 millions de dollars.", "fr"
    )
    evidence = Side(
        "Robert Mueller's report runs to 448 pages; the inquiry cost $25 million.", "en"
    )
    signals = _of(agreement(claim, evidence), "number")
    assert [s.status for s in signals] == [AGREES, AGREES]
    assert signals[1].detail == "25,000,000 USD"


def test_a_number_with_the_same_unit_and_another_value_conflicts() -> None:
    claim = Side("Unemployment in France fell to 7.1% in 2019, said Emmanuel Macron.", "en")
    evidence = Side(
        "Unemployment in France stood at 8.5% in 2019, Insee said; Emmanuel Macron.", "en"
    )
    signal = _one(claim, evidence, "number")
    assert signal.status == CONFLICTS
    assert signal.detail == "7.1 percent vs 8.5 percent"


def test_numbers_without_a_shared_unit_never_conflict() -> None:
    claim = Side("Emmanuel Macron a reçu 3 ministres à Paris.", "fr")
    evidence = Side("Emmanuel Macron spoke for 2 hours in Paris.", "en")
    assert _one(claim, evidence, "number").status == ABSENT


def test_french_counted_things_compare_with_english_ones() -> None:
    claim = Side("L'ouragan a fait 120 morts en Haïti, selon Ariel Henry.", "fr")
    evidence = Side("The hurricane left 45 dead in Haiti, Ariel Henry said.", "en")
    signal = _one(claim, evidence, "number")
    assert signal.status == CONFLICTS and signal.detail == "120 dead vs 45 dead"


# --- places, people, parties ---------------------------------------------------------------------


def test_people_and_places_match_across_transliterations() -> None:
    claim = Side("Youri Ouchakov a reçu Mike Pompeo à Sotchi, en Russie.", "fr")
    evidence = Side("Yuri Ushakov welcomed Mike Pompeo in Sochi, Russia.", "en")
    signals = agreement(claim, evidence)
    assert {s.evidence for s in _of(signals, "person") if s.status == AGREES} == {
        "Yuri Ushakov",
        "Mike Pompeo",
    }
    assert {s.detail for s in _of(signals, "place") if s.status == AGREES} == {"Sochi", "Russia"}
    missing = agreement(Side("Angela Merkel était à Berlin.", "fr"), evidence)
    assert {s.status for s in _of(missing, "person") + _of(missing, "place")} == {ABSENT}


def test_government_against_campaign_is_a_party_conflict_in_both_languages() -> None:
    claim = Side(MUELLER_FR, "fr", "2019-05-15")
    for evidence in (Side(BARR_EN, "en", "2019-03-24"), Side(BARR_FR, "fr", "2019-03-24")):
        signal = _one(claim, evidence, "party")
        assert signal.status == CONFLICTS, signal
        assert signal.claim == "gouvernement américain"
        assert "campaign" in signal.evidence.lower() or "campagne" in signal.evidence
        assert signal.detail == "government vs campaign"


def test_the_same_party_agrees_and_another_country_is_not_the_same_party() -> None:
    claim = Side("The US government denied any collusion with Russia.", "en")
    same = Side("Le gouvernement américain a nié toute collusion avec la Russie.", "fr")
    other = Side("The Russian government denied any collusion with the United States.", "en")
    assert _one(claim, same, "party").status == AGREES
    assert _one(claim, other, "party").status == ABSENT


# --- negation and modality -----------------------------------------------------------------------


def test_confirmed_against_did_not_establish_is_a_modality_conflict() -> None:
    claim = Side(MUELLER_FR, "fr", "2019-05-15")
    signal = _one(claim, Side(BARR_EN, "en", "2019-03-24"), "modality")
    assert signal.status == CONFLICTS
    assert signal.claim.startswith("a confirmé")
    assert signal.evidence.startswith("did not establish")
    french = _one(claim, Side(BARR_FR, "fr"), "modality")
    assert french.status == CONFLICTS and french.evidence.startswith("n'a pas établi")


def test_an_english_claim_proved_against_no_evidence() -> None:
    claim = Side("Scientists proved that the vaccine causes autism, said Andrew Wakefield.", "en")
    evidence = Side(
        "Andrew Wakefield's study found no evidence that the vaccine causes autism in Britain.",
        "en",
    )
    assert _one(claim, evidence, "modality").status == CONFLICTS


def test_a_hedging_passage_is_a_caution_not_a_conflict() -> None:
    claim = Side("The report proved that Moscow funded the campaign of Marine Le Pen.", "en")
    evidence = Side(
        "Moscow may have funded the campaign of Marine Le Pen, a report suggested.", "en"
    )
    assert _one(claim, evidence, "modality").status == CAUTION


def test_negation_of_the_same_word_conflicts_and_agrees() -> None:
    claim = Side("Donald Trump a dit qu'il n'y avait aucune collusion avec Vladimir Poutine.", "fr")
    plain = Side("Donald Trump admitted there was collusion with Vladimir Putin.", "en")
    negated = Side("Donald Trump said there was no collusion with Vladimir Putin.", "en")
    conflict = _one(claim, plain, "negation")
    assert conflict.status == CONFLICTS and conflict.claim.endswith("aucune")
    assert _one(claim, negated, "negation").status == AGREES


def test_a_negation_elsewhere_in_the_passage_is_not_a_mismatch() -> None:
    claim = Side("Donald Trump a rencontré Vladimir Poutine à Helsinki.", "fr")
    evidence = Side("Donald Trump met Vladimir Putin in Helsinki. No agreement was signed.", "en")
    assert not _of(agreement(claim, evidence), "negation")


# --- time ----------------------------------------------------------------------------------------


def test_evidence_older_than_the_claims_event_is_a_caution() -> None:
    claim = Side("Trump a rencontré Poutine au mois de juin à Osaka.", "fr", "2019-07-02")
    evidence = Side("Putin is open to meeting Trump at the G20 in Osaka.", "en", "2019-05-14")
    signal = _one(claim, evidence, "time")
    assert signal.status == CAUTION and "older than the claim's event (2019-06)" in signal.detail


def test_a_claim_about_a_plan_is_not_cautioned_for_evidence_before_the_event() -> None:
    # Said in May of a meeting planned for June: May's evidence can report the plan.
    claim = Side("Trump rencontrera Poutine au mois de juin à Osaka.", "fr", "2019-05-15")
    evidence = Side("Putin is open to meeting Trump at the G20 in Osaka.", "en", "2019-05-14")
    assert not _of(agreement(claim, evidence), "time")


def test_evidence_years_older_than_the_claim_is_a_caution() -> None:
    claim = Side("Robert Mueller dirige l'enquête sur la Russie.", "fr", "2019-05-15")
    evidence = Side("Robert Mueller was appointed special counsel.", "en", "2017-05-17")
    assert "1 year(s) older" in _one(claim, evidence, "time").detail


# --- the rest ------------------------------------------------------------------------------------


def test_signals_are_ordered_conflicts_first_and_round_trip() -> None:
    signals = agreement(Side(MUELLER_FR, "fr", "2019-05-15"), Side(BARR_EN, "en", "2019-03-24"))
    order = [s.status for s in signals]
    assert order == sorted(order, key=[CONFLICTS, CAUTION, AGREES, ABSENT].index)
    assert [Signal.from_dict(s.as_dict()) for s in signals] == signals
    assert counts(signals)[CONFLICTS] >= 2
    many = agreement_many(Side(MUELLER_FR, "fr"), [Side(BARR_EN, "en"), Side(BARR_FR, "fr")])
    assert many == [agreement(Side(MUELLER_FR, "fr"), Side(t, lang)) for t, lang in
                    ((BARR_EN, "en"), (BARR_FR, "fr"))]  # fmt: skip


def test_nli_probabilities_become_a_signal_only_with_a_clear_winner() -> None:
    assert nli_signal([0.1, 0.2, 0.7]).status == CONFLICTS
    assert nli_signal([0.8, 0.1, 0.1]).status == AGREES
    assert nli_signal([0.4, 0.2, 0.4]).status == ABSENT
    assert "contradiction 0.70" in nli_signal([0.1, 0.2, 0.7]).detail


def test_sentences_keep_abbreviations_and_split_titles() -> None:
    text = "Title line\nM. Poutine a parlé. U.S. officials said so. The end."
    parts = [text[s:e] for s, e in sentences(text)]
    assert parts == ["Title line", "M. Poutine a parlé.", "U.S. officials said so.", "The end."]


def test_empty_and_odd_texts_give_no_error() -> None:
    assert agreement(Side(""), Side("")) == []
    assert isinstance(agreement(Side("31 juin 2019, 0 %"), Side("—")), list)


def test_possessives_before_a_full_stop_keep_sentences_and_anchors_aligned() -> None:
    # "D's." once split differently with and without the possessive, and crashed.
    claim = Side("Vitamin D cures colds, said Anthony Fauci.", "en")
    evidence = Side("Anthony Fauci praised Vitamin D's. Studies show no effect on colds.", "en")
    assert isinstance(agreement(claim, evidence), list)


def test_a_persons_party_is_not_set_against_another_countrys_party() -> None:
    claim = Side("The Trump campaign conspired with Russia, said Adam Schiff.", "en")
    evidence = Side(
        "The Russian government interfered in the 2016 election, Adam Schiff said.", "en"
    )
    assert all(s.status != CONFLICTS for s in _of(agreement(claim, evidence), "party"))
