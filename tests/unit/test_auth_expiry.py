"""An access token is refused once it has expired (test tokens live longer only because a test
run outlasts 15 minutes: libs/common/testing/auth.py)."""

from __future__ import annotations

import pytest

from libs.common.auth import decode_token, issue_access_token
from libs.common.problems import Problem


def test_an_expired_token_is_refused_and_a_live_one_accepted():
    live = issue_access_token(sub="op", roles=["operator"], region="140430")
    assert decode_token(live).sub == "op"
    expired = issue_access_token(sub="op", roles=["operator"], region="140430", ttl=-60)
    with pytest.raises(Problem) as refused:
        decode_token(expired)
    assert refused.value.status == 401
