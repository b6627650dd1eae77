"""A project's text -> chapters -> segments, from pasted text, .txt, .md or .epub.

Chapters
    - Plain text and Markdown: a line "Chapter 7", "CHAPTER ONE", "Chapter IV: The Storm" or "第三章 …" starts a
      chapter (the word, a number in digits, Roman numerals or English words, then nothing or a separator : . - –
      — and a title; "Chapter 3 was the best" is prose). In Markdown, `#` and `##` headings start chapters too;
      `###` and deeper headings stay in the chapter, read without their `#`.
    - EPUB: the table of contents gives the chapters, nested entries flattened in reading order; an entry that
      points inside a document (`ch1.xhtml#part2`) starts at that anchor. Without a usable table of contents, each
      document of the reading order is a chapter.
    - Text before the first chapter is a chapter without a title; a text without chapters is one such chapter.
      A chapter with nothing to read but its title (an empty EPUB page, two headings in a row) is left out.
    - The chapter's title line is its first segment: audiobooks read it.
Segments
    - Paragraphs (split at blank lines) are cut into sentences, packed into segments of at most SEGMENT_MAX_BYTES
      by the engine's own chunker (inference/text/chunking.py), so a paragraph without punctuation is bounded too.
    - A segment's text is the text as typed, exactly (line breaks inside it included); only line endings become
      "\\n", a byte-order mark is dropped and control characters become spaces. Scene breaks ("* * *") and other
      pieces without a letter or digit are not segments: there is nothing to say.
    - Dialogue tags as the studio reads them (`[Guest] ...`, `[Guest speed=1.2] ...`, see studio/dialogue.py) give
      the segments after them their speaker, up to the next tag or the chapter's end; untagged text is the
      narrator's (speaker ""). In a book, a bracket is a tag only when it starts a line or follows a space, is
      followed by a space or the line's end, and holds a name that starts with a letter: footnote marks ("word[1]")
      and Markdown links ("[text](url)") stay text.

    >>> [(c.title, [s.text for s in c.segments]) for c in read_text("Chapter 1\\n\\nIt was late. [Guest] Hello?")]
    [('Chapter 1', ['Chapter 1', 'It was late.', 'Hello?'])]
    >>> [s.speaker for s in read_text("It was late. [Guest] Hello?")[0].segments]
    ['', 'Guest']
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..errors import InputError
from ..text.chunking import chunk_text, max_chunk_bytes

# The one place inference.projects imports from the studio's operations (the dialogue tags' syntax):
from ..text.script import TAG, parse_script

MAX_PROJECT_CHARS = 1_000_000  # characters of text in one project
# One segment holds about what one engine chunk does with a typical reference (8 s at 15 UTF-8 bytes a second).
SEGMENT_MAX_BYTES = max_chunk_bytes("x" * 120, 8.0)
MAX_EPUB_BYTES = 512 * 2**20  # an EPUB's files, uncompressed (images included)
MAX_TITLE_CHARS = 200
NARRATOR = ""  # the speaker of untagged text
SPLIT_HINT = "Split the book into several projects (one per part, for example) of at most 1,000,000 characters."
FILE_HINT = "Upload a .txt, .md or .epub file, or paste the text."

_NUMBER_WORD = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred"
)
_NUMBER = rf"(?:\d+|[ivxlcdm]+|(?:{_NUMBER_WORD})(?:[ \t-]+(?:{_NUMBER_WORD}))*)(?!\w)"
_CHAPTER_LINE = re.compile(rf"[ \t]*chapter[ \t]+{_NUMBER}[ \t]*(?:[:.\-–—][ \t]*(?:\S.*)?)?", re.IGNORECASE)
_CHINESE_CHAPTER = re.compile(r"[ \t]*第[0-9０-９一二三四五六七八九十百千零〇两]+[章回节卷](?:[ \t:：]*\S.*)?")
_MD_CHAPTER = re.compile(r" {0,3}#{1,2}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_MD_SUBHEADING = re.compile(r"^ {0,3}#{3,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Segment:
    text: str  # as typed: an exact piece of the source
    speaker: str = NARRATOR  # the dialogue tag's name as written; "" = the narrator


@dataclass(frozen=True)
class Chapter:
    title: str  # "" for text before the first chapter, or a text without chapters
    segments: tuple[Segment, ...]


def total_chars(chapters: Iterable[Chapter]) -> int:
    """Characters of all segments' text."""
    return sum(len(s.text) for c in chapters for s in c.segments)


