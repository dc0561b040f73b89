"""Likely duplicates across villages, by the words of their Thai titles (issue 16, item 12).

Thai is written without spaces between words, so "คัดแยกขยะต้นทาง" and "รณรงค์คัดแยกขยะต้นทาง"
share no space-separated word at all. Titles are split into words with PyThaiNLP's dictionary
tokenizer (newmm, whose word list ships inside the package: nothing is downloaded), and two
projects of different villages are compared by the words they share, each word weighted by how
rare it is among the plan's titles (a shared "ก่อสร้าง" says less than a shared "ขุดลอก").

PyThaiNLP is imported on first use, not with the app: it is a large package and building its
dictionary takes about a second, which neither the app's start nor the test servers' fork
server should pay for a page most requests never open.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from planapp.intake.values import arabic_digits
from planapp.models import Project

# Words that say nothing about what a project is: joining words, and the words of an address.
STOP_WORDS = frozenset(
    "และ ใน ของ จาก ที่ โดย ด้วย การ ความ เพื่อ ให้ กับ แบบ พร้อม ประจำ หมู่ หมู่ที่ บ้าน หมู่บ้าน "
    "สาย ซอย คุ้ม ตำบล เข้า สู่ ระหว่าง บริเวณ ภายใน".split()
)
THAI_OR_LATIN = re.compile(r"[\u0e01-\u0e4e]|[^\W\d_]")
MIN_SCORE = 0.3
# A word shared by more titles than this does not by itself make two titles candidates (it
# still counts in their score): keeps a plan of thousands of projects from comparing all pairs.
COMMON_SHARE = 0.05


@lru_cache(maxsize=1)
def _tokenizer():
    # No writes and no downloads at run time: the newmm dictionary is inside the package.
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


@lru_cache(maxsize=20_000)
def title_words(title: str) -> frozenset[str]:
    """The words of a title that say what it is (no numbers, punctuation or address words)."""
    text = arabic_digits(title).casefold()
    words = _tokenizer()(text, engine="newmm", keep_whitespace=False)
    return frozenset(
        w for w in (w.strip() for w in words) if THAI_OR_LATIN.search(w) and w not in STOP_WORDS
    )


def similarity(a: frozenset[str], b: frozenset[str], weight) -> float:
    """0..1: half how much of the shorter title the other one holds, half how much the two
    have in common (each word by its weight)."""
    shared = sum(weight(w) for w in a & b)
    if not shared:
        return 0.0
    smaller = min(sum(weight(w) for w in a), sum(weight(w) for w in b))
    union = sum(weight(w) for w in a | b)
    return 0.5 * shared / smaller + 0.5 * shared / union


@dataclass(frozen=True)
class Suggestion:
    first: Project
    second: Project
    score: float

    @property
    def percent(self) -> int:
        return round(100 * self.score)


def likely_duplicates(projects: list[Project], limit: int = 15) -> list[Suggestion]:
    """Pairs of projects of different villages whose titles say much the same, most alike
    first. `projects` are the candidates of a merge (on the board, not merged away)."""
    words = {p.id: title_words(p.title) for p in projects}
    by_word: dict[str, list[Project]] = {}
    for project in projects:
        for word in words[project.id]:
            by_word.setdefault(word, []).append(project)
    count = len(projects)

    def weight(word: str) -> float:
        return math.log(1 + count / len(by_word[word]))

    common = max(10, COMMON_SHARE * count)
    pairs = set()
    for members in by_word.values():
        if len(members) <= common:
            pairs.update(combinations(sorted(members, key=lambda p: p.id), 2))
    found = []
    for first, second in pairs:
        if {v.id for v in first.villages} & {v.id for v in second.villages}:
            continue  # the same village's projects: not a duplicate across villages
        score = similarity(words[first.id], words[second.id], weight)
        if score >= MIN_SCORE:
            found.append(Suggestion(first, second, score))
    found.sort(key=lambda s: (-s.score, s.first.id, s.second.id))
    return found[:limit]
