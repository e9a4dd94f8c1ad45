import time

import pytest

from stores import session_tokens
from stores.session_tokens import InvalidSessionToken
from tests.stores.helpers import session_token

SHOP = "demo-1.myshopify.com"


def test_a_valid_token_names_its_shop_and_staff_member():
    token = session_tokens.decode(session_token(SHOP, sub="77"))
    assert (token.shop, token.user_id) == (SHOP, "77")
    assert "eyJ" not in repr(token)  # the raw JWT stays out of reprs and logs


def test_clock_skew_within_ten_seconds_is_tolerated():
    now = int(time.time())
    session_tokens.decode(session_token(SHOP, nbf=now + 8, exp=now - 8 + 60, iat=now))
    session_tokens.decode(session_token(SHOP, exp=now - 8))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -30}, "expired"),
        ({"nbf": +60}, "not yet valid"),
        ({"aud": "another-app"}, "another app"),
        ({"iss": "https://other.myshopify.com/admin"}, "hosts differ"),
        (
            {"dest": "https://evil.example.com", "iss": "https://evil.example.com/admin"},
            "myshopify",
        ),
        ({"sub": None}, "invalid"),
        ({"dest": None}, "invalid"),
    ],
)
def test_invalid_tokens_are_refused_with_a_reason(claims, reason):
    # Times are offsets from now, resolved when the test runs (not at collection).
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") else v for k, v in claims.items()}
    with pytest.raises(InvalidSessionToken, match=reason):
        session_tokens.decode(session_token(SHOP, **claims))


def test_a_token_signed_with_another_secret_is_refused():
    with pytest.raises(InvalidSessionToken):
        session_tokens.decode(session_token(SHOP, secret="not-the-app-secret"))


@pytest.mark.parametrize("raw", ["", "abc", "a.b.c", "al_x_y"])
def test_garbage_is_refused(raw):
    with pytest.raises(InvalidSessionToken):
        session_tokens.decode(raw)


def test_bearer_header_parsing():
    assert session_tokens.from_authorization_header("Bearer abc") == "abc"
    assert session_tokens.from_authorization_header("bearer  abc ") == "abc"
    assert session_tokens.from_authorization_header("Basic abc") is None
    assert session_tokens.from_authorization_header("Bearer ") is None
    assert session_tokens.from_authorization_header(None) is None
