"""The patterns the OpenAPI document publishes accept exactly what the API accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.jid import RECIPIENT_PATTERN, InvalidJid, normalize_jid
from functions.errors import InvalidPayload
from functions.media import decode_base64
from functions.schemas import BASE64_SENT, PAIRING_PHONE, PAIRING_PHONE_SENT

RECIPIENT_ALPHABET = st.sampled_from("0123456789 +-().@cusgCUSlidLIDwhatsapp.net\t")
BASE64_ALPHABET = st.sampled_from("QUFBab+/=\n ,:;data/imgpn64DATAsE")


def _accepted_recipient(text: str) -> bool:
    try:
        normalize_jid(text)
    except InvalidJid:
        return False
    return True


def _decodes(text: str) -> bool:
    try:
        decode_base64(text.strip(), 10**6)
    except InvalidPayload:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.from_regex(RECIPIENT_PATTERN, fullmatch=True), st.text(RECIPIENT_ALPHABET, max_size=30)))
def test_recipient_pattern_is_what_normalize_jid_accepts(text: str):
    assert bool(re.search(RECIPIENT_PATTERN, text)) == _accepted_recipient(text), repr(text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.from_regex(BASE64_SENT, fullmatch=True), st.text(BASE64_ALPHABET, max_size=40)))
def test_base64_pattern_is_what_the_decoder_accepts(text: str):
    assert bool(re.search(BASE64_SENT, text)) == _decodes(text), repr(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("0123456789 +()-x\t"), max_size=30))
def test_pairing_phone_as_sent_is_the_trimmed_pattern(text: str):
    assert bool(re.search(PAIRING_PHONE_SENT, text)) == bool(re.fullmatch(PAIRING_PHONE, text.strip()))


@pytest.mark.parametrize("text", ["6281234567890", " +62 812-3456-7890 ", "120363-16@g.us", "20851234@LID"])
def test_everyday_recipients_match(text: str):
    assert re.search(RECIPIENT_PATTERN, text) and _accepted_recipient(text)
