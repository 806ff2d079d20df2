"""The pure rules of recommending: the quotas per size class, the order a ranking form asks for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from models.nominations import Campaign, Nomination
from service.errors import Invalid
from service.nominations.operations import quota_refusal
from service.nominations.queries import Addressed
from service.nominations.recommender_views import ranked_ids


def _counts(large: int, sme: int, large_quota: int = 2, sme_quota: int = 3) -> dict:
    return {
        "large": {"accepted": large, "quota": large_quota},
        "small_medium": {"accepted": sme, "quota": sme_quota},
    }


@pytest.mark.parametrize(("large", "sme"), [(0, 0), (2, 3), (1, 0)])
def test_within_the_quotas(large, sme):
    assert quota_refusal(_counts(large, sme)) is None


@pytest.mark.parametrize(
    ("large", "sme", "size", "count", "quota"), [(3, 0, "large", 3, 2), (0, 4, "small_medium", 4, 3)]
)
def test_over_a_quota_names_the_class_the_count_and_the_quota(large, sme, size, count, quota):
    refusal = quota_refusal(_counts(large, sme))
    assert (refusal.params["count"], refusal.params["quota"]) == (count, quota)
    assert (
        refusal.render()
        == {
            "large": f"Large firms: {count} accepted, but the quota is {quota}.",
            "small_medium": f"Small / medium firms: {count} accepted, but the quota is {quota}.",
        }[size]
    )


def test_counts_go_by_the_programmes_size_rule():
    campaign = Campaign(large_quota=1, sme_quota=5)
    large = Nomination(id=1, recommendation="accepted", employees=1500, annual_revenue_wan=Decimal(90000))
    small = Nomination(id=2, recommendation="accepted", employees=80, annual_revenue_wan=Decimal(900))
    undecided = Nomination(id=3, state="submitted", recommendation=None, employees=2000)
    found = Addressed(campaign, None, None, [large, small, undecided])
    assert found.counts == {"large": {"accepted": 1, "quota": 1}, "small_medium": {"accepted": 1, "quota": 5}}
    assert found.undecided == [undecided]


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"up": "12"}, [12, 11, 13]),
        ({"down": "12"}, [11, 13, 12]),
        ({"up": "11"}, [11, 12, 13]),  # the first stays first
        ({"down": "13"}, [11, 12, 13]),
        ({"rank-11": "3", "rank-12": "1", "rank-13": "2"}, [12, 13, 11]),
        ({"rank-11": "1", "rank-12": "1", "rank-13": "9"}, [11, 12, 13]),  # ties keep the current order
    ],
)
def test_the_order_a_form_asks_for(form, expected):
    assert ranked_ids([11, 12, 13], MultiDict(form)) == expected


@pytest.mark.parametrize(
    "form", [{"up": "99"}, {"rank-11": "1", "rank-12": "x", "rank-13": "2"}, {"rank-11": "1"}]
)
def test_a_form_without_a_clear_order_is_refused(form):
    with pytest.raises(Invalid) as refused:
        ranked_ids([11, 12, 13], MultiDict(form))
    assert "ids" in refused.value.field_errors
