"""Publication dates in the page's text: whether a given day is shown there at all, and the first
date written in one of these ways, for pages where htmldate gives none (it reads none of the first
five):

- Chinese and Japanese 2024年3月5日, and the Japanese era years (令和6年3月5日);
- Korean 2024년 3월 5일;
- Arabic 5 مارس 2024, with the Egyptian and the Levantine month names and Arabic-Indic digits;
- Persian solar-calendar dates, 15 اسفند 1402 or 1402/12/15, converted to the Gregorian calendar;
- Thai Buddhist-era dates, 5 มีนาคม 2567 or 5 มี.ค. 67, converted to the common era;
- English dates written out, 20 December 2025 or Jan. 23, 2025: htmldate reads these, but where
  its widest search settles on a guess (a copyright line's bare year) the written date stands.

The first such date on the page is its date (a story's date stands by its headline, before the
dates of comments and related stories). All of them tell which of a numeric date's first two
numbers is its day. WrittenDates answers these questions of one page. Runs in the extraction
workers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import cached_property

from lxml.html import HtmlElement

from .markup import body_text

# Pages carry their date near the top; the rest is comments, lists and footers.
_READ_CHARACTERS = 20_000
_EARLIEST_YEAR = 1970
_HIDDEN = frozenset({"script", "style", "noscript"})
# A written date's day of the month stands this close to its year ("September 30, 2025").
_DATE_SPAN = 20
_ISO_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")

_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + n): str(n) for n in range(10)},  # Arabic-Indic
        **{chr(0x06F0 + n): str(n) for n in range(10)},  # Persian
        **{chr(0x0E50 + n): str(n) for n in range(10)},  # Thai
        **{chr(0xFF10 + n): str(n) for n in range(10)},  # full width
    }
)

# Egyptian and Gulf names, then the Levantine ones (two of them in two words).
_ARABIC_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("يناير", "كانون الثاني"),
            ("فبراير", "شباط"),
            ("مارس", "آذار", "اذار"),
            ("أبريل", "ابريل", "إبريل", "نيسان"),
            ("مايو", "أيار", "ايار"),
            ("يونيو", "يونيه", "حزيران"),
            ("يوليو", "يوليه", "تموز"),
            ("أغسطس", "اغسطس", "آب"),
            ("سبتمبر", "أيلول", "ايلول"),
            ("أكتوبر", "اكتوبر", "تشرين الأول", "تشرين الاول"),
            ("نوفمبر", "تشرين الثاني"),
            ("ديسمبر", "كانون الأول", "كانون الاول"),
        ),
        start=1,
    )
    for name in names
}
_PERSIAN_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "فروردین",
            "اردیبهشت",
            "خرداد",
            "تیر",
            "مرداد",
            "شهریور",
            "مهر",
            "آبان",
            "آذر",
            "دی",
            "بهمن",
            "اسفند",
        ),
        start=1,
    )
}
_THAI_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "มกราคม ม.ค.",
            "กุมภาพันธ์ ก.พ.",
            "มีนาคม มี.ค.",
            "เมษายน เม.ย.",
            "พฤษภาคม พ.ค.",
            "มิถุนายน มิ.ย.",
            "กรกฎาคม ก.ค.",
            "สิงหาคม ส.ค.",
            "กันยายน ก.ย.",
            "ตุลาคม ต.ค.",
            "พฤศจิกายน พ.ย.",
            "ธันวาคม ธ.ค.",
        ),
        start=1,
    )
    for name in names.split()
}
_JAPANESE_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ENGLISH_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sept sep",
            "october oct",
            "november nov",
            "december dec",
        ),
        start=1,
    )
    for name in names.split()
}


def _alternatives(names: dict[str, int]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[int, int, int] | None]]] = [
    (
        re.compile(
            rf"\b({_alternatives(_ENGLISH_MONTHS)})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)(?!\d)",
            re.I,
        ),
        lambda m: (int(m[3]), _ENGLISH_MONTHS[m[1].lower()], int(m[2])),
    ),
    (
        re.compile(
            rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_alternatives(_ENGLISH_MONTHS)})\.?,?\s+((?:19|20)\d\d)(?!\d)",
            re.I,
        ),
        lambda m: (int(m[3]), _ENGLISH_MONTHS[m[2].lower()], int(m[1])),
    ),
    (
        re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
        lambda m: (int(m[1]), int(m[2]), int(m[3])),
    ),
    (
        re.compile(
            rf"({'|'.join(_JAPANESE_ERAS)})\s*(\d{{1,2}}|元)\s*年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*日"
        ),
        lambda m: (_JAPANESE_ERAS[m[1]] + (1 if m[2] == "元" else int(m[2])), int(m[3]), int(m[4])),
    ),
    (
        re.compile(r"((?:19|20)\d\d)\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"),
        lambda m: (int(m[1]), int(m[2]), int(m[3])),
    ),
    (
        re.compile(
            rf"(?<!\d)(\d{{1,2}})\s+({_alternatives(_ARABIC_MONTHS)})\s*[،,]?\s*((?:19|20)\d\d)(?!\d)"
        ),
        lambda m: (int(m[3]), _ARABIC_MONTHS[m[2]], int(m[1])),
    ),
    (
        re.compile(rf"(?<!\d)(\d{{1,2}})\s+({_alternatives(_PERSIAN_MONTHS)})\s*[،,]?\s*(1[34]\d\d)(?!\d)"),
        lambda m: _from_jalali(int(m[3]), _PERSIAN_MONTHS[m[2]], int(m[1])),
    ),
    (
        re.compile(r"(?<![\d/])(1[34]\d\d)/(\d{1,2})/(\d{1,2})(?![\d/])"),
        lambda m: _from_jalali(int(m[1]), int(m[2]), int(m[3])),
    ),
    (
        re.compile(
            rf"(?<!\d)(\d{{1,2}})\s*({_alternatives(_THAI_MONTHS)})\s*(?:พ\.ศ\.\s*)?(25\d\d|\d\d)(?!\d)"
        ),
        lambda m: (_from_buddhist_era(m[3]), _THAI_MONTHS[m[2]], int(m[1])),
    ),
]


class WrittenDates:
    """The dates a page writes for its readers; its text is read once, for all three questions."""

    def __init__(self, tree: HtmlElement, latest: str) -> None:
        self.tree = tree
        self.latest = latest  # the fetch day: nothing later is a date of the page's

    @cached_property
    def _text(self) -> str:
        """The text a reader sees, digits of every script as ASCII ones, its text nodes apart: a
        template sets "Home" and "Mar. 5, 2024", or "Dec 8, 2025" and "6 min read", side by side."""
        return body_text(self.tree, " ", _HIDDEN).translate(_DIGITS)

    def _dates(self) -> Iterator[tuple[int, str]]:
        """Where on the page, and which day, each date written one of the ways above is."""
        text = self._text[:_READ_CHARACTERS]
        for pattern, read in _PATTERNS:
            for match in pattern.finditer(text):
                if day := _valid(read(match), self.latest):
                    yield match.start(), day

    def first(self) -> str | None:
        """The first date on the page written one of the ways above, as YYYY-MM-DD."""
        return min(self._dates(), default=(0, None))[1]

    def unambiguous_days(self) -> set[str]:
        """Every day the page writes so that its month cannot be taken for its day: one of the
        ways above ("March 9, 2026", "2026年3月9日"), or an ISO date in a <time datetime>
        attribute. "03-09-2026" may be either."""
        days = {day for _, day in self._dates()}
        for value in self.tree.xpath("//time/@datetime"):
            iso = _ISO_DAY.match(value)
            if iso and (day := _valid((int(iso[1]), int(iso[2]), int(iso[3])), self.latest)):
                days.add(day)
        return days

    def shows(self, day: str) -> bool:
        """Whether the page writes *day* (YYYY-MM-DD) in its text or a <meta> declaration: its
        year with the day of the month beside it, in whatever order and language ("Dec 8, 2025",
        "8.12.2025", "2025年12月8日", "8 grudnia 2025"), rather than only in a file name or a
        script."""
        year, _, day_of_month = day.split("-")
        written = " ".join([self._text, *self.tree.xpath("//meta/@content")])
        number = re.compile(rf"(?<!\d)0?{int(day_of_month)}(?!\d)")
        for match in re.finditer(rf"(?<!\d){year}(?!\d)", written):
            before = written[max(0, match.start() - _DATE_SPAN) : match.start()]
            after = written[match.end() : match.end() + _DATE_SPAN]
            if number.search(before) or number.search(after):
                return True
        return False


def _valid(parts: tuple[int, int, int] | None, latest: str) -> str | None:
    if parts is None:
        return None
    try:
        day = date(*parts)
    except ValueError:
        return None
    iso = day.isoformat()
    return iso if day.year >= _EARLIEST_YEAR and iso <= latest else None


def _from_buddhist_era(year: str) -> int:
    """A Thai year: 2567 is 2024; a two-digit one (67) is read in the 2500s."""
    return (int(year) if len(year) == 4 else 2500 + int(year)) - 543


def _from_jalali(year: int, month: int, day: int) -> tuple[int, int, int] | None:
    """The Gregorian (year, month, day) of a day of the Persian solar calendar (the arithmetic of
    the 33-year cycle, right for 1178-1633 of that calendar)."""
    if not (1 <= month <= 12 and 1 <= day <= (31 if month <= 6 else 30)):
        return None
    year += 1595
    days = -355668 + 365 * year + (year // 33) * 8 + ((year % 33) + 3) // 4 + day
    days += (month - 1) * 31 if month < 7 else (month - 7) * 30 + 186
    gregorian_year = 400 * (days // 146097)
    days %= 146097
    if days > 36524:
        days -= 1
        gregorian_year += 100 * (days // 36524)
        days %= 36524
        if days >= 365:
            days += 1
    gregorian_year += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        gregorian_year += (days - 1) // 365
        days = (days - 1) % 365
    leap = gregorian_year % 4 == 0 and (gregorian_year % 100 != 0 or gregorian_year % 400 == 0)
    month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    day_of_year = days + 1
    for gregorian_month, length in enumerate(month_days, start=1):
        if day_of_year <= length:
            return gregorian_year, gregorian_month, day_of_year
        day_of_year -= length
    return None
