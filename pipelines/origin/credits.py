"""Credit lines: the wire agency a page credits, and the outlet it says first published the story.

Credits are read only where pages put them, never from the body's sentences:
- the dateline at the head of the text: "LONDON (Reuters) -", "(AP) —", "(서울=연합뉴스)",
  "МОСКВА, 2 декабря. /ТАСС/.", "【共同】", "新华社北京12月2日电";
- the byline and the declared authors: "By Dana Whitfield | AP", "Agence France-Presse";
- short lines opening or closing the text: "Source: Xinhua", "© AFP", "(AFP)" after the last
  sentence, "This article was originally published by The Conversation".

A story that only quotes an agency ("..., Reuters reported", "told AFP") is not credited to it,
and quoted passages are never read as credits. What counts as a credit line is in the rules file
(CREDITS_RULES_FILE, pipelines/rules/credits.toml), with the agencies and how pages write them.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipelines.siterules import RulesError

DEFAULT_RULES_FILE = str(Path(__file__).parent.parent / "rules" / "credits.toml")

# Where credits stand: the first paragraphs, the last ones, and the head of the story's first one.
_OPENING, _CLOSING, _DATELINE_CHARS = 2, 4, 160
_CREDIT_LINE_WORDS = 40  # a longer paragraph is body text, not a credit line
_BYLINE_WORDS = 16
_OUTLET_WORDS = 6
_DATELINE_WORDS = 7  # "WASHINGTON, Dec. 2, 2026" and the like, before the agency
# A bracketed agency in a dateline: (Reuters), （共同）, 【共同】, [AFP], /ТАСС/, (서울=연합뉴스).
_BRACKETED = re.compile(r"(?P<open>[(\[（【/])\s*(?P<inside>[^()\[\]（）【】/\n]{1,40}?)\s*[)\]）】/]")
_AFTER_DATELINE = re.compile(r"\s*(?:[-–—:=.]|$)")
_TOKEN_SEPARATORS = re.compile(r"\s*[=,、·|]\s*")
# Quoted passages: a credit quoted in a story is the speaker's, not the page's.
_QUOTED = re.compile(r"[\"“„«「『][^\"“”„«»「」『』]{0,400}[\"”“»」』]")
_QUOTE_OPENERS = "\"'“„«「『‘"
_SENTENCE_END = '。．.!?！？」”"'
_OUTLET = (
    r"(?P<outlet>https?://[^\s,;]+|(?:[\w-]+\.)+[a-z]{2,}(?:/[^\s,;]*)?"
    r"|[^.;:!?()\n,\"“”]{2,80}?)(?=\s*(?:[.;:!?(),\"“”]|\s(?:and|on|under|with)\s|$))"
)


@dataclass(frozen=True)
class Credits:
    wire: str | None = None  # the credited agency, as the rules file names it
    original: str | None = None  # the outlet (name or URL) the page says first published the story
    quoted: bool = False  # a credit line was found only inside a quotation, and set aside


@dataclass(frozen=True)
class CreditRules:
    """Agencies and credit lines, compiled (see load_credit_rules)."""

    aliases: dict[str, list[str]]  # alias, casefolded -> the aliases written so, exactly
    agency_of: dict[str, str]  # alias, exactly -> agency name
    wire_lines: tuple[re.Pattern[str], ...]
    # An agency's own ways: datelines naming {agency} ("新华社北京12月2日电"), and whole lines
    # that credit it without naming it ("(Reporting by ...; Editing by ...)"), with its name.
    datelines: tuple[re.Pattern[str], ...]
    agency_lines: tuple[tuple[re.Pattern[str], str], ...]
    origin_lines: tuple[re.Pattern[str], ...]
    byline: re.Pattern[str]
    closing_bracket: re.Pattern[str]

    def agency(self, written: str) -> str | None:
        """The agency *written* names, if it is one of its aliases written as the rules allow:
        an alias of up to four capitals ("AP", "PA") only in capitals."""
        written = " ".join(written.split())
        for alias in self.aliases.get(written.casefold(), ()):
            if written == alias or not _capitals_only(alias):
                return self.agency_of[alias]
        return None


def _capitals_only(alias: str) -> bool:
    return len(alias) <= 4 and alias.isupper()


@functools.lru_cache(maxsize=4)
def load_credit_rules(path: str) -> CreditRules:
    """Read and compile the rules file; a mistake in it is a RulesError saying where."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read CREDITS_RULES_FILE {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"CREDITS_RULES_FILE {path} is not valid TOML: {exc}") from exc
    aliases: dict[str, list[str]] = {}
    agency_of: dict[str, str] = {}
    own_lines: list[tuple[str, str]] = []
    for number, entry in enumerate(data.get("agency", []), start=1):
        name, written = entry.get("name"), entry.get("aliases")
        if not isinstance(name, str) or not isinstance(written, list) or not written:
            raise RulesError(f"{path}, [[agency]] {number}: give a name and a list of aliases")
        for alias in [name, *written]:
            alias = " ".join(str(alias).split())
            agency_of[alias] = name
            aliases.setdefault(alias.casefold(), []).append(alias)
        own_lines.extend((line, name) for line in entry.get("lines", []))
    alternation = "|".join(re.escape(a) for a in sorted(agency_of, key=len, reverse=True))
    agency = rf"(?P<agency>{alternation})"

    def compiled(pattern: str, where: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern.replace("{agency}", agency).replace("{outlet}", _OUTLET), re.I)
        except re.error as exc:
            raise RulesError(
                f"{path}, {where}: {pattern!r} is not a valid regular expression: {exc}"
            ) from exc

    own = [(compiled(p, f"lines of {name}"), name) for p, name in own_lines]
    return CreditRules(
        aliases=aliases,
        agency_of=agency_of,
        wire_lines=tuple(compiled(p, "wire_lines") for p in data.get("wire_lines", [])),
        datelines=tuple(pattern for pattern, _ in own if "agency" in pattern.groupindex),
        agency_lines=tuple((pattern, name) for pattern, name in own if "agency" not in pattern.groupindex),
        origin_lines=tuple(compiled(p, "origin_lines") for p in data.get("origin_lines", [])),
        byline=re.compile(rf"(?<![\w-]){agency}(?![\w-])", re.I),
        closing_bracket=re.compile(rf"[{re.escape(_SENTENCE_END)}]\s*[(（【]\s*{agency}\s*[)）】]\W*$", re.I),
    )


