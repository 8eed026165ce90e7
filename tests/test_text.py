"""Tests of helpers/text.py: the corpus, its cache, the split and the tokenizers (notebook 02)."""
import json
import os
import random

import numpy as np
import pytest
import torch

from helpers import text


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache folder (COURSE_CACHE_DIR), never the user's."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def plays():
    return text._convert_all_plays()


# ---------------------------------------------------------------------- the corpus

def test_38_plays_in_title_order_and_over_4_million_characters(plays):
    assert len(plays) == 38
    assert list(plays) == sorted(plays)
    assert "Hamlet" in plays and "Measure for Measure" in plays and "Henry IV, Part 1" in plays
    total = sum(len(play) for play in plays.values())
    assert 4_000_000 < total < 5_500_000


def test_no_markdown_debris_and_about_70_characters(plays):
    corpus = "".join(plays.values())
    for debris in ("**", "_", "\\", "#", "[", "]", "&amp;", "\u2014"):
        assert debris not in corpus, f"markdown debris {debris!r} left in the corpus"
    assert 65 <= len(set(corpus)) <= 80


def test_speeches_are_speaker_colon_then_lines_then_blank_line(plays):
    hamlet = plays["Hamlet"]
    assert hamlet.startswith("BERNARDO:\nWho's there?\n\nFRANCISCO:\nNay, answer me: stand, and unfold yourself.\n\n")
    assert "HAMLET:\nTo be, or not to be: that is the question:\n" in hamlet
    for play in plays.values():
        assert play.endswith("\n\n") and "\n\n\n" not in play
        for speech in play.split("\n\n")[:-1]:
            speaker, _, spoken = speech.partition(":\n")
            assert speaker and "\n" not in speaker and spoken, f"odd speech {speech[:80]!r}"


def test_spoken_text_drops_only_the_speaker_headings(plays):
    play = "KING HENRY VI:\nGood morrow, king.\nWhat news?\n\nWARWICK:\nNone: the king sleeps.\n\n"
    assert text.spoken_text(play) == "Good morrow, king.\nWhat news?\n\nNone: the king sleeps."
    hamlet = plays["Hamlet"]
    spoken = text.split_words(text.spoken_text(hamlet))
    headings = [speech.split("\n", 1)[0] for speech in hamlet.split("\n\n") if speech]
    assert len(text.split_words(hamlet)) == len(spoken) + len(text.split_words("\n".join(headings)))
    assert "HAMLET:" not in text.spoken_text(hamlet) and "To be, or not to be" in text.spoken_text(hamlet)


def test_stage_directions_are_dropped():
    markdown = ("# A Play\n\n## ACT I\n\n### SCENE I. A heath.\n\n_Enter A and\nB, talking_\n\n"
                "**A**  \n_\\[Aside]_  \nHello,\\-- there.  \n\n_Exit B_\n\nStill me.  \n\n"
                "**B**  \n*[Reads.]*  \nI say __\\[ ]_  \nyes\u2014no.\n")
    assert text.markdown_play_to_text(markdown) == "A:\nHello,-- there.\nStill me.\n\nB:\nI say\nyes--no.\n\n"


def test_load_shakespeare_joins_the_plays_and_uses_the_cache(private_cache, plays):
    corpus = text.load_shakespeare()
    assert corpus == "".join(plays.values())
    assert (private_cache / "shakespeare-plays.json").exists()
    assert text.load_plays() == plays


