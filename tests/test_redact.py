"""Masking of card, account, social security and phone numbers (pipeline/redact.py)."""

from __future__ import annotations

import pytest

from pipeline.outputs.redact import luhn_ok, redact_call, redact_text
from pipeline.schema import CallTranscript, Evidence, Flag, RuleHit, Segment, Word

VISA = "4111 1111 1111 1111"  # a test card number that passes Luhn
ORDER = "1234 5678 9012 3456"  # 16 digits that fail Luhn: an order number, not a card


def _words(tokens: list[str], start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(start + i * step, start + (i + 1) * step - 0.05, t, 0.9) for i, t in enumerate(tokens)]


def _segment(seg_id: int, tokens: list[str], start: float = 0.0, speaker: str = "customer") -> Segment:
    words = _words(tokens, start)
    return Segment(
        id=seg_id,
        start=words[0].start,
        end=words[-1].end,
        text="".join(tokens),
        speaker=speaker,
        channel=1 if speaker == "customer" else 0,
        words=words,
    )


def test_luhn_checksum():
    assert luhn_ok("4111111111111111")
    assert luhn_ok("79927398713")
    assert not luhn_ok("1234567890123456")


@pytest.mark.parametrize(
    "text",
    [
        f"my card is {VISA} thanks",
        "my card is 4111-1111-1111-1111.",
        "it's 4111111111111111",
        "four one one one one one one one one one one one one one one one",
        "378282246310005 is the amex",  # 15 digits
    ],
)
def test_card_numbers_that_pass_luhn_are_masked(text):
    masked, count = redact_text(text)
    assert count == 1
    assert "[CARD]" in masked
    assert "1111" not in masked and "one one" not in masked and "8282" not in masked


def test_order_number_failing_luhn_is_kept():
    text = f"your order number is {ORDER}"
    assert redact_text(text) == (text, 0)
    assert redact_text("order 1234567890123456 shipped") == ("order 1234567890123456 shipped", 0)


@pytest.mark.parametrize(
    "text",
    [
        "my social is 123 45 6789",
        "SSN: 123456789",
        "it's 123-45-6789",
        "social security one two three four five six seven eight nine",
    ],
)
def test_social_security_numbers_are_masked(text):
    masked, count = redact_text(text)
    assert count == 1 and "[SSN]" in masked
    assert "6789" not in masked and "eight nine" not in masked


def test_nine_digits_without_social_context_are_kept():
    assert redact_text("reference 123456789 please")[1] == 0


@pytest.mark.parametrize(
    "text",
    [
        "call me at (212) 555-1234",
        "call me at 212-555-1234",
        "call me at 212.555.1234",
        "call me at 2125551234",
        "call me at +1 212 555 1234",
        "call me at 1-800-555-1234",
    ],
)
def test_phone_numbers_are_masked(text):
    masked, count = redact_text(text)
    assert count == 1
    assert masked == "call me at [PHONE]"


def test_account_numbers_need_account_context():
    masked, count = redact_text("the account number is 00012345678, routing 021000021")
    assert count == 2 and masked.count("[ACCOUNT]") == 2
    assert "12345678" not in masked and "021000021" not in masked
    assert redact_text("we shipped 12345678 units")[1] == 0


def test_money_and_short_numbers_are_kept():
    for text in ("that is $2,125,551,234 total", "I paid 250 dollars on the 15th", "room 4111"):
        assert redact_text(text) == (text, 0)


def test_several_numbers_in_one_text_are_counted():
    masked, count = redact_text(f"card {VISA}, phone 212 555 1234, social 123-45-6789")
    assert count == 3
    assert masked == "card [CARD], phone [PHONE], social [SSN]"


def _call_with_card() -> CallTranscript:
    ask = _segment(0, [" What's", " your", " account", " number?"], 0.0, "agent")
    acct = _segment(1, [" It's", " 12345678."], 2.0)
    card = _segment(2, [" Card", " is", " 4111", " 1111", " 1111", " 1111,", " okay?"], 4.0)
    card.rule_hits = [RuleHit("card_read", "pci", "raise", 0.1, "4111 1111 1111", 4.8, 6.0)]
    evidence = Evidence("Card is 4111 1111 1111 1111,", 4.0, 6.4, "customer", 1, 2, "rule")
    flag = Flag("abusive_caller", "low", 0.4, "inbound", "customer", "rule", evidence=[evidence])
    return CallTranscript(
        call_id="c1",
        source="c1.wav",
        segments=[ask, acct, card],
        flags=[flag],
        metadata={"agent": "Dana", "caller_phone": "212-555-1234", "campaign": "2125551234"},
    )


def test_redact_call_masks_words_split_over_tokens_and_keeps_timings():
    call = _call_with_card()
    before = [[(w.start, w.end) for w in s.words] for s in call.segments]
    redact_call(call)
    card = call.segments[2]
    assert card.text == " Card is [CARD], okay?"
    assert [w.word for w in card.words] == [" Card", " is", " [CARD]", " ####", " ####", " ####,", " okay?"]
    assert [[(w.start, w.end) for w in s.words] for s in call.segments] == before
    assert not any(ch.isdigit() for s in call.segments for w in s.words for ch in w.word)


def test_redact_call_masks_evidence_rule_hits_and_sensitive_metadata():
    call = _call_with_card()
    count = redact_call(call)
    assert count == 3  # account (context from the agent's question), card, caller phone
    assert call.redactions == 3
    assert call.segments[1].text == " It's [ACCOUNT]."
    assert call.flags[0].evidence[0].text == "Card is [CARD],"
    assert "1111" not in call.segments[2].rule_hits[0].text  # a part of the card is masked too
    assert call.metadata["caller_phone"] == "[PHONE]"
    assert call.metadata["campaign"] == "2125551234"  # not a column that holds a number
    assert call.metadata["agent"] == "Dana"


def test_redact_call_on_clean_call_changes_nothing():
    call = CallTranscript(call_id="c2", source="c2.wav", segments=[_segment(0, [" Hello", " there."])])
    assert redact_call(call) == 0
    assert call.segments[0].text == " Hello there." and call.redactions == 0
