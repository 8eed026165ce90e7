"""Tests of helpers/itmodel.py: the small encoder of notebook 08 learns what "it" refers to."""
import pytest
import torch

from helpers import itdata, itmodel


@pytest.fixture(scope="module")
def splits():
    return itdata.make_splits()


@pytest.fixture(scope="module")
def trained(splits):
    # Seeded and small: about 100 steps, a few seconds on one CPU thread.
    model, losses = itmodel.train_it_model(splits.train, steps=100, seed=0, verbose=False)
    return model, losses


def test_trained_model_resolves_it_on_strictly_unseen_sentences(trained, splits):
    model, losses = trained
    assert losses[-1] < 0.1 < losses[0]
    assert itmodel.accuracy(model, splits.strictly_unseen) >= 0.98
    assert itmodel.accuracy(model, splits.partly_unseen) >= 0.98
    for sentence in itdata.course_sentences():
        explained = itmodel.explain(model, sentence)
        assert explained["answer"] == sentence.referent
        assert len(explained["attention_from_it"]) == 2
        assert all(abs(sum(row) - 1) < 1e-5 for row in explained["attention_from_it"])


def test_training_is_deterministic(trained, splits):
    _, losses = trained
    _, again = itmodel.train_it_model(splits.train[:500], steps=3, seed=0, verbose=False)
    _, same = itmodel.train_it_model(splits.train[:500], steps=3, seed=0, verbose=False)
    assert again == same


def test_training_leaves_the_thread_count_alone(splits):
    before = torch.get_num_threads()
    itmodel.train_it_model(splits.train[:50], steps=1, verbose=False)
    assert torch.get_num_threads() == before


def test_padding_cannot_change_the_answer(trained):
    model, _ = trained
    short = itdata.ItSentence("banker", "bought", "option", "was cheap", "active")
    long = itdata.ItSentence("banker", "bought", "option", "was priced below its value", "passive")
    alone = itdata.encode([short])
    together = itdata.encode([short, long])
    with torch.no_grad():
        _, weights_alone = model(alone["tokens"], alone["length"])
        _, weights_together = model(together["tokens"], together["length"])
    for a, b in zip(weights_alone, weights_together):
        torch.testing.assert_close(a[0, :, :9, :9], b[0, :, :9, :9])
        assert b[0, :, :, 9:].abs().max() == 0      # no query looks at the padding


def test_classifier_head_answers_with_a_noun_position(splits):
    model, _ = itmodel.train_it_model(splits.train, steps=2, head="classifier", verbose=False)
    batch = itdata.encode(splits.strictly_unseen[:20])
    loss, answers = itmodel.loss_and_answer(model, batch)
    assert loss.ndim == 0
    assert set(answers.tolist()) <= {1, 4, 6}


def test_bad_head_and_too_long_sentence_are_explained():
    with pytest.raises(ValueError, match="pointer"):
        itmodel.ItEncoder(10, head="softmax")
    model = itmodel.ItEncoder(10, max_len=4)
    with pytest.raises(ValueError, match="longer than max_len=4"):
        model(torch.zeros(1, 6, dtype=torch.long), torch.tensor([6]))


def test_widget_function_builds_the_sentence_and_answers(trained):
    from helpers import widgets
    model, _ = trained
    explained, summary = widgets.it_sentence_answer(model, "trader", "sold", "bond", "was tired", "passive")
    assert summary == 'the bond was sold by the trader because it was tired -> "it" = trader (right)'
    assert explained["words"][6] == "trader" and len(explained["attention_from_it"][1]) == 11


def test_widget_reads_a_typed_sentence_and_rejects_unknown_words(trained):
    from helpers import widgets
    model, _ = trained
    _, summary = widgets.it_text_answer(model, "The bond was sold by the trader because it was tired.")
    assert summary == 'the bond was sold by the trader because it was tired -> "it" = trader (right)'
    with pytest.raises(ValueError, match="does not know 'dog'"):
        widgets.it_text_answer(model, "the dog sold the bond because it was tired")
    box = widgets.it_sentence_widget(model)
    text, menus = box.children[0], box.children[2].children
    menus[1].value = "passive"                       # the voice menu rewrites the text box
    assert text.value == "the swap was executed by the person because it was trained to do so"