def read_credits(paragraphs: list[str], bylines: list[str], rules: CreditRules) -> Credits:
    """The agency and the original outlet *paragraphs* (the article text) and *bylines* (the
    byline's text, the declared authors) credit."""
    lines = _credit_lines(paragraphs)
    credits = Credits(
        wire=_dateline_agency(paragraphs, rules)
        or _byline_agency(bylines, rules)
        or _line_agency(lines, paragraphs, rules),
        original=_original_outlet(lines, rules),
    )
    if credits.wire or credits.original:
        return credits
    quoted = [
        quotation[1:-1].strip()
        for line in _credit_lines(paragraphs, quoted=True)
        for quotation in _QUOTED.findall(line)
    ]
    return Credits(quoted=bool(_line_agency(quoted, [], rules) or _original_outlet(quoted, rules)))


def _credit_lines(paragraphs: list[str], quoted: bool = False) -> list[str]:
    """The opening and closing paragraphs short enough to be credit lines, quotations left out
    (or only those, *quoted*)."""
    picked = paragraphs[:_OPENING] + paragraphs[max(_OPENING, len(paragraphs) - _CLOSING) :]
    return [
        " ".join(p.split())
        for p in picked
        if len(p.split()) <= _CREDIT_LINE_WORDS and p.strip() and (p.strip()[0] in _QUOTE_OPENERS) == quoted
    ]


def _dateline_agency(paragraphs: list[str], rules: CreditRules) -> str | None:
    # The story's first paragraph may follow a caption or a standfirst the template left in.
    for paragraph in paragraphs[: _OPENING + 1]:
        if found := _dateline(paragraph, rules):
            return found
    return None


def _dateline(paragraph: str, rules: CreditRules) -> str | None:
    head = _QUOTED.sub('""', paragraph[:_DATELINE_CHARS])
    for pattern in rules.datelines:  # written the agency's own way ("新华社北京12月2日电")
        if (match := pattern.match(head)) and (found := rules.agency(match["agency"])):
            return found
    for match in _BRACKETED.finditer(head):
        prefix = head[: match.start()].split()
        if len(prefix) > _DATELINE_WORDS or any(
            word[0].islower() and not (number and any(c.isdigit() for c in prefix[number - 1]))
            for number, word in enumerate(prefix)
        ):
            return None  # past the dateline (a lowercase word not naming a month): the story has begun
        inside = match["inside"]
        found = rules.agency(inside) or next(
            (a for token in _TOKEN_SEPARATORS.split(inside) if (a := rules.agency(token))), None
        )
        if found is None:
            continue
        after = head[match.end() :]
        if match["open"] in "/（【" or "=" in inside or _AFTER_DATELINE.match(after):
            return found
    return None


def _byline_agency(bylines: list[str], rules: CreditRules) -> str | None:
    for byline in bylines:
        if not byline or len(byline.split()) > _BYLINE_WORDS:
            continue
        for match in rules.byline.finditer(byline):
            if found := rules.agency(match["agency"]):
                return found
    return None


def _line_agency(lines: list[str], paragraphs: list[str], rules: CreditRules) -> str | None:
    for line in lines:
        for pattern in rules.wire_lines:
            if (match := pattern.search(line)) and (found := _matched_agency(match, rules)):
                return found
        for pattern, name in rules.agency_lines:
            if pattern.search(line):
                return name
    if paragraphs:  # "... said. (AFP)", "...と述べた。（共同）"
        last = _QUOTED.sub('""', paragraphs[-1][-200:])
        if (match := rules.closing_bracket.search(last)) and (found := rules.agency(match["agency"])):
            return found
    return None


def _matched_agency(match: re.Match[str], rules: CreditRules) -> str | None:
    """The agency a wire line matched, if the line names one ({agency})."""
    return rules.agency(match["agency"]) if "agency" in match.re.groupindex else None


def _could_be_outlet(text: str) -> bool:
    """A name ("The Conversation") or an address names an outlet; "our partner site", "March
    2022" or a headline do not."""
    if not text:
        return False
    if "." in text and " " not in text:
        return True
    words = text.split()
    return not text[0].islower() and len(words) <= _OUTLET_WORDS and not any(c.isdigit() for c in text)


def _original_outlet(lines: list[str], rules: CreditRules) -> str | None:
    for line in lines:
        for pattern in rules.origin_lines:
            if match := pattern.search(line):
                outlet = match["outlet"].strip().rstrip(".")
                outlet = re.sub(r"^the\s+", "", outlet, flags=re.I)
                if _could_be_outlet(outlet):
                    return outlet
    return None
