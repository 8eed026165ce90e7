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


def test_both_course_sentences_are_in_the_new_pairs_set(splits):
    for sentence in itdata.course_sentences():
        assert sentence in splits.new_pairs
        assert sentence not in splits.train
        assert itdata.held_out_kinds(sentence, splits.held_out) == {"referent-clause", "agent-object", "verb-clause"}


def test_no_held_out_pair_appears_in_training(splits):
    for sentence in splits.train:
        for kind, pair in sentence.pairs().items():
            assert pair not in splits.held_out[kind], (sentence.text, kind)


def test_new_pairs_hold_only_pairs_training_never_saw(splits):
    trained = {(kind, pair) for s in splits.train for kind, pair in s.pairs().items()}
    for sentence in splits.new_pairs:
        assert not any(item in trained for item in sentence.pairs().items()), sentence.text
    # ... while its (clause, voice) is one training shows, so this set tests memory, not voice.
    trained_voices = {(s.clause, s.voice) for s in splits.train}
    assert all((s.clause, s.voice) in trained_voices for s in splits.new_pairs)
    assert len(splits.new_pairs) >= 100


def test_new_voice_holds_a_clause_in_the_voice_training_never_showed(splits):
    trained_voices = {(s.clause, s.voice) for s in splits.train}
    assert splits.new_voice and not any((s.clause, s.voice) in trained_voices for s in splits.new_voice)
    # Every such clause is trained in the other voice; two clauses of each kind, both voices held out.
    for clause, voice in splits.voice_held_out:
        other = "passive" if voice == "active" else "active"
        assert (clause, other) in trained_voices
    kinds = collections.Counter(c in itdata.AGENT_CLAUSES for c, _ in splits.voice_held_out)
    assert kinds == {True: 2, False: 2}
    assert {v for _, v in splits.voice_held_out} == {"active", "passive"}
    assert {(s.clause, s.voice) for s in splits.new_voice} == splits.voice_held_out


def test_splits_do_not_overlap_and_are_not_copies(splits):
    parts = [set(splits.train), set(splits.new_pairs), set(splits.new_voice)]
    assert sum(map(len, parts)) == len(set().union(*parts))
    assert len(splits.train) == len(parts[0])


def test_every_word_and_both_voices_still_appear_in_training(splits):
    seen = {w for s in splits.train for w in s.words}
    used = {w for s in itdata.all_sentences() for w in s.words}
    assert used <= seen
    assert {s.voice for s in splits.train} == {"active", "passive"}


def test_another_seed_holds_out_other_pairs_and_voices():
    a, b = itdata.make_splits(seed=0), itdata.make_splits(seed=1)
    assert a.held_out != b.held_out
    assert itdata.course_sentences()[0] in b.new_pairs


def test_counterfactual_swaps_the_clause_kind_and_flips_the_referent():
    for sentence in itdata.all_sentences()[::97]:
        swapped = itdata.counterfactual(sentence)
        assert swapped.referent != sentence.referent
        assert (swapped.agent, swapped.verb, swapped.object, swapped.voice) == (
            sentence.agent, sentence.verb, sentence.object, sentence.voice)
        assert len(swapped.words) == len(sentence.words)
        assert itdata.counterfactual(swapped) == sentence
    person, swap = itdata.course_sentences()
    assert itdata.counterfactual(person).clause == "was priced below its value"
    assert itdata.counterfactual(swap).clause == "had a good reason"


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


def test_encode_adds_the_prompt_and_the_answer_and_pads_on_the_right():
    sentences = [itdata.ItSentence("robot", "signed", "loan", "was cheap", "active"),
                 itdata.ItSentence("robot", "signed", "loan", "was trained to do so", "passive")]
    vocab = itdata.vocabulary()
    batch = itdata.encode(sentences, vocab)
    sequence = batch["sequence"]
    assert sequence.shape == (2, 18) and vocab[0] == "<pad>"
    words = [[vocab[i] for i in row if i] for row in sequence.tolist()]
    assert words[0] == "the robot signed the loan because it was cheap ; it = loan".split()
    assert words[1] == "the loan was signed by the robot because it was trained to do so ; it = robot".split()
    assert sequence[0, 13:].eq(0).all()
    assert batch["answer_at"].tolist() == [11, 16]
    assert [vocab[sequence[i, batch["answer_at"][i]]] for i in range(2)] == ["=", "="]
    assert [vocab[i] for i in batch["target"]] == ["loan", "robot"]
    assert batch["it"].tolist() == [6, 8] and batch["referent"].tolist() == [4, 6]
    assert batch["other"].tolist() == [1, 1]
    blank = itdata.encode(sentences, vocab, blank_clause=True)["sequence"]
    assert [vocab[i] for i in blank[0, 7:9]] == ["<blank>", "<blank>"]
    assert torch.equal(blank[:, :7], sequence[:, :7])
    assert torch.equal(blank[0, 9:], sequence[0, 9:])


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
    with pytest.raises(ValueError, match="does not know ';', '='"):
        itdata.sentence_from_text("the person executed the swap because it was tired ; it =")


def test_bad_sentences_are_named_not_misread():
    with pytest.raises(ValueError, match="unknown clause 'was an efective hedge'; choose one of"):
        itdata.ItSentence("person", "executed", "swap", "was an efective hedge", "active")
    with pytest.raises(ValueError, match="unknown agent 'dog'"):
        itdata.ItSentence("dog", "executed", "swap", "was trained to do so", "active")
    with pytest.raises(TypeError, match="sentence_from_text"):
        itdata.encode("the person executed the swap because it was trained to do so")
    with pytest.raises(TypeError, match=r"\[sentence\]"):
        itdata.encode([])
