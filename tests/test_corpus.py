"""The written training corpus: provenance per line, author hold-out, lines as the classifier sees them."""

from __future__ import annotations

from pipeline.analysis import corpus
from pipeline.analysis.context import CONTEXT_SEP, join_context
from pipeline.schema import THREAT_TYPES, TONE_LABELS

SCRIPT = {
    "id": "ZZ-001", "kind": "call", "direction": "outbound", "label": "threat", "threat_type": "legal",
    "turns": [
        {"speaker": "agent", "text": "Hi Mr. Hollis, it's Dana from Northwind. Thanks for your feedback.",
         "tone": "courteous", "threat_type": None},
        {"speaker": "customer", "text": "Okay?", "tone": "neutral", "threat_type": None},
        {"speaker": "agent", "text": "Going forward, please stop emailing our CEO. Otherwise our lawyers will send "
         "you a cease and desist letter.", "tone": "threatening", "threat_type": "legal"},
    ],
}  # fmt: skip


def test_every_line_names_its_author_and_script():
    lines = corpus.script_lines(SCRIPT)
    assert {(line["author"], line["script"]) for line in lines} == {("ZZ", "ZZ-001")}


def test_a_turn_has_the_same_speakers_previous_turn_as_context():
    turns = [line for line in corpus.script_lines(SCRIPT) if line["view"] == "turn"]
    threat = turns[-1]
    assert threat["tone"] == "threatening" and threat["threat_type"] == "legal"
    assert threat["context"] == ["Hi Mr. Hollis, it's Dana from Northwind. Thanks for your feedback."]
    assert CONTEXT_SEP in join_context(threat["context"], threat["text"])
    assert turns[1]["context"] == []  # the customer's first turn: no earlier turn of theirs


def test_sentences_of_a_threatening_turn_keep_the_label_only_with_the_whole_turn_before_them():
    sentences = [line for line in corpus.script_lines(SCRIPT) if line["view"] == "sentence"]
    threatening = [line for line in sentences if line["tone"] == "threatening"]
    assert len(threatening) == 1
    assert threatening[0]["text"].startswith("Otherwise our lawyers")
    assert "please stop emailing our CEO" in threatening[0]["context"][0]
    greeting = [line for line in sentences if line["text"].startswith("Hi Mr. Hollis")]
    assert greeting and greeting[0]["tone"] == "courteous"  # "Mr." did not end a sentence


def test_author_hold_out_moves_every_line_of_an_author():
    rows = [{"author": a, "text": str(i)} for i, a in enumerate("AABBC")]
    train, dev = corpus.split_by_author(rows, ["B"])
    assert {r["author"] for r in dev} == {"B"} and len(dev) == 2
    assert "B" not in {r["author"] for r in train}


def test_shipped_corpus_is_labelled_in_the_taxonomy_and_authors_are_distinct():
    scripts = corpus.load_scripts()
    lines = corpus.written_lines(scripts)
    assert len({corpus.author_of(s["id"]) for s in scripts}) >= 5
    assert len({s["id"] for s in scripts}) == len(scripts)
    assert {line["tone"] for line in lines} <= set(TONE_LABELS)
    assert {line["threat_type"] for line in lines} <= set(THREAT_TYPES) | {None}
    assert all(line["threat_type"] is None for line in lines if line["tone"] != "threatening")
    assert corpus.template_lines()  # the template part is there too


def test_the_held_out_test_set_shares_no_author_and_no_turn_with_the_corpus():
    root = corpus.CORPUS_DIR.parents[2] / "benchmarks" / "heldout"
    heldout = corpus.load_scripts(sorted(root.glob("*.jsonl")))
    train = corpus.load_scripts()
    assert len(heldout) >= 150
    assert not {corpus.author_of(s["id"]) for s in heldout} & {corpus.author_of(s["id"]) for s in train}
    # short everyday turns ("I can't pay that all at once. I just can't.") may coincide; longer ones must not
    said = {" ".join(t["text"].lower().split()) for s in train for t in s["turns"] if len(t["text"].split()) > 12}
    assert not [t["text"] for s in heldout for t in s["turns"] if " ".join(t["text"].lower().split()) in said]
