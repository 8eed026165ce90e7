"""The exercise checker (helpers/exercises/__init__.py): right answers pass, wrong ones get a message
that helps, and nothing a learner writes can crash the notebook. Every registered exercise's own
solution passes its check."""
import re

import numpy as np
import pytest
import torch

from helpers import exercises
from helpers.exercises import Exercise, check, solution

ROW_SUMS = exercises.register(Exercise(
    id="99.row_sums", task="sum each row", reference=lambda x: x.sum(axis=-1),
    make_inputs=lambda rng: (rng.normal(size=(int(rng.integers(2, 5)), 3)),),
    solution="def row_sums(x):\n    return x.sum(axis=-1)",
))
ANSWER_SHAPE = exercises.register(Exercise(
    id="99.shape", task="the shape of a batch", reference=(2, 11, 8), solution="(2, 11, 8)"))
TORCH_DOUBLE = exercises.register(Exercise(
    id="99.double", task="double a tensor", reference=lambda t: 2 * t,
    make_inputs=lambda rng: (torch.tensor(rng.normal(size=(3, 4)), dtype=torch.float32),),
    solution="def double(t):\n    return 2 * t"))


def run_check(capsys, exercise_id, answer):
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def test_a_right_function_passes(capsys):
    ok, out = run_check(capsys, "99.row_sums", lambda x: np.sum(x, axis=1))
    assert ok and out.startswith("[ok] 99.row_sums") and "5 random inputs" in out


def test_wrong_values_name_the_place_and_both_values(capsys):
    ok, out = run_check(capsys, "99.row_sums", lambda x: x.sum(axis=-1) + 1)
    assert not ok and "[not yet]" in out and "values differ" in out and "index (0,)" in out


def test_wrong_shape_names_both_shapes(capsys):
    ok, out = run_check(capsys, "99.row_sums", lambda x: x.sum(axis=0))
    assert not ok and "expected shape (" in out and "got shape (3,)" in out
    assert "NumPy array of shape" in out  # the inputs are described too


def test_an_exception_is_reported_not_raised(capsys):
    def broken(x):
        return x @ np.ones((5, 5))
    ok, out = run_check(capsys, "99.row_sums", broken)
    assert not ok and "raised ValueError" in out
    line = broken.__code__.co_firstlineno + 1                 # the line of the @, in this file
    assert f"line {line} of your function's cell" in out      # the learner's line, not NumPy's


def test_short_shapes_are_shown_with_their_sizes(capsys):
    from helpers.exercises import describe
    assert describe((2, 1, 4)) == "tuple (2, 1, 4)" and describe([3, 0]) == "list [3, 0]"
    assert describe(tuple(range(20))) == "tuple of length 20"
    ok, out = run_check(capsys, "01.broadcast_shape", lambda a, b: tuple(a))
    assert not ok and "on inputs: tuple (" in out and "got tuple (" in out


def test_unwritten_function_and_missing_return(capsys):
    def unwritten(x):
        raise NotImplementedError
    ok, out = run_check(capsys, "99.row_sums", unwritten)
    assert not ok and "not written yet" in out
    ok, out = run_check(capsys, "99.row_sums", lambda x: None)
    assert not ok and "forget to `return`" in out


def test_wrong_type_of_answer(capsys):
    ok, out = run_check(capsys, "99.row_sums", 42)
    assert not ok and "wants a function" in out
    ok, out = run_check(capsys, "99.double", lambda t: (2 * t).numpy())
    assert not ok and "torch tensor" in out and "NumPy array" in out
    ok, out = run_check(capsys, "99.row_sums", lambda x: list(x.sum(axis=-1)))
    assert not ok and "expected NumPy array" in out


def test_an_answer_that_changes_its_input_cannot_fool_the_check(capsys):
    def sneaky(x):
        x[:] = 0
        return x.sum(axis=-1)
    ok, out = run_check(capsys, "99.row_sums", sneaky)
    assert not ok


def test_value_exercises(capsys):
    assert run_check(capsys, "99.shape", (2, 11, 8))[0]
    ok, out = run_check(capsys, "99.shape", (2, 8, 11))
    assert not ok and "item 1" in out
    ok, out = run_check(capsys, "99.shape", ...)
    assert not ok and "not answered yet" in out


def test_unknown_exercise_is_a_message_not_a_crash(capsys):
    ok, out = run_check(capsys, "99.nope", 1)
    assert not ok and "There is no exercise '99.nope'" in out and "99.row_sums" in out


def test_the_result_is_truthy_and_silent_in_a_notebook():
    result = check("99.shape", (2, 11, 8))
    assert result and result == True and repr(result) == "True"  # noqa: E712
    assert result._ipython_display_() is None
    assert not check("99.shape", (1,))


