"""Dates written the local way: read where htmldate finds none, converted to the Gregorian
calendar, never after the fetch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml.html import fromstring

from pipelines import clock
from pipelines.extraction.localdates import WrittenDates, _from_jalali
from pipelines.extraction.page import extract_article

# The fetch is today, by the project's clock; the dates below are the calendars under test.
FETCHED = clock.now().date().isoformat()
_NEXT_YEAR = clock.now() + timedelta(days=366)


def page(snippet: str) -> str:
    return f"<html><body><nav>首页 | Home</nav><p>{snippet}</p><p>more text</p></body></html>"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("发布时间：2024年3月5日 10:20", "2024-03-05"),
        ("発行：令和6年3月5日", "2024-03-05"),
        ("平成元年1月9日", "1989-01-09"),
        ("입력 2024년 3월 5일 오전 10:20", "2024-03-05"),
        ("نشر في ٥ مارس ٢٠٢٤", "2024-03-05"),
        ("بيروت، 12 تشرين الأول 2023", "2023-10-12"),
        ("تاریخ انتشار: ۱۵ اسفند ۱۴۰۲", "2024-03-05"),
        ("۱۴۰۲/۱۲/۱۵ - ۱۰:۲۰", "2024-03-05"),
        ("วันที่ 5 มีนาคม 2567", "2024-03-05"),
        ("(19 ก.พ. 61)", "2018-02-19"),
        ("วันที่ ๕ มีนาคม ๒๕๖๗", "2024-03-05"),
        ("Posted 5 March 2024", "2024-03-05"),
        ("Mar. 5th, 2024 | 4 min read", "2024-03-05"),
    ],
)
def test_local_dates_are_read_and_converted(snippet, expected):
    assert WrittenDates(fromstring(page(snippet)), FETCHED).first() == expected


@pytest.mark.parametrize(
    "snippet",
    [
        f"{_NEXT_YEAR.year}年{_NEXT_YEAR.month}月{_NEXT_YEAR.day}日",  # after the fetch
        "2024年2月30日",  # no such day
        "1402/13/01",  # no thirteenth month
        "价格：2024元",  # a year-like number alone
        "Mayor 12, 2024",  # no month
        "<script>var d='2024年3月5日';</script>",  # not the page's text
    ],
)
def test_what_is_no_date_gives_none(snippet):
    assert WrittenDates(fromstring(page(snippet)), FETCHED).first() is None


def test_the_first_date_on_the_page_wins():
    html = page("2024年3月5日 发布") + "<div>评论 2024年3月9日</div>"
    assert WrittenDates(fromstring(html), FETCHED).first() == "2024-03-05"


def test_persian_new_years_days_fall_on_the_equinox():
    assert _from_jalali(1403, 1, 1) == (2024, 3, 20)
    assert _from_jalali(1400, 1, 1) == (2021, 3, 21)
    assert _from_jalali(1399, 12, 30) == (2021, 3, 20)  # a leap year's last day
    assert _from_jalali(1380, 10, 11) == (2002, 1, 1)


def test_an_article_dated_only_the_local_way_gets_that_date():
    body = "".join(
        f"<p>{'国务院总理今天在人民大会堂会见了来访的代表团，双方就合作交换了意见。' * 3}</p>"
        for _ in range(4)
    )
    html = f"<html><head><title>会见</title></head><body><article><h1>会见代表团</h1><p>2024年3月5日 10:20</p>{body}</article></body></html>"
    fields = extract_article(html, "http://news.example.cn/2024/a.html", fetched_on=FETCHED)
    assert fields is not None
    assert fields["published"] == "2024-03-05"


@pytest.mark.parametrize(
    "snippet",
    [
        "Posted Dec 8, 2025 by Ann",
        "am 08.12.2025 veröffentlicht",
        "2025年12月8日",
        "8 grudnia 2025",
        "Monday, 8th of December 2025",
    ],
)
def test_a_day_written_in_the_text_is_shown(snippet):
    assert WrittenDates(fromstring(page(snippet)), FETCHED).shows("2025-12-08")


@pytest.mark.parametrize(
    "snippet",
    [
        '<img src="/media/photo_20251208.jpg" alt="">',  # a file name only
        "<script>var published = '2025-12-08';</script>",
        "© 2025 Example Media, 18 offices worldwide",  # the year, and another number
        "Dec 9, 2025",  # another day
    ],
)
def test_a_day_only_in_markup_or_not_written_is_not_shown(snippet):
    assert not WrittenDates(fromstring(page(snippet)), FETCHED).shows("2025-12-08")
