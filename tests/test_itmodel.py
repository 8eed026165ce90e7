"""Tests of helpers/itmodel.py: the next-word model of notebook 08 and its baselines."""
import pytest
import torch

from helpers import itdata, itmodel

S = itdata.ItSentence


@pytest.fixture(scope="module")
def splits():
    return itdata.make_splits()


@pytest.fixture(scope="module")
def trained(splits):
    # The notebook's recipe, seed 0: about 5 s on one CPU thread.
    return itmodel.train_it_model(splits.train, seed=0, verbose=False)


def test_trained_model_passes_both_held_out_sets_and_flips(trained, splits):
    model, losses = trained
    assert losses[-1] < 0.5 * losses[0]
    assert itmodel.accuracy(model, splits.new_pairs) >= 0.95
    assert itmodel.accuracy(model, splits.new_voice) >= 0.95
    assert itmodel.flip_share(model, splits.new_pairs) >= 0.95
    assert itmodel.answers(model, itdata.course_sentences()) == ["person", "swap"]


def test_the_clause_blind_model_cannot_tell(splits):
    # Same model and recipe, clause words hidden: it cannot know, so it stays far from the real one.
    model, _ = itmodel.train_it_model(splits.train, seed=0, blank_clause=True, verbose=False, steps=150)
    assert itmodel.accuracy(model, splits.new_voice, blank_clause=True) <= 0.65


def test_training_is_deterministic(splits):
    _, first = itmodel.train_it_model(splits.train, seed=3, steps=5, verbose=False)
    _, again = itmodel.train_it_model(splits.train, seed=3, steps=5, verbose=False)
    _, other = itmodel.train_it_model(splits.train, seed=4, steps=5, verbose=False)
    assert first == again and first != other


def test_next_word_model_overfits_a_tiny_batch():
    tiny = [S("robot", "signed", "loan", "was cheap", "active"),
            S("robot", "signed", "loan", "was tired", "passive"),
            S("client", "sold", "bond", "was careful", "active"),
            S("client", "sold", "bond", "was too risky", "passive")]
    model, losses = itmodel.train_it_model(tiny, steps=150, batch_size=4, lr=3e-3, verbose=False)
    # Some next words stay a guess even here ("the" is followed by four different nouns), so the
    # loss cannot reach 0; the answers can be learned by heart.
    assert losses[-1] < 0.25 * losses[0]
    assert itmodel.answers(model, tiny) == ["loan", "robot", "client", "bond"]
    probabilities = itmodel.answer_probabilities(model, tiny)
    targets = itdata.encode(tiny)["target"]
    assert probabilities[torch.arange(4), targets].min() > 0.9


def test_the_loss_is_next_word_cross_entropy_on_the_answer_plus_the_words():
    torch.manual_seed(0)
    model = itmodel.make_model(seed=1)
    batch = itdata.encode([S("robot", "signed", "loan", "was cheap", "active")])
    logits, _ = model(batch["sequence"][:, :-1])
    targets = batch["sequence"][0, 1:]
    per_word = torch.nn.functional.cross_entropy(logits[0], targets, reduction="none")
    at = batch["answer_at"][0]
    words = [i for i in range(len(targets)) if i != at and targets[i] != 0]
    expected = per_word[at] + per_word[words].mean()
    torch.testing.assert_close(itmodel.next_word_loss(model, batch), expected)


def test_training_leaves_the_thread_count_alone(splits):
    before = torch.get_num_threads()
    itmodel.train_it_model(splits.train[:50], steps=1, verbose=False)
    assert torch.get_num_threads() == before


def test_padding_after_a_sentence_cannot_change_its_answer(trained):
    model, _ = trained
    short = S("banker", "bought", "option", "was cheap", "active")
    long = S("banker", "bought", "option", "was priced below its value", "passive")
    alone = itmodel.answer_probabilities(model, [short])
    together = itmodel.answer_probabilities(model, [short, long])
    torch.testing.assert_close(alone[0], together[0])


def test_baselines_on_a_hand_made_case():
    train = [S("robot", "signed", "loan", "was cheap", "active"),       # object clause, 2nd noun
             S("robot", "signed", "loan", "was tired", "passive"),      # agent clause, 2nd noun
             S("client", "sold", "bond", "was tired", "active")]        # agent clause, 1st noun
    remember = itmodel.memoriser(train)
    assert [remember(s) for s in train] == ["loan", "robot", "client"]
    unseen = S("client", "sold", "bond", "was cheap", "passive")        # "the bond was sold by the client"
    assert remember(unseen) == "bond"                                   # no entry: the first noun
    lookup = itmodel.clause_position_lookup(train)
    assert [lookup(s) for s in train] == ["loan", "robot", "client"]
    # "was cheap" was seen only in the active voice, referent second: in the passive it answers the
    # second noun again, the client, which is wrong (the bond is what was cheap).
    assert lookup(unseen) == "client" and unseen.referent == "bond"
    assert itmodel.first_noun(unseen) == "bond"
    assert itmodel.share_right([remember(s) for s in train + [unseen]], train + [unseen]) == 1.0
    assert itmodel.share_right([lookup(unseen)], [unseen]) == 0.0