def test_a_damaged_cache_file_is_rebuilt(private_cache, plays, monkeypatch):
    conversions = []
    monkeypatch.setattr(text, "_convert_all_plays", lambda: conversions.append(1) or dict(plays))
    text.load_plays()
    cache_file = private_cache / "shakespeare-plays.json"
    content = cache_file.read_text(encoding="utf-8")
    # Change a few characters inside the body: the checksum no longer matches.
    damaged = content.replace("To be, or not to be", "To be, or NOT to be", 1)
    assert damaged != content
    cache_file.write_text(damaged, encoding="utf-8")
    assert text.load_plays() == plays
    assert cache_file.read_text(encoding="utf-8") == content
    # A truncated file and a file of garbage are rebuilt too.
    for broken in (content[: len(content) // 2], "not json at all", ""):
        cache_file.write_text(broken, encoding="utf-8")
        assert text.load_plays() == plays
    # And so is a cache written by an older converter.
    header, body = content.split("\n", 1)
    old = json.loads(header)
    old["converter"] = -1
    cache_file.write_text(json.dumps(old) + "\n" + body, encoding="utf-8")
    assert text.load_plays() == plays
    assert len(conversions) == 6, "each damaged file is converted again, exactly once"
    assert text.load_plays() == plays and len(conversions) == 6, "a good cache file is read, not rebuilt"
    assert not [p for p in private_cache.iterdir() if ".tmp" in p.name], "temporary files left behind"


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    assert text.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert text.cache_dir() == tmp_path / "xdg" / "transformers-step-by-step"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert text.cache_dir() == text.Path.home() / ".cache" / "transformers-step-by-step"


def test_validation_plays_are_whole_plays_and_about_a_tenth(plays):
    train, validation = text.train_validation_text()
    assert set(text.VALIDATION_PLAYS) <= set(plays)
    assert len(train) + len(validation) == sum(len(p) for p in plays.values())
    assert 0.08 < len(validation) / (len(train) + len(validation)) < 0.12
    for title in text.VALIDATION_PLAYS:
        assert plays[title] in validation and plays[title] not in train


# ---------------------------------------------------------------------- character tokenizer

def test_char_tokenizer_round_trip_on_the_corpus(plays):
    corpus = "".join(plays.values())
    tokenizer = text.CharTokenizer.from_text(corpus)
    assert tokenizer.vocab == sorted(set(corpus)) and len(tokenizer) == len(set(corpus))
    sample = plays["Macbeth"][:5000]
    ids = tokenizer.encode(sample)
    assert all(isinstance(i, int) for i in ids) and max(ids) < len(tokenizer)
    assert tokenizer.decode(ids) == sample
    assert np.array_equal(tokenizer.encode_array(sample), ids)
    assert tokenizer.decode(tokenizer.encode_array(sample)) == sample


def test_char_tokenizer_small_example():
    tokenizer = text.CharTokenizer.from_text("hello")
    assert tokenizer.vocab == ["e", "h", "l", "o"]
    assert tokenizer.encode("hole") == [1, 3, 2, 0]
    assert tokenizer.decode([3, 1]) == "oh"
    assert tokenizer.encode("") == [] and tokenizer.decode([]) == ""


@pytest.mark.parametrize("encode", ["encode", "encode_array"])
def test_unknown_character_error_names_it_and_explains(encode):
    tokenizer = text.CharTokenizer.from_text("hello world")
    with pytest.raises(ValueError) as error:
        getattr(tokenizer, encode)("hello, World!")
    message = str(error.value)
    assert "','" in message and "'W'" in message and "'!'" in message
    assert "training text" in message


# ---------------------------------------------------------------------- words

def test_split_words_rule():
    assert text.split_words(text.SENTENCE_PERSON) == [
        "the", "person", "executed", "the", "swap", "because", "it", "was", "trained", "to", "do", "so", "."]
    assert text.split_words("O'er the hill, 'tis to-night!") == [
        "o'er", "the", "hill", ",", "'", "tis", "to", "-", "night", "!"]
    assert text.split_words("HAMLET:\nTo be.", keep_newlines=True) == ["hamlet", ":", "\n", "to", "be", "."]


def test_word_tokenizer_vocabulary_unknown_and_round_trip():
    corpus = "the cat sat on the mat. The cat ran!"
    tokenizer = text.WordTokenizer.from_text(corpus)
    assert tokenizer.vocab[0] == "<unk>" and tokenizer.unk_id == 0
    assert tokenizer.vocab[1:3] == ["the", "cat"]  # most frequent first
    assert tokenizer.token_to_id["the"] == 1 and len(tokenizer) == len(set(text.split_words(corpus))) + 1
    assert tokenizer.decode(tokenizer.encode(corpus)) == "the cat sat on the mat. the cat ran!"
    assert tokenizer.encode("the dog") == [1, 0]
    assert tokenizer.decode(tokenizer.encode("the dog")) == "the <unk>"


def test_word_tokenizer_max_words_and_min_count():
    corpus = "a a a b b c"
    assert text.WordTokenizer.from_text(corpus, max_words=2).vocab == ["<unk>", "a", "b"]
    assert text.WordTokenizer.from_text(corpus, min_count=2).vocab == ["<unk>", "a", "b"]
    assert text.WordTokenizer.from_text(corpus, max_words=1, min_count=3).encode("c b a") == [0, 0, 1]


def test_word_tokenizer_round_trip_on_real_text(plays):
    sample = plays["Othello"][:20000]
    tokenizer = text.WordTokenizer.from_text(sample, keep_newlines=True)
    decoded = tokenizer.decode(tokenizer.encode(sample))
    assert text.split_words(decoded, keep_newlines=True) == text.split_words(sample, keep_newlines=True)
    assert decoded.startswith("roderigo:\ntush! never tell me;")


def test_random_strings_round_trip():
    rng = random.Random(0)
    alphabet = "abcxyz ,.!'-\n"
    for _ in range(50):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        chars = text.CharTokenizer.from_text(sample + "a")
        assert chars.decode(chars.encode(sample)) == sample
        words = text.WordTokenizer.from_text(sample)
        assert text.split_words(words.decode(words.encode(sample))) == text.split_words(sample)


def test_the_sentences_are_verbatim():
    assert text.SENTENCES == (
        "The person executed the swap because it was trained to do so.",
        "The person executed the swap because it was an effective hedge.")
    assert text.REFERENTS == ("person", "swap")
    assert text.sentence_words(text.SENTENCE_SWAP)[-1] == "hedge"


def test_missing_cache_folder_permission_still_works(monkeypatch, tmp_path, plays):
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where a folder should be")
    monkeypatch.setenv("COURSE_CACHE_DIR", os.fspath(blocked / "cache"))
    assert text.load_plays() == plays


def test_decode_names_a_batch_and_ids_outside_the_vocabulary():
    tokenizer = text.CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"one sequence of ids, got shape \(1, 2\).*out\[0\]"):
        tokenizer.decode(torch.tensor([[0, 1]]))                     # what generate returns
    with pytest.raises(ValueError, match="0 to 2 .*found 99"):
        tokenizer.decode([0, 99])
    with pytest.raises(ValueError, match="found -1"):
        tokenizer.decode([-1])                                       # not silently the last one
    with pytest.raises(ValueError, match=r"single id 1: write decode\(\[id\]\)"):
        tokenizer.decode(np.int64(1))
    words = text.WordTokenizer.from_text("the king and the queen")
    with pytest.raises(ValueError, match="one sequence of ids"):
        words.decode([[1, 2]])
    assert tokenizer.decode(torch.tensor([2, 0])) == "ca" and tokenizer.decode([]) == ""


# ---------------------------------------------------------------------- the plays as token ids (09)

def test_token_ids_are_encoded_once_then_read_from_the_cache(private_cache, monkeypatch):
    calls = []
    def small_split():
        calls.append(1)
        return "to be or not to be\n", "that is the question\n"
    monkeypatch.setattr(text, "train_validation_text", small_split)
    first = text.load_token_ids("char")
    second = text.load_token_ids("char")
    assert len(calls) == 1 and torch.equal(first.train, second.train)
    assert first.train.dtype == torch.uint8 and first.tokenizer.decode(first.validation.tolist()) == "that is the question\n"
    words = text.load_token_ids("word", max_words=3)
    assert words.vocab_size == 4 and words.train.dtype == torch.uint8        # 3 words and <unk>
    assert text.smallest_int_dtype(300) == torch.int16 and text.smallest_int_dtype(40_000) == torch.int32
    assert len(list(private_cache.glob("gpt-tokens-*.pt"))) == 2
    with pytest.raises(ValueError, match="'char' or 'word'"):
        text.load_token_ids("bytes")


def test_batches_are_windows_shifted_by_one():
    tokens = torch.arange(100, dtype=torch.int16)
    x, y = text.get_batch(tokens, batch_size=5, context=8, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8) and x.dtype == torch.int64
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)
    with pytest.raises(ValueError, match="too few"):
        text.get_batch(tokens[:8], 2, 8)


def test_evaluation_batches_are_fixed_and_whole():
    tokens = torch.arange(1000)
    first = list(text.evaluation_batches(tokens, 4, 10, 200))
    second = list(text.evaluation_batches(tokens, 4, 10, 200))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, second))
    assert all(x.shape == (4, 10) for x, _ in first) and sum(len(x) for x, _ in first) == 20


def test_evaluation_asking_for_more_than_the_text_gets_whole_batches_of_what_there_is():
    tokens = torch.arange(1000)                 # 99 windows of 10 (+1): 24 whole batches of 4
    batches = list(text.evaluation_batches(tokens, 4, 10, 10**6))
    assert all(x.shape == (4, 10) for x, _ in batches) and len(batches) == 24
    assert text.evaluation_windows(1000, 4, 10, 10**6) == 96
    with pytest.raises(ValueError, match="too few for one batch"):
        text.evaluation_windows(30, 4, 10, 100)


def test_a_two_dimensional_text_or_a_list_is_explained():
    with pytest.raises(ValueError, match=r"1-D torch tensor.*got \(1, 100\)"):
        text.get_batch(torch.arange(100)[None], 2, 8)
    with pytest.raises(ValueError, match="got list"):
        text.get_batch(list(range(100)), 2, 8)