def test_solution_is_folded_html_and_plain_text():
    shown = solution("99.row_sums")
    assert "<details>" in shown._repr_html_() and "return x.sum(axis=-1)" in shown._repr_html_()
    assert repr(shown).startswith("# Solution to 99.row_sums")


def test_ids_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        exercises.register(Exercise(id="99.shape", task="x", reference=1, solution="1"))


def test_every_registered_exercise_accepts_its_own_reference(capsys):
    for exercise_id in exercises.available():
        exercise = exercises._get(exercise_id)
        if exercise.make_inputs is not None:
            assert check(exercise_id, exercise.reference), capsys.readouterr().out
        elif not exercise.extra.get("reference_is_not_an_answer"):
            assert check(exercise_id, exercise.reference), capsys.readouterr().out
        assert exercise.id.split(".")[0].isdigit(), f"{exercise_id}: ids start with the notebook number"


def _solution_namespace():
    import math

    import helpers
    from helpers.text import SENTENCES, sentence_words
    return {"np": np, "torch": torch, "nn": torch.nn, "F": torch.nn.functional, "math": math,
            "helpers": helpers, "SENTENCES": SENTENCES, "sentence_words": sentence_words}


def test_every_revealed_solution_runs_and_passes(capsys):
    """What `solution(...)` shows a learner must itself pass the check, in every notebook."""
    real = [i for i in exercises.available() if not i.startswith("99.")]
    assert len(real) >= 30
    namespaces = {}  # one per notebook: a later solution may call an earlier one, as in the notebook
    for exercise_id in real:
        exercise = exercises._get(exercise_id)
        namespace = namespaces.setdefault(exercise_id.split(".")[0], _solution_namespace())
        if exercise.make_inputs is None:  # a value: an expression, or code that assigns it last
            try:
                answer = eval(exercise.solution, namespace)
            except SyntaxError:
                exec(exercise.solution, namespace)
                assigned = re.findall(r"^(\w+)\s*=", exercise.solution, re.M)[-1]
                answer = namespace[assigned]
        else:
            exec(exercise.solution, namespace)
            name = exercise.solution.split("def ", 1)[1].split("(", 1)[0]
            answer = namespace[name]
        assert check(exercise_id, answer), f"{exercise_id}: {capsys.readouterr().out}"


MISTAKEN = exercises.register(Exercise(
    id="99.row_means", task="the mean of each row", reference=lambda x: x.mean(axis=-1),
    make_inputs=lambda rng: (rng.normal(size=(2, 3)),),
    mistakes=((lambda x: x.mean(axis=0), "mean along the last axis (axis=-1), one number per row"),),
    solution="def row_means(x):\n    return x.mean(axis=-1)"))


def test_a_failing_check_shows_the_input_values_so_it_can_be_reproduced(capsys):
    ok, out = run_check(capsys, "99.row_sums", lambda x: x.sum(axis=-1) + 1)
    x = exercises._get("99.row_sums").make_inputs(np.random.default_rng(1000))[0]   # the first trial's input
    assert not ok and "input 1: [[" in out
    assert f"{round(float(x[0, 0]), 3):g}" in out and f"{round(float(x[-1, -1]), 3):g}" in out


def test_large_inputs_are_summarised_not_printed():
    from helpers.exercises import show_value
    text = show_value(np.arange(1000.0))
    assert "1000 values" in text and "min 0" in text and "max 999" in text and len(text) < 120
    assert show_value(np.array([1.23456, -2.0])) == "[ 1.235, -2.   ]"
    assert show_value(torch.tensor([0.5, 1.0])) == "[0.5, 1. ]"
    assert show_value((2, 3)) == "(2, 3)"


def test_a_naive_softmax_gets_the_hint_to_subtract_the_maximum(capsys):
    def naive(x):
        return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    ok, out = run_check(capsys, "04.stable_softmax", naive)
    assert not ok and "got nan" in out
    assert "hint: " in out and "subtract the row's maximum first (notebook 04, numerical stability)" in out
    assert "input 1: [[" in out                                 # and the scores that overflowed


def test_a_registered_mistake_gets_its_own_hint_and_other_errors_none(capsys):
    ok, out = run_check(capsys, "99.row_means", lambda x: x.mean(axis=0))
    assert not ok and "hint: mean along the last axis" in out
    ok, out = run_check(capsys, "99.row_means", lambda x: x.mean(axis=-1) * 2)
    assert not ok and "hint" not in out


def test_the_message_stays_short(capsys):
    ok, out = run_check(capsys, "99.row_sums", lambda x: x.sum(axis=-1) + 1)
    assert len(out.splitlines()) <= 8 and max(len(line) for line in out.splitlines()[1:]) <= 120
