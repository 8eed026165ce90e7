"""The exercises of notebook 08: each reference passes, a typical mistake fails with a clear message."""
import torch

from helpers import exercises


def test_references_pass(capsys):
    for exercise_id in ("08.referent", "08.passive", "08.pointing_loss", "08.answer"):
        exercise = exercises._get(exercise_id)
        assert exercises.check(exercise_id, exercise.reference)
    assert "[ok]" in capsys.readouterr().out


def test_typical_mistakes_fail_helpfully(capsys):
    # Always the first noun: right for agent clauses only.
    assert not exercises.check("08.referent", lambda agent, obj, clause: agent)
    # Active voice instead of passive.
    assert not exercises.check("08.passive", lambda a, v, o, c: f"the {a} {v} the {o} because it {c}")
    # Forgot the minus sign.
    assert not exercises.check("08.pointing_loss", lambda w, r: torch.log(w[torch.arange(len(r)), r]).mean())
    # Looked at the row of position 0 instead of "it".
    assert not exercises.check("08.answer", lambda w, it: w.mean(dim=1)[:, 0].argmax(dim=-1))
    out = capsys.readouterr().out
    assert out.count("[not yet]") == 4 and "expected" in out


def test_a_loss_returned_as_a_python_number_gets_a_hint(capsys):
    right_but_a_float = lambda w, r: -torch.log(w[torch.arange(len(r)), r]).mean().item()
    assert not exercises.check("08.pointing_loss", right_but_a_float)
    out = capsys.readouterr().out
    assert "got the right value as a Python float" in out and "without .item()" in out
    assert not exercises.check("08.pointing_loss", lambda w, r: 0.0)
    assert "got a number as a Python float" in capsys.readouterr().out