def test_removing_heads_silences_them_and_puts_everything_back(trained, splits):
    model, _ = trained
    # Sentences of one length: '=' then sits at the same position, so with every head silenced its
    # input is the same token at the same position in every sentence.
    sentences = [s for s in splits.new_pairs if len(s.words) == 12][:40]
    before = itmodel.answer_probabilities(model, sentences)
    every_head = [(layer, head) for layer in range(2) for head in range(4)]
    with itmodel.heads_removed(model, every_head):
        silenced = itmodel.answer_probabilities(model, sentences)
        # With no head, no word can reach the position of '=': every sentence gets the same answer.
        torch.testing.assert_close(silenced, silenced[:1].expand_as(silenced))
    torch.testing.assert_close(itmodel.answer_probabilities(model, sentences), before)
    with itmodel.heads_removed(model, []):
        torch.testing.assert_close(itmodel.answer_probabilities(model, sentences), before)
    assert itmodel.accuracy_without_each_head(model, sentences).shape == (2, 4)


def test_attention_rows_are_causal_weights_and_match_the_answer(trained):
    model, _ = trained
    sentences = itdata.course_sentences()
    weights = itmodel.attention_weights(model, sentences)                 # (L, B, H, T, T)
    assert weights.shape[:3] == (2, 2, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    assert torch.triu(weights, diagonal=1).abs().max() == 0              # nothing looks ahead
    rows = itmodel.weights_from(model, sentences, "answer")              # (L, H, B, T)
    at = itdata.encode(sentences)["answer_at"]
    torch.testing.assert_close(rows[1, 2, 0], weights[1, 0, 2, at[0]])
    on_referent, on_other = itmodel.noun_shares(model, sentences)
    assert on_referent.shape == on_other.shape == (2, 4)
    assert ((on_referent + on_other) <= 1).all()          # more than half on both is impossible


def test_explain_reports_the_answer_its_probability_and_every_head(trained):
    model, _ = trained
    explained = itmodel.explain(model, itdata.course_sentences()[1])
    assert explained["answer"] == explained["referent"] == "swap"
    assert 0.5 < explained["probability"] <= 1
    assert explained["words"][-3:] == [";", "it", "="]
    assert len(explained["from_answer"]) == 2 and len(explained["from_answer"][0]) == 4
    assert len(explained["from_it"][1][3]) == len(explained["words"])


def test_widget_functions_build_the_sentence_and_answer(trained):
    from helpers import widgets
    model, _ = trained
    explained, summary = widgets.it_sentence_answer(model, "trader", "sold", "bond", "was tired", "passive")
    assert summary.startswith('the bond was sold by the trader because it was tired -> "it" = trader (p = ')
    assert summary.endswith("right)")
    _, typed = widgets.it_text_answer(model, "The bond was sold by the trader because it was tired.")
    assert typed == summary
    with pytest.raises(ValueError, match="does not know 'dog'"):
        widgets.it_text_answer(model, "the dog sold the bond because it was tired")
    box = widgets.it_sentence_widget(model)
    text, menus = box.children[0], box.children[2].children
    menus[1].value = "passive"                       # the voice menu rewrites the text box
    assert text.value == "the swap was executed by the person because it was trained to do so"


def test_head_evidence_names_heads_that_exist_and_matches_the_tables(trained, splits):
    model, _ = trained
    sentences = splits.new_pairs[:60]
    evidence = itmodel.head_evidence(model, sentences)
    on_referent, on_other = itmodel.noun_shares(model, sentences)
    without = itmodel.accuracy_without_each_head(model, sentences)
    assert evidence["on_referent"] - evidence["on_other"] == pytest.approx(float((on_referent - on_other).max()))
    assert evidence["accuracy_without_needed"] == pytest.approx(float(without.min()))
    layer, head = evidence["choosing_head"]
    assert 0 <= layer < 2 and 0 <= head < 4
    assert evidence["accuracy_without_choosing"] == pytest.approx(float(without[layer, head]))


def test_a_head_fixed_on_one_noun_is_not_counted_as_choosing(monkeypatch):
    # Hand-made weights from '=': head 0 always on the object (word 4), head 1 on the referent.
    sentences = [S("robot", "signed", "loan", "was cheap", "active"), S("robot", "signed", "loan", "was tired", "active")]
    rows = torch.zeros(1, 2, 2, 15)                       # (L, H, B, T)
    rows[0, 0, :, 4] = 1.0                                # the object, whatever the clause
    rows[0, 1, 0, 4] = rows[0, 1, 1, 1] = 1.0             # loan, then robot: the referents
    monkeypatch.setattr(itmodel, "weights_from", lambda model, sentences, where: rows)
    on_referent, on_other = itmodel.noun_shares(None, sentences)
    assert on_referent.tolist() == [[0.5, 1.0]] and on_other.tolist() == [[0.5, 0.0]]


def test_the_noun_clause_lookup_needs_only_pairs():
    train = [S("robot", "signed", "loan", "was cheap", "active"),       # loan was cheap; robot was not
             S("client", "sold", "bond", "was tired", "passive")]       # client was tired; bond was not
    lookup = itmodel.pair_lookup(train)
    assert lookup(S("client", "bought", "loan", "was cheap", "passive")) == "loan"   # loan marked True
    assert lookup(S("robot", "sold", "deal", "was cheap", "active")) == "deal"       # robot marked False
    assert lookup(S("banker", "sold", "deal", "was careful", "active")) == "banker"  # nothing known: first noun
