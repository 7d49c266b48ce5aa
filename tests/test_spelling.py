"""The lexicon and the spelling beam search, on hand-made letter posteriors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge_arasl.decoder import DecoderSettings, LetterDecoder
from edge_arasl.errors import UserError
from edge_arasl.labels import MODEL_CLASSES, NONE_CLASS, join_classes
from edge_arasl.lexicon import Lexicon, spell
from edge_arasl.plugin import WordEvent
from edge_arasl.settings import from_table
from edge_arasl.spelling import Speller, WordSettings

N = len(MODEL_CLASSES)
#: A small lexicon: the frequencies decide, not the bundled list's.
WORDS = {"قمر": 5.0, "صديق": 5.0, "طفل": 5.0, "بيت": 6.0, "بنت": 5.5, "سلام": 5.0, "من": 7.5}
FLOOR_WORD = {"مدد": 3.0}


def lexicon(words: dict[str, float] | None = None) -> Lexicon:
    table = {**WORDS, **FLOOR_WORD} if words is None else words
    return Lexicon((spell(w), z) for w, z in table.items())


def speller(lex: Lexicon | None = None, **settings) -> Speller:
    return Speller(MODEL_CLASSES, WordSettings(**settings), lex or lexicon())


def letter(*weights: tuple[str, float]) -> np.ndarray:
    """A probability vector: the given classes, the rest of the mass spread evenly."""
    p = np.zeros(N)
    for class_id, w in weights:
        p[MODEL_CLASSES.index(class_id)] = w
    rest = 1.0 - p.sum()
    others = [i for i in range(N) if p[i] == 0]
    p[others] = rest / len(others)
    return p


def sure(class_id: str, conf: float = 0.98) -> np.ndarray:
    return letter((class_id, conf))


def test_a_clear_non_word_is_fixed_from_the_second_choice():
    # همر: the first letter is ha by a little, gaaf close behind; قمر is a word.
    vectors = [letter(("ha", 0.5), ("gaaf", 0.4)), sure("meem"), sure("ra")]
    choice = speller().choose(vectors, ("ha", "meem", "ra"))
    assert choice.corrected and choice.classes == ("gaaf", "meem", "ra")
    assert join_classes(choice.classes) == "قمر"
    assert choice.score > choice.raw_score


def test_a_confidently_signed_name_is_kept():
    # رغد is not in the lexicon; بيت and others are far; every letter is sure.
    vectors = [sure("ra"), sure("ghain"), sure("dal")]
    choice = speller().choose(vectors, ("ra", "ghain", "dal"))
    assert not choice.corrected and choice.classes == ("ra", "ghain", "dal")
    # A name one letter from a frequent word (بنت -> بيت, zipf 6) is kept too when sure.
    near = [sure("bb"), sure("nun"), sure("taa")]
    assert speller(lexicon({"بيت": 6.0, "طفل": 3.0})).choose(
        near, ("bb", "nun", "taa")
    ).classes == (
        "bb",
        "nun",
        "taa",
    )


def test_the_weight_decides_how_much_evidence_a_change_needs():
    vectors = [sure("bb"), letter(("nun", 0.6), ("yaa", 0.3)), sure("taa")]
    lex = lexicon({"بيت": 6.0, "طفل": 3.0})
    raw = ("bb", "nun", "taa")
    assert speller(lex, weight=0.0, oov_cost=0.0).choose(vectors, raw).classes[1] == "nun"
    assert speller(lex, weight=1.0, oov_cost=0.0).choose(vectors, raw).classes[1] == "yaa"


def test_being_no_word_costs_oov_cost():
    # صليق: laam read for dal at ten times dal's probability; صديق is a word, but only just
    # above the rarest one, so its frequency alone does not pay for the change.
    vectors = [sure("saad"), letter(("laam", 0.5), ("dal", 0.05)), sure("yaa"), sure("gaaf")]
    raw = ("saad", "laam", "yaa", "gaaf")
    lex = lexicon({"صديق": 3.5, "مدد": 3.0})
    assert speller(lex, oov_cost=0.0).choose(vectors, raw).classes == raw
    fixed = speller(lex, oov_cost=3.0).choose(vectors, raw)
    assert fixed.corrected and fixed.classes == ("saad", "dal", "yaa", "gaaf")
    # A confidently signed name pays the same cost and is still kept: its letters cost more.
    name = [sure("saad"), sure("laam"), sure("yaa"), sure("gaaf")]
    assert speller(lex, oov_cost=3.0).choose(name, raw).classes == raw


def test_ties_keep_the_decoders_reading():
    # ha and gaaf equally likely, no frequency prior, no cost of a non-word: the raw reading stays.
    vectors = [letter(("ha", 0.45), ("gaaf", 0.45)), sure("meem"), sure("ra")]
    choice = speller(weight=0.0, oov_cost=0.0).choose(vectors, ("ha", "meem", "ra"))
    assert not choice.corrected and choice.classes == ("ha", "meem", "ra")
    # Two words equally supported by the letters: the more frequent one wins, every time.
    lex = lexicon({"بيت": 6.0, "بنت": 5.5, "طفل": 3.0})
    vectors = [sure("bb"), letter(("nun", 0.3), ("yaa", 0.3), ("ha", 0.32)), sure("taa")]
    for _ in range(3):
        assert speller(lex).choose(vectors, ("bb", "ha", "taa")).classes == ("bb", "yaa", "taa")


def test_empty_words_and_a_disabled_speller_return_the_letters_as_read():
    assert speller().choose([], ()).classes == ()
    assert not speller().choose([], ()).corrected
    vectors = [letter(("ha", 0.5), ("gaaf", 0.4)), sure("meem"), sure("ra")]
    off = speller(enabled=False).choose(vectors, ("ha", "meem", "ra"))
    assert not off.corrected and off.classes == ("ha", "meem", "ra")


def test_a_letter_outside_the_top_k_is_never_tried():
    vectors = [letter(("ha", 0.5), ("ain", 0.2), ("gaaf", 0.15)), sure("meem"), sure("ra")]
    assert speller(top_k=2).choose(vectors, ("ha", "meem", "ra")).classes[0] == "ha"
    assert speller(top_k=3).choose(vectors, ("ha", "meem", "ra")).classes[0] == "gaaf"


def test_a_dropped_or_an_extra_letter_only_with_edits_allowed():
    lex = lexicon({"صديق": 6.0, "طفل": 3.0})
    dropped = [sure("saad", 0.9), sure("dal", 0.9), sure("gaaf", 0.9)]  # صدق, yaa missed
    raw = ("saad", "dal", "gaaf")
    assert speller(lex, max_edits=0).choose(dropped, raw).classes == raw
    fixed = speller(lex, max_edits=1, edit_cost=3.0).choose(dropped, raw)
    assert fixed.corrected and fixed.classes == ("saad", "dal", "yaa", "gaaf")
    extra = [sure("saad"), sure("dal"), sure("yaa"), letter(("dal", 0.4)), sure("gaaf")]
    raw = ("saad", "dal", "yaa", "dal", "gaaf")
    assert speller(lex, max_edits=1, edit_cost=3.0).choose(extra, raw).classes == (
        "saad",
        "dal",
        "yaa",
        "gaaf",
    )
    assert speller(lex, max_edits=1, edit_cost=20.0).choose(extra, raw).classes == raw


def test_the_none_class_is_left_out_of_the_evidence():
    s = speller()
    p = letter(("ha", 0.3), (NONE_CLASS, 0.6))
    logp = s.log_probs(p)
    assert len(logp) == N - 1
    assert np.exp(logp).max() == pytest.approx(0.3 / 0.4, rel=1e-6)


def test_the_bundled_lexicon_fixes_the_issues_examples():
    bundled = Speller(MODEL_CLASSES, WordSettings())
    cases = [  # (as read, right, confusion): the examples of issue 22
        (("ha", "meem", "ra"), ("gaaf", "meem", "ra")),
        (("saad", "dal", "yaa", "ha"), ("saad", "dal", "yaa", "gaaf")),
        (("ta", "saad", "laam"), ("ta", "fa", "laam")),
    ]
    for raw, right in cases:
        vectors = [
            letter((r, 0.5), (w, 0.3)) if r != w else sure(r, 0.9)
            for r, w in zip(raw, right, strict=True)
        ]
        assert bundled.choose(vectors, raw).classes == right, join_classes(raw)


def test_lexicon_merges_forms_signed_alike_and_reads_files(tmp_path):
    lex = Lexicon([(spell("أن"), 5.0), (spell("ان"), 5.0), (spell("قمر"), 3.0)])
    assert len(lex) == 2
    assert lex.zipf(spell("إن")) == pytest.approx(5.0 + np.log10(2))
    assert lex.floor == 3.0 and lex.zipf(("meem",)) is None
    path = tmp_path / "names.txt"
    path.write_text("# my names\nرغد\nلجين\t2.5\n", encoding="utf-8")
    own = Lexicon.load(path)
    assert own.zipf(spell("رغد")) == 4.0 and own.zipf(spell("لجين")) == 2.5
    path.write_text("رغد\nhello\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}:2: no ArASL sign for 'h'"):
        Lexicon.load(path)
    with pytest.raises(UserError, match="cannot read the word list"):
        Lexicon.load(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"weight": -1.0}, r"words\]\.weight: must be in \[0, 10\], got -1.0$"),
        ({"top_k": 0}, r"words\]\.top_k: must be in \[1, 32\], got 0$"),
        ({"beam": 5000}, r"words\]\.beam: must be in \[1, 1000\], got 5000$"),
        ({"max_edits": 4}, r"words\]\.max_edits: must be in \[0, 3\]"),
        ({"gap_s": float("nan")}, r"words\]\.gap_s: expected a finite number, got nan$"),
        ({"wieght": 1.0}, "unknown key 'wieght'"),
    ],
)
def test_settings_are_bounded_and_named(table, message):
    with pytest.raises(UserError, match=message):
        from_table(WordSettings, table, "t.toml: [decoder.words]")


def test_the_decoder_keeps_each_letters_probabilities_and_corrects_the_word():
    words = dataclasses.replace(WordSettings(), lexicon="")
    settings = dataclasses.replace(DecoderSettings(), words=words)
    decoder = LetterDecoder(MODEL_CLASSES, settings)
    decoder.speller = speller()  # the small lexicon
    script = [
        (sure(NONE_CLASS, 1.0), 0.4),
        (letter(("ha", 0.5), ("gaaf", 0.4)), 0.6),
        (sure("meem", 0.9), 0.6),
        (sure("ra", 0.9), 0.6),
        (sure(NONE_CLASS, 1.0), 1.5),
    ]
    events, t = [], 0.0
    for p, seconds in script:
        for _ in range(round(seconds * 30)):
            events += decoder.update(p.astype(np.float32), t)
            t += 1 / 30
    (word,) = [e for e in events + decoder.finish() if isinstance(e, WordEvent)]
    assert word.raw_classes == ("ha", "meem", "ra") and word.raw_text == "همر"
    assert word.classes == ("gaaf", "meem", "ra") and word.text == "قمر" and word.corrected
    d = word.to_dict()
    assert (d["text"], d["raw_text"], d["corrected"]) == ("قمر", "همر", True)
    assert d["classes"] == ["gaaf", "meem", "ra"] and d["raw_classes"] == ["ha", "meem", "ra"]
    # A word event made without the raw fields reads as uncorrected.
    plain = WordEvent(("dal",), "د", 0.0, 1.0)
    assert (plain.raw_classes, plain.raw_text, plain.corrected) == (("dal",), "د", False)


def test_the_words_table_loads_from_a_config_file(tmp_path):
    from edge_arasl.config import load_config

    path = tmp_path / "edge.toml"
    path.write_text("[decoder.words]\nweight = 2.5\nenabled = false\n", encoding="utf-8")
    words = load_config(path).decoder.words
    assert (words.weight, words.enabled, words.top_k) == (2.5, False, WordSettings().top_k)
    assert LetterDecoder(MODEL_CLASSES, load_config(path).decoder).speller is None
    path.write_text("[decoder.words]\nbeam = 0\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"edge.toml: \[decoder\]\.words\.beam: must be in"):
        load_config(path)
