"""The ledger's count of open article URLs per site (what tells a worker that a site is done with)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from provnews.crawler.runs.accounting import PENDING, Ledger

SITES = ("a", "b", "c")
operations = st.lists(
    st.tuples(st.sampled_from(("met", "settle", "stored")), st.sampled_from(SITES), st.integers(0, 15)),
    max_size=80,
)


@given(operations, st.sampled_from(SITES))
def test_open_per_site_follows_every_operation(ops: list[tuple[str, str, int]], closed: str) -> None:
    counted: Counter[str] = Counter()
    ledger = Ledger(lambda key, n=1: counted.update({key: n}))
    for op, site, n in ops:
        url = f"https://{site}.example/{n}"
        if op == "met":
            ledger.met(site, url)
        elif op == "settle":
            ledger.settle(url, "dropped", "not_article")
        else:
            ledger.settle_stored(site, [url], {"new": 1})
        for each in SITES:
            assert ledger.open_for(each) == sum(1 for s in ledger.open.values() if s == each)
    still_open = ledger.open_for(closed)
    assert ledger.settle_site(closed, PENDING, "stopped") == still_open
    assert ledger.open_for(closed) == 0 and closed not in ledger.open.values()
    # every URL met has exactly one outcome, or is still open
    for site in SITES:
        outcomes = sum(n for key, n in counted.items() if key.startswith(f"outcome/{site}/"))
        assert counted[f"site/{site}/met"] == outcomes + ledger.open_for(site)
