"""A deterministic synthetic corpus of Vietnamese-looking articles for the database benchmarks.

Syllables are built from real onsets, rhymes and the six tones (NFC), drawn with a Zipf law so that
common words are common; each article mentions a few named entities (places, people) several times,
so that typical queries (an entity, a quoted phrase, an entity plus a word) match a realistic share
of the corpus. Lengths follow provincial articles: a title of ~14 syllables, a sapo of ~40, a text of
~600-900 syllables (about 4 KB). One article in 20 is a wire copy of an earlier one on another site.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

_ONSETS = "b c ch d đ g gi h kh l m n ng nh ph qu r s t th tr v x"
_RHYMES = (
    "a ai an ang anh ao at ay âm ân âu e em en ê êm i im in inh o oa oai oan ong ô ôi ông ơ ơi ơn u ui un ung"
)
ONSETS = [*_ONSETS.split(" "), ""]
RHYMES = [*_RHYMES.split(" "), "uy", "ư", "ưa", "ương", "ươc", "iên", "iêt", "uôn", "uôi"]
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
ENTITIES = [
    "Hà Nội", "Gia Lai", "Đắk Lắk", "Lào Cai", "Cần Thơ", "Thanh Hoá", "Nghệ An", "Quảng Ninh", "Huế",
    "Đà Nẵng", "Khánh Hoà", "Lâm Đồng", "Bình Định", "Tây Ninh", "Đồng Tháp", "An Giang", "Cà Mau",
    "Sơn La", "Điện Biên", "Lai Châu", "Tuyên Quang", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên",
    "Hải Phòng", "Ninh Bình", "Quảng Trị", "Quảng Ngãi", "Vĩnh Long", "Đồng Nai", "Hồ Chí Minh",
    "Nguyễn Văn Thành", "Trần Thị Thuý", "Lê Văn Hoà", "Phạm Minh Chính", "Võ Thị Ánh", "Đường Lâm",
    "Sầm Sơn", "Phú Quốc", "Tây Nguyên", "Mê Kông", "Trường Sơn", "Hạ Long", "Mộc Châu", "Sa Pa",
]  # fmt: skip
SECTIONS = ["Thời sự", "Kinh tế", "Xã hội", "Văn hoá", "Thể thao", "Pháp luật", "Nông nghiệp", "Du lịch"]


def _syllables() -> list[str]:
    out = []
    for onset, rhyme, tone in itertools.product(ONSETS, RHYMES, TONES):
        # The tone mark goes on the first vowel of the rhyme: good enough for realistic bytes.
        out.append(unicodedata.normalize("NFC", onset + rhyme[0] + tone + rhyme[1:]))
    return out


class Corpus:
    def __init__(self, seed: int = 42, sites: int = 34) -> None:
        self.rng = random.Random(seed)
        self.vocab = _syllables()
        self.rng.shuffle(self.vocab)
        weights = [1 / (rank + 1) for rank in range(len(self.vocab))]
        self.cumulative = list(itertools.accumulate(weights))
        self.sites = [f"bao{n:02d}" for n in range(sites)]
        self.start = datetime(2024, 1, 1, tzinfo=UTC)

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cumulative, k=n)

    def sentence(self, n: int, entities: list[str]) -> str:
        words = self.words(n)
        if self.rng.random() < 0.5:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(entities))
        return " ".join(words).capitalize() + "."

    def article(self, n: int) -> dict[str, Any]:
        rng = self.rng
        site = self.sites[n % len(self.sites)]
        entities = rng.sample(ENTITIES, 3)
        title = " ".join(self.words(rng.randint(9, 16))).capitalize() + " " + entities[0]
        sapo = " ".join(self.sentence(rng.randint(12, 20), entities) for _ in range(2))
        paragraphs = [sapo]
        target = rng.randint(600, 900)
        words = 0
        while words < target:
            paragraph = " ".join(
                self.sentence(rng.randint(10, 25), entities) for _ in range(rng.randint(2, 5))
            )
            paragraphs.append(paragraph)
            words += paragraph.count(" ") + 1
        author = rng.choice(ENTITIES[32:38])
        paragraphs.append(author)
        published = self.start + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        return {
            "url": f"https://{site}.vn/tin-{n}.html",
            "canonical_url": f"https://{site}.vn/tin-{n}.html",
            "site_id": site,
            "province": ENTITIES[n % len(self.sites) % 32],
            "title": title,
            "sapo": sapo,
            "text": "\n\n".join(paragraphs),
            "byline": author,
            "authors": [author],
            "published_at": published.isoformat(),
            "section": rng.choice(SECTIONS),
            "tags": rng.sample(entities, 2),
            "family": "post",
        }

    def stream(self, count: int, dup_every: int = 20) -> Iterator[dict[str, Any]]:
        """`count` articles; every `dup_every`-th is a wire copy of a recent one on another site."""
        recent: list[dict[str, Any]] = []
        for n in range(count):
            if dup_every and n % dup_every == dup_every - 1 and recent:
                source = self.rng.choice(recent)
                site = self.sites[(self.sites.index(source["site_id"]) + 1 + n) % len(self.sites)]
                copy = dict(source, site_id=site, url=f"https://{site}.vn/tin-{n}.html")
                copy["canonical_url"] = copy["url"]
                copy["text"] = "(TTXVN) - " + source["text"] + "\n\nTheo TTXVN"
                yield copy
                continue
            article = self.article(n)
            recent = [*recent[-99:], article]
            yield article


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]
