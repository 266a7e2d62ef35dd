from __future__ import annotations

from pipelines.boilerplate.segments import FORGET_AFTER, SiteSegments
from pipelines.text import paragraph_key as segment_key

TEMPLATE = ["Sign up for our newsletter.", "\u00a9 2026 Example Media. All rights reserved."]


def story(number: int, paragraphs: int = 6) -> list[str]:
    return [
        f"Story {number} paragraph {p} says something only story {number} says." for p in range(paragraphs)
    ]


def keys(parts: list[str]) -> list[str]:
    return [segment_key(p) for p in parts]


def test_template_segments_are_learned_after_enough_different_stories():
    site = SiteSegments(min_stories=4, min_share=0.2, warmup_stories=4)
    learned_at = None
    for number in range(1, 7):
        _, learned = site.observe(keys(story(number) + TEMPLATE))
        if learned and learned_at is None:
            learned_at = number
    assert learned_at == 4
    assert site.boilerplate() == set(keys(TEMPLATE))
    assert site.warm


def test_years_typography_and_punctuation_do_not_split_a_segment():
    assert segment_key("\u00a9 2025 Example Media.") == segment_key("\u00a9 2026 example media")
    assert segment_key("\u201cRead more\u201d:") == segment_key('"read more"')
    assert segment_key("Final score 2-1") != segment_key("Final score 3-1")


def test_a_story_republished_on_one_site_does_not_teach_its_paragraphs():
    site = SiteSegments(min_stories=3, warmup_stories=3)
    for _ in range(6):
        site.observe(keys(story(1)))
    assert site.stories == 1
    assert site.boilerplate() == set()


def test_an_edited_republication_is_still_the_same_story():
    site = SiteSegments(min_stories=3, warmup_stories=3)
    site.observe(keys(story(1)))
    site.observe(keys([*story(1)[:4], "An update paragraph added later."]))
    site.observe(keys(["(Reuters) - " + story(1)[0], *story(1)[1:]]))
    assert site.stories == 1


def test_a_paragraph_quoted_in_two_different_stories_is_not_boilerplate():
    quote = "\u201cWe will not allow another insurgency,\u201d the spokesman said."
    site = SiteSegments(min_stories=4)
    for number in range(1, 20):
        parts = story(number) + TEMPLATE + ([quote] if number in (3, 9) else [])
        site.observe(keys(parts))
    assert not site.is_boilerplate(segment_key(quote))
    assert all(site.is_boilerplate(k) for k in keys(TEMPLATE))


def test_a_paragraph_recurring_across_many_stories_is_boilerplate():
    recurring = "Follow us on social media for the latest updates."
    site = SiteSegments(min_stories=4, min_share=0.2)
    for number in range(1, 30):
        site.observe(keys(story(number) + ([recurring] if number % 3 == 0 else [])))
    assert site.is_boilerplate(segment_key(recurring))


def test_a_rare_repeat_in_a_long_history_is_not_boilerplate():
    rare = "The background paragraph used again in a follow-up story."
    site = SiteSegments(min_stories=4, min_share=0.2)
    for number in range(1, 200):
        site.observe(keys(story(number) + ([rare] if number % 40 == 0 else [])))
    assert not site.is_boilerplate(segment_key(rare))


def test_state_round_trips_and_forgets_one_off_segments():
    site = SiteSegments()
    for number in range(1, 400):
        site.observe(keys(story(number, 3) + TEMPLATE))
    restored = SiteSegments()
    restored.load_dict(site.to_dict())
    assert restored.boilerplate() == site.boilerplate() == set(keys(TEMPLATE))
    assert restored.stories == 399
    # one-off paragraphs of old stories are forgotten, so the state stays bounded
    assert len(site.segments) <= 3 * (FORGET_AFTER + 50) + len(TEMPLATE) < 3 * 399


def test_lines_extraction_left_out_teach_the_template_but_not_the_story():
    site = SiteSegments(min_stories=4, min_share=0.2, warmup_stories=4)
    # Long stories: extraction kept their paragraphs only; the promo was left out of the text.
    for number in range(1, 6):
        site.observe(keys(story(number)), around=keys(["Share this story with a friend.", f"Story {number}"]))
    assert site.is_boilerplate(segment_key("Share this story with a friend."))
    # A brief, whose extraction kept the promo: it is the site's, the brief's own line is not.
    brief = ["A short brief of one paragraph.", "Share this story with a friend."]
    site.observe(keys(brief))
    assert [site.is_boilerplate(k) for k in keys(brief)] == [False, True]
    # Lines seen around the text do not make a story look like another one.
    assert site.stories == 6