# ---- plain text and Markdown ------------------------------------------------------------------------------------
def clean(text: str) -> str:
    """What is kept of typed text: line endings as "\\n", no byte-order mark, control characters as spaces:
    clean("\\ufeffa\\r\\nb\\x00c") -> "a\\nb c"."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)


def _too_long(size: int, what: str = "The text") -> InputError:
    return InputError(f"{what} is {size:,} characters long; a project holds at most {MAX_PROJECT_CHARS:,}.", SPLIT_HINT)


def _heading(line: str, markdown: bool) -> str | None:
    """The chapter title a line starts, or None: 'Chapter IV: The Storm' -> 'Chapter IV: The Storm'."""
    if len(line) > MAX_TITLE_CHARS:
        return None
    if markdown and (match := _MD_CHAPTER.fullmatch(line)):
        return match.group(1).strip() or None
    if _CHAPTER_LINE.fullmatch(line) or _CHINESE_CHAPTER.fullmatch(line):
        return line.strip()
    return None


def read_text(text: str, markdown: bool = False) -> list[Chapter]:
    """Chapters and segments of pasted or uploaded text (see the module docstring). InputError when the text is
    over MAX_PROJECT_CHARS or has nothing to read."""
    if not isinstance(text, str):
        raise InputError("The text must be a string.", FILE_HINT)
    text = clean(text)
    if len(text) > MAX_PROJECT_CHARS:
        raise _too_long(len(text))
    parts: list[tuple[str, list[str]]] = [("", [])]  # (title, body lines)
    for line in text.split("\n"):
        title = _heading(line, markdown)
        if title is None:
            parts[-1][1].append(line)
        else:
            parts.append((title, []))
    chapters = []
    for title, lines in parts:
        body = "\n".join(lines)
        if markdown:
            body = _MD_SUBHEADING.sub(r"\1", body)
        if _has_words(body):
            chapters.append(Chapter(title, segments(f"{title}\n\n{body}" if title else body)))
    return _not_empty(chapters, "the text")


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _not_empty(chapters: list[Chapter], what: str) -> list[Chapter]:
    if not chapters:
        raise InputError(f"There is nothing to read in {what}.", "Give a text with words in it. " + FILE_HINT)
    return chapters


# ---- segments ---------------------------------------------------------------------------------------------------
def segments(body: str) -> tuple[Segment, ...]:
    """One chapter's text as segments, each at most SEGMENT_MAX_BYTES (unless one character is longer), with its
    speaker: segments("Hi. [Guest] Hello.") -> (Segment('Hi.', ''), Segment('Hello.', 'Guest'))."""
    out: list[Segment] = []
    speaker = NARRATOR
    for paragraph in _PARAGRAPH_BREAK.split(body):
        pos = 0
        for match in _tags(paragraph):
            out += _pieces(paragraph[pos : match.start()], speaker)
            speaker = _speaker(match.group(1))
            pos = match.end()
        out += _pieces(paragraph[pos:], speaker)
    return tuple(out)


def _tags(paragraph: str) -> Iterator[re.Match[str]]:
    """The studio's tags that are tags in a book: at a line's start or after a space, before a space or the end,
    a name starting with a letter."""
    for match in TAG.finditer(paragraph):
        before = paragraph[match.start() - 1] if match.start() else " "
        after = paragraph[match.end()] if match.end() < len(paragraph) else " "
        name = match.group(1).strip()
        if before.isspace() and after.isspace() and name[:1].isalpha():
            yield match


def _speaker(head: str) -> str:
    try:
        return parse_script(f"[{head}]")[0].speaker
    except InputError as e:
        raise InputError(f"The tag [{head}] cannot be read: {e.message}", e.hint) from e


def _pieces(text: str, speaker: str) -> list[Segment]:
    """The text cut by the engine's chunker, each piece given back as the exact slice of `text` it came from."""
    out, i = [], 0
    for chunk in chunk_text(text, SEGMENT_MAX_BYTES):
        need = sum(1 for ch in chunk if not ch.isspace())  # the chunker changes whitespace only
        while text[i].isspace():
            i += 1
        start = i
        while need:
            need -= not text[i].isspace()
            i += 1
        if _has_words(text[start:i]):
            out.append(Segment(text[start:i], speaker))
    return out


# ---- files ------------------------------------------------------------------------------------------------------
def read_file(name: str, data: bytes) -> list[Chapter]:
    """Chapters of an uploaded file, by its extension: .txt, .md (or .markdown), .epub."""
    ext = posixpath.splitext(str(name).lower())[1]
    if ext == ".epub":
        return read_epub(data)
    if ext not in (".txt", ".text", ".md", ".markdown"):
        raise InputError(f"{ext or 'Files without an extension'} files cannot be read as a project.", FILE_HINT)
    if len(data) > 4 * MAX_PROJECT_CHARS + 4:  # a character takes at most 4 bytes
        raise InputError(f"The file is {len(data):,} bytes long, over {MAX_PROJECT_CHARS:,} characters.", SPLIT_HINT)
    return read_text(decode(data, posixpath.basename(str(name))), markdown=ext in (".md", ".markdown"))


