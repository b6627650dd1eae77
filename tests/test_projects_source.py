"""A project's text -> chapters -> segments (inference/projects/source.py), case by case: what people paste."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.errors import InputError
from inference.projects import source
from inference.projects.source import MAX_PROJECT_CHARS, SEGMENT_MAX_BYTES, read_epub, read_file, read_text

ROOT = Path(__file__).resolve().parents[1]


def titles(chapters: list[source.Chapter]) -> list[str]:
    return [c.title for c in chapters]


def texts(chapter: source.Chapter) -> list[str]:
    return [s.text for s in chapter.segments]


# (case, text, markdown?, chapter titles, segments of the first chapter)
CASES = [
    (
        "markdown # and ## with text before the first heading",
        "A foreword.\n\n# Part One\n\nFirst words.\n\n## The Storm\n\nRain fell. Wind blew.\n",
        True,
        ["", "Part One", "The Storm"],
        ["A foreword."],
    ),
    (
        "markdown ### stays in its chapter, read without #",
        "# One\n\nText.\n\n### A section ###\n\nMore.",
        True,
        ["One"],
        ["One", "Text.", "A section", "More."],
    ),
    ("Chapter 1", "Chapter 1\nIt begins.\n\nChapter 2\nIt goes on.", False, ["Chapter 1", "Chapter 2"], None),
    ("CHAPTER ONE", "CHAPTER ONE\n\nIt begins.\n\nCHAPTER TWENTY-ONE\n\nLater.", False, None, None),
    ("Chapter IV: The Storm", "Chapter IV: The Storm\nRain.", False, ["Chapter IV: The Storm"], None),
    ("prose that names a chapter", "Chapter 3 was the best part.\nChapter 4, she said.", False, [""], None),
    ("Chapter lines in markdown too", "# Book\n\nIntro.\n\nChapter 2\n\nText.", True, ["Book", "Chapter 2"], None),
    ("no chapters at all", "Just a text. Two sentences.", False, [""], ["Just a text. Two sentences."]),
    ("Chinese", "第一章 开始\n\n夜深了。你好吗？", False, ["第一章 开始"], ["第一章 开始", "夜深了。你好吗？"]),
    ("CRLF and BOM", "\ufeffChapter 1\r\nLine one\r\nline two.\r\n\r\nNext.", False, ["Chapter 1"], None),
    ("a heading with nothing under it is left out", "# Title\n\n## One\n\nText.", True, ["One"], ["One", "Text."]),
    ("scene breaks are not segments", "Before.\n\n* * *\n\nAfter.", False, [""], ["Before.", "After."]),
]


@pytest.mark.parametrize(("case", "text", "markdown", "want_titles", "want_first"), CASES, ids=[c[0] for c in CASES])
def test_cases(case: str, text: str, markdown: bool, want_titles: list[str] | None, want_first: list[str] | None):
    chapters = read_text(text, markdown=markdown)
    if want_titles is not None:
        assert titles(chapters) == want_titles
    if want_first is not None:
        assert texts(chapters[0]) == want_first
    assert all(0 < len(s.text.encode()) <= SEGMENT_MAX_BYTES for c in chapters for s in c.segments)


def test_chapter_number_words():
    assert titles(read_text("CHAPTER ONE\n\nIt begins.\n\nCHAPTER TWENTY-ONE\n\nLater.")) == [
        "CHAPTER ONE",
        "CHAPTER TWENTY-ONE",
    ]


def test_crlf_bom_text_as_typed():
    chapters = read_text("\ufeffChapter 1\r\nLine one\r\nline two.\r\n\r\nNext.")
    assert texts(chapters[0]) == ["Chapter 1", "Line one\nline two.", "Next."]


def test_dialogue_tags_mid_chapter():
    text = "Chapter 1\n\nIt was late. [Guest speed=1.2] Hello? Is anyone there?\nNo answer.\n\n[Narrator] She waited."
    segs = read_text(text)[0].segments
    assert [(s.speaker, s.text) for s in segs] == [
        ("", "Chapter 1"),
        ("", "It was late."),
        ("Guest", "Hello? Is anyone there?\nNo answer."),
        ("Narrator", "She waited."),
    ]
    # a new chapter starts with the narrator again
    assert read_text("[Guest] Hi.\n\nChapter 2\n\nText.")[1].segments[1].speaker == ""


def test_brackets_that_are_not_tags_stay_text():
    segs = read_text("A note[1] and a [link](http://x.org). He said [1999] was good.")[0].segments
    assert [s.speaker for s in segs] == [""]
    assert "[1]" in segs[0].text and "[link](http://x.org)" in segs[0].text


def test_a_broken_tag_says_which():
    with pytest.raises(InputError, match=r"\[Guest volume=3\]"):
        read_text("Hello. [Guest volume=3] Hi.")


def test_long_paragraph_without_punctuation_is_bounded():
    text = " ".join(f"word{i}" for i in range(3000))
    segs = read_text(text)[0].segments
    assert len(segs) > 10
    assert all(len(s.text.encode()) <= SEGMENT_MAX_BYTES for s in segs)
    assert " ".join(s.text for s in segs) == text
    chinese = "夜" * 2000  # no punctuation, no spaces: cut between characters
    segs = read_text(chinese)[0].segments
    assert all(len(s.text.encode()) <= SEGMENT_MAX_BYTES for s in segs) and "".join(s.text for s in segs) == chinese


def test_sentences_are_grouped_up_to_the_bound():
    text = "Short one. " * 60
    segs = read_text(text)[0].segments
    assert all(s.text.endswith(".") for s in segs)  # cut at sentence ends
    assert all(len(s.text.encode()) <= SEGMENT_MAX_BYTES for s in segs)
    assert len(segs) == -(-len(text.strip().encode()) // SEGMENT_MAX_BYTES)  # as few as fit


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([*"ab c.\n,!夜。[]#", "\r\n", "Chapter 2\n", "[Guest] ", "word"]), max_size=300))
def test_every_segment_is_an_exact_piece_of_the_text(pieces: list[str]):
    text = "".join(pieces)
    try:
        chapters = read_text(text)
    except InputError:
        return
    cleaned = source.clean(text)
    pos = 0
    for chapter in chapters:
        for seg in chapter.segments:
            if seg.text == chapter.title and seg is chapter.segments[0]:
                continue
            found = cleaned.find(seg.text, pos)
            assert found >= 0, seg.text
            pos = found + len(seg.text)
            assert len(seg.text.encode()) <= SEGMENT_MAX_BYTES


# ---- limits and malformed input ----------------------------------------------------------------------------------
def test_over_the_project_limit_is_refused_with_what_to_do():
    with pytest.raises(InputError, match="1,000,001 characters") as e:
        read_text("a" * (MAX_PROJECT_CHARS + 1))
    assert "Split the book" in e.value.hint
    assert read_text(("word. " * (MAX_PROJECT_CHARS // 6)).strip())  # at the limit: accepted


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("book.txt", "héllo".encode("latin-1"), "not UTF-8"),
        ("book.txt", b"   \n\n", "nothing to read"),
        ("book.md", b"# Title\n\n## Empty\n", "nothing to read"),
        ("book.epub", b"plain text, not a zip", "not an EPUB"),
        ("book.pdf", b"%PDF", ".pdf files cannot be read"),
        ("book.txt", b"a" * (4 * MAX_PROJECT_CHARS + 5), "bytes long"),
    ],
)
def test_malformed_files_are_refused_plainly(name: str, data: bytes, message: str):
    with pytest.raises(InputError, match=message) as e:
        read_file(name, data)
    assert e.value.hint


def test_files_by_extension():
    assert titles(read_file("x.md", b"# One\n\nText.")) == ["One"]
    assert titles(read_file("x.txt", b"# One\n\nText.")) == [""]  # a .txt has no markdown headings
    assert texts(read_file("x.txt", "\ufeffHi.".encode("utf-16"))[0]) == ["Hi."]


# ---- EPUB ---------------------------------------------------------------------------------------------------------
def make_epub(chapters: list[tuple[str, str, str]], toc: list | None = None) -> bytes:
    """An EPUB built with ebooklib: (file name, title, body html) per document; toc from a builder over the items."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("Test Book")
    book.set_language("en")
    items = []
    for file_name, title, body in chapters:
        item = epub.EpubHtml(title=title, file_name=file_name, lang="en")
        item.content = f"<html><body>{body}</body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = toc(items) if callable(toc) else (toc if toc is not None else items)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def test_epub_nested_toc_and_an_empty_chapter():
    from ebooklib import epub

    docs = [
        ("title.xhtml", "Title page", "<h1>Test Book</h1><p>By Someone.</p>"),
        ("part1.xhtml", "Part One", "<h1>Part One</h1>"),
        ("ch1.xhtml", "Chapter 1", "<h2>Chapter 1</h2><p>It was late.</p><p id='s2'>A second scene.</p>"),
        ("ch2.xhtml", "Chapter 2", "<h2>Chapter 2</h2><p>[Guest] Hello? <em>Anyone</em> there?</p>"),
        ("empty.xhtml", "Notes", '<img src="map.png" alt=""/>'),
    ]

    def toc(items):
        return [
            items[0],
            (
                epub.Section("Part One", href="part1.xhtml"),
                [
                    epub.Link("ch1.xhtml", "Chapter 1", "c1"),
                    epub.Link("ch1.xhtml#s2", "Scene 2", "c1s2"),
                    epub.Link("ch2.xhtml", "Chapter 2", "c2"),
                ],
            ),
            items[4],
        ]

    chapters = read_epub(make_epub(docs, toc))
    assert titles(chapters) == ["Title page", "Chapter 1", "Scene 2", "Chapter 2"]  # Part One and Notes: no text
    assert texts(chapters[1]) == ["Chapter 1", "It was late."]
    assert texts(chapters[2]) == ["A second scene."]
    assert [(s.speaker, s.text) for s in chapters[3].segments] == [("", "Chapter 2"), ("Guest", "Hello? Anyone there?")]
    assert all("Table of contents" not in s.text for c in chapters for s in c.segments)  # the nav page is not read


def test_epub_without_toc_reads_each_document():
    chapters = read_epub(make_epub([("a.xhtml", "A", "<p>One.</p>"), ("b.xhtml", "B", "<p>Two.</p>")], toc=[]))
    assert [texts(c) for c in chapters] == [["One."], ["Two."]]


def test_epub_refusals():
    with pytest.raises(InputError, match="nothing to read in the book"):
        read_epub(make_epub([("a.xhtml", "A", '<img src="x.png" alt=""/>')]))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "not a book")
    with pytest.raises(InputError, match="The EPUB cannot be read"):
        read_epub(zipped.getvalue())
    big = make_epub([("a.xhtml", "A", "<p>" + "word " * (MAX_PROJECT_CHARS // 5 + 10) + "</p>")])
    with pytest.raises(InputError, match="a project holds at most 1,000,000"):
        read_epub(big)


def test_importing_projects_stays_light_and_below_the_adapters():
    code = (
        "import sys, inference.projects.store, inference.projects.source; "
        "print(sorted(m for m in ('torch', 'gradio', 'fastapi', 'ebooklib', 'lxml', 'ui', 'api', 'serverless') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
