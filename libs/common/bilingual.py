"""A message in both languages, kept as two fields instead of one string split again later.

Domain rules return `Text`; a Problem is raised from it (`raise Problem(409, *text)`), a page
takes the reader's half (`text.pick(lang)`). The joined form "中文 | English" remains only where
a string is required: a pydantic validator's ValueError (read back by
`problems.translate_validation_error`) and texts already stored or published that way (a
decision's basis, a dispatch reason). `join` and `Text.parse` are the one place that form is
built and read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SEP = " | "


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str = ""

    def __post_init__(self) -> None:
        if not self.en:  # one language given: it stands for both
            object.__setattr__(self, "en", self.zh)

    def __str__(self) -> str:
        return join(self.zh, self.en)

    def __iter__(self) -> Iterator[str]:
        """`zh, en = text` and `Problem(409, *text)`."""
        yield self.zh
        yield self.en

    @classmethod
    def parse(cls, value: object) -> Text:
        """ "中文 | English" → Text; a string without the separator stands for both languages."""
        zh, _, en = str(value if value is not None else "").partition(SEP)
        return cls(zh, en)

    def pick(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def format(self, **values: Any) -> Text:
        """Both halves filled from the same values: `Text("至少 {n} 项", "at least {n}").format(n=2)`."""
        return Text(self.zh.format(**values), self.en.format(**values))

    def error(self) -> ValueError:
        """For a pydantic validator: `raise Text(...).error()` (the joined form pydantic carries)."""
        return ValueError(str(self))


def join(zh: str, en: str) -> str:
    return f"{zh}{SEP}{en}"


def zh_of(value: object) -> str:
    """The Chinese half of a joined text (what a printed document shows)."""
    return Text.parse(value).zh