def decode(data: bytes, name: str = "The file") -> str:
    """UTF-8 text (with or without a byte-order mark), or UTF-16 with its mark; anything else is refused."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{name} is not UTF-8 text (byte {e.start:,} cannot be read).",
            "Save it as UTF-8 (in most editors: Save as, then Encoding: UTF-8) and upload it again.",
        ) from None


def read_epub(data: bytes) -> list[Chapter]:
    """Chapters of an EPUB (2 or 3): its table of contents, read with ebooklib (see the module docstring)."""
    book = _open_epub(data)
    paragraphs: list[str] = []
    starts: dict[tuple[str, str], int] = {}  # (document, anchor id or "") -> its first paragraph
    firsts: list[int] = []  # each document's first paragraph, in reading order
    for item in _documents(book):
        firsts.append(len(paragraphs))
        starts[(item.file_name, "")] = len(paragraphs)
        for anchor in _html_paragraphs(item.get_content(), paragraphs):
            starts.setdefault((item.file_name, anchor), len(paragraphs))
        if sum(map(len, paragraphs)) > MAX_PROJECT_CHARS:
            raise _too_long(sum(map(len, paragraphs)), "The book's text")
    marks: dict[int, str] = {}  # first paragraph -> chapter title (entries starting together: joined)
    for title, href in _toc(book.toc):
        path, _, anchor = unquote(href).partition("#")
        start = starts.get((posixpath.normpath(path), anchor), starts.get((posixpath.normpath(path), "")))
        if start is not None:
            marks[start] = f"{marks[start]}: {title}" if start in marks else title
    if not marks:  # no usable table of contents: one chapter per document
        marks = {i: "" for i in firsts}
    bounds = sorted(marks) + [len(paragraphs)]
    pieces = [("", paragraphs[: bounds[0]])] + [
        (marks[a], paragraphs[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    chapters = []
    for title, body in pieces:
        said = [p for p in body if " ".join(p.split()).casefold() != " ".join(title.split()).casefold()]
        if _has_words("".join(said)):
            chapters.append(Chapter(title[:MAX_TITLE_CHARS], segments("\n\n".join(body))))
    return _not_empty(chapters, "the book")


def _open_epub(data: bytes) -> Any:
    hint = "Export the book again as EPUB, or paste its text."
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError("The file is not an EPUB (an EPUB is a zip archive).", hint)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if sum(info.file_size for info in zf.infolist()) > MAX_EPUB_BYTES:
            raise InputError(f"The EPUB unpacks to more than {MAX_EPUB_BYTES // 2**20} MB.", SPLIT_HINT)
    from ebooklib import epub  # loaded for books only

    try:
        return epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except Exception as e:  # ebooklib raises many kinds (EpubException, KeyError, lxml errors) for broken books
        raise InputError(f"The EPUB cannot be read ({type(e).__name__}: {e}).", hint) from e


def _documents(book: Any) -> Iterator[Any]:
    """The book's text documents in reading order (the spine), without its navigation page."""
    import ebooklib
    from ebooklib import epub

    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is not None and item.get_type() == ebooklib.ITEM_DOCUMENT and not isinstance(item, epub.EpubNav):
            yield item


def _toc(entries: Any) -> Iterator[tuple[str, str]]:
    """(title, href) of every table-of-contents entry, nested ones after their parent."""
    if not isinstance(entries, (tuple, list)):  # ebooklib gives a lone entry as it is
        entries = [entries]
    for entry in entries:
        if isinstance(entry, (tuple, list)):
            yield from _toc(entry[:1])
            yield from _toc(entry[1] if len(entry) > 1 else [])
            continue
        href = getattr(entry, "href", None) or getattr(entry, "file_name", None)
        if href:
            yield " ".join(str(getattr(entry, "title", "") or "").split()), href


_BLOCKS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li blockquote pre dt dd td th caption figcaption div section article aside header footer "
    "nav table tr ul ol dl figure hr body".split()
)
_SKIPPED = frozenset(("script", "style", "head", "title"))


def _html_paragraphs(content: bytes, out: list[str]) -> Iterator[str]:
    """Append a document's paragraphs (text of block elements, whitespace collapsed) to `out`; yield each id met,
    when `out` holds the paragraphs before it."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(content)
    except (lxml.etree.ParserError, ValueError):
        return
    words: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(words).split())
        words.clear()
        if text:
            out.append(text)

    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _SKIPPED or not tag:
                walker.skip_subtree()
                continue
            if tag in _BLOCKS or tag == "br":
                flush()
            if el.get("id"):
                yield el.get("id")
            words.append(el.text or "")
        else:
            if tag in _BLOCKS:
                flush()
            words.append(el.tail or "")
    flush()
