"""Tests of helpers/itdata.py: the "it" sentences of notebook 08 and their held-out guarantees."""
import collections

import pytest
import torch

from helpers import itdata
from helpers.text import SENTENCES, REFERENTS, sentence_words


@pytest.fixture(scope="module")
def splits():
    return itdata.make_splits()


def test_course_sentences_are_generated_verbatim():
    found = itdata.course_sentences()
    assert [s.words for s in found] == [sentence_words(t) for t in SENTENCES]
    assert [s.referent for s in found] == list(REFERENTS)


def test_both_course_sentences_are_strictly_unseen(splits):
    for sentence in itdata.course_sentences():
        assert sentence in splits.strictly_unseen
        assert sentence not in splits.train
        assert itdata.held_out_kinds(sentence, splits.held_out) == {"referent-clause", "agent-object", "verb-clause"}


def test_no_held_out_pair_appears_in_training(splits):
    for sentence in splits.train:
        for kind, pair in sentence.pairs().items():
            assert pair not in splits.held_out[kind], (sentence.text, kind)


def test_splits_cover_everything_once_and_test_sets_are_not_copies(splits):
    everything = itdata.all_sentences()
    assert len(everything) == 8 * 8 * 8 * 16 * 2
    parts = [set(splits.train), set(splits.partly_unseen), set(splits.strictly_unseen)]
    assert sum(len(p) for p in parts) == len(everything) == len(set(everything))
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(splits.strictly_unseen) >= 100


def test_every_word_and_both_voices_still_appear_in_training(splits):
    seen = {w for s in splits.train for w in s.words}
    used = {w for s in itdata.all_sentences() for w in s.words}
    assert used <= seen
    assert {s.voice for s in splits.train} == {"active", "passive"}


def test_active_only_training_keeps_passive_in_the_test_sets():
    active_only = itdata.make_splits(voices=("active",))
    assert {s.voice for s in active_only.train} == {"active"}
    assert {s.voice for s in active_only.strictly_unseen} == {"active", "passive"}


def test_clause_length_does_not_give_the_answer_away():
    def lengths(clauses):
        return collections.Counter(len(c.split()) for c in clauses)
    assert lengths(itdata.AGENT_CLAUSES) == lengths(itdata.OBJECT_CLAUSES)
    assert not set(itdata.AGENT_CLAUSES) & set(itdata.OBJECT_CLAUSES)


def test_voices_put_the_nouns_where_they_should_be():
    active = itdata.ItSentence("trader", "sold", "bond", "was too risky", "active")
    passive = itdata.ItSentence("trader", "sold", "bond", "was tired", "passive")
    assert active.text == "the trader sold the bond because it was too risky"
    assert passive.text == "the bond was sold by the trader because it was tired"
    assert (active.referent, active.referent_position, active.it_position) == ("bond", 4, 6)
    assert (passive.referent, passive.referent_position, passive.it_position) == ("trader", 6, 8)
    assert [active.words[i] for i in active.noun_positions] == ["trader", "bond"]
    assert [passive.words[i] for i in passive.noun_positions] == ["bond", "trader"]


def test_encode_pads_on_the_right_and_keeps_positions():
    sentences = [itdata.ItSentence("robot", "signed", "loan", "was cheap", "active"),
                 itdata.ItSentence("robot", "signed", "loan", "was trained to do so", "passive")]
    vocab = itdata.vocabulary()
    batch = itdata.encode(sentences, vocab)
    assert batch["tokens"].shape == (2, 14)
    assert batch["length"].tolist() == [9, 14]
    assert batch["tokens"][0, 9:].eq(0).all() and vocab[0] == "<pad>"
    assert batch["it"].tolist() == [6, 8] and batch["referent"].tolist() == [4, 6]
    assert batch["second_noun"].tolist() == [True, True]
    assert batch["second_position"].tolist() == [4, 6]
    blank = itdata.encode(sentences, vocab, blank_nouns=True)["tokens"]
    assert vocab[blank[0, 1]] == vocab[blank[0, 4]] == "<blank>"
    assert torch.equal(blank[:, 7:], batch["tokens"][:, 7:])


def test_sentence_from_choices_explains_a_bad_choice():
    assert itdata.sentence_from_choices("person", "executed", "swap", "was tired", "active").referent == "person"
    with pytest.raises(ValueError, match="unknown agent 'dog'"):
        itdata.sentence_from_choices("dog", "executed", "swap", "was tired", "active")


def test_sentence_from_text_reads_both_voices_and_the_course_sentences():
    from helpers.text import SENTENCES

    assert itdata.sentence_from_text(SENTENCES[0]) == itdata.course_sentences()[0]
    assert itdata.sentence_from_text(SENTENCES[1]).referent == "swap"
    passive = itdata.ItSentence("trader", "sold", "bond", "was too risky", "passive")
    assert itdata.sentence_from_text(passive.text.upper() + ".") == passive


def test_sentence_from_text_names_unknown_words_and_the_shape():
    with pytest.raises(ValueError, match="does not know 'dog'.*agents \\(person"):
        itdata.sentence_from_text("the dog executed the swap because it was tired")
    with pytest.raises(ValueError, match="could not read the sentence"):
        itdata.sentence_from_text("the swap executed the person because it was tired")
    with pytest.raises(ValueError, match="does not know '<blank>'"):
        itdata.sentence_from_text("the <blank> executed the swap because it was tired")


def test_bad_sentences_are_named_not_misread():
    with pytest.raises(ValueError, match="unknown clause 'was an efective hedge'; choose one of"):
        itdata.ItSentence("person", "executed", "swap", "was an efective hedge", "active")
    with pytest.raises(ValueError, match="unknown agent 'dog'"):
        itdata.ItSentence("dog", "executed", "swap", "was trained to do so", "active")
    with pytest.raises(TypeError, match="sentence_from_text"):
        itdata.encode("the person executed the swap because it was trained to do so")
    with pytest.raises(TypeError, match=r"\[sentence\]"):
        itdata.encode([])
