"""From a transcript to tone, rule hits, prosody, conversation metrics and flags."""
