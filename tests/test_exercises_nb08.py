"""The exercises of notebook 08: each reference passes, a typical mistake fails with a clear message."""
from helpers import exercises


def test_references_pass(capsys):
    for exercise_id in ("08.referent", "08.new_voice", "08.most_changed_head", "08.answer_ids"):
        exercise = exercises._get(exercise_id)
        assert exercises.check(exercise_id, exercise.reference)
    assert capsys.readouterr().out.count("[ok]") == 4


def test_typical_mistakes_fail_helpfully(capsys):
    # Always the first noun: right for agent clauses only.
    assert not exercises.check("08.referent", lambda agent, obj, clause: agent)
    # Looked at the clause alone, not at its voice.
    assert not exercises.check("08.new_voice", lambda train, candidates: [
        s for s in candidates if s.clause not in {t.clause for t in train}])
    # Largest change in one direction only (no absolute value).
    assert not exercises.check("08.most_changed_head", lambda before, after: divmod(
        int((after - before).sum(-1).argmax()), after.shape[1]))
    # The last position instead of the position of '='.
    assert not exercises.check("08.answer_ids", lambda logits, answer_at: logits[:, -1].argmax(dim=-1))
    out = capsys.readouterr().out
    assert out.count("[not yet]") == 4 and "expected" in out


def test_head_order_matters(capsys):
    # (head, layer) instead of (layer, head): found on inputs with more heads than layers.
    swapped = lambda before, after: tuple(reversed(divmod(
        int((after - before).abs().sum(-1).argmax()), after.shape[1])))
    assert not exercises.check("08.most_changed_head", swapped)
    assert "[not yet]" in capsys.readouterr().out
