"""Exercises at the end of each notebook: ``check(exercise_id, answer)`` and ``solution(exercise_id)``.

A check never crashes the notebook. It runs the learner's function (or looks at their value) on a
few seeded random inputs, compares with a reference and prints one line: a success, or what was
expected, what came back, with shapes and dtypes, the inputs' values (small ones in full, large ones
summarised) so the failure can be reproduced, and a hint when the answer matches a known mistake.
It returns True or False.

Exercises are registered per notebook, in ``helpers/exercises/nbNN_*.py``, with ``register``.
See CONTRIBUTING.md, "Register an exercise". Built in notebook 00_welcome (how to use them).
"""
import html
import importlib
import os
import pkgutil
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

__all__ = ["check", "solution", "register", "Exercise", "available", "compare_values", "show_value"]


@dataclass
class Exercise:
    """One exercise.

    id: short and stable, "NN.name" (NN is the notebook number).
    task: one sentence the learner sees in messages.
    reference: the right function (when `make_inputs` is given) or the right value.
    make_inputs: rng -> tuple of arguments; when given, the answer must be a function.
    solution: source code a learner can reveal.
    compare: (expected, got) -> None if they agree, else a message. Default: `compare_values`.
    trials: how many seeded random inputs a function is tried on.
    mistakes: (wrong_function, hint) pairs: when an answer gives what wrong_function gives on the
        same inputs, the message adds the hint. Hints every exercise shares are in `_GENERAL_MISTAKES`.
    """
    id: str
    task: str
    reference: Any
    solution: str
    make_inputs: Optional[Callable] = None
    compare: Optional[Callable] = None
    trials: int = 5
    mistakes: tuple = ()
    extra: dict = field(default_factory=dict)


_REGISTRY = {}
_LOADED = False


def register(exercise):
    """Add an exercise to the registry (called at import time by the nbNN_*.py modules)."""
    if exercise.id in _REGISTRY and _REGISTRY[exercise.id] is not exercise:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    _REGISTRY[exercise.id] = exercise
    return exercise


def _load_all():
    global _LOADED
    if not _LOADED:
        for module in pkgutil.iter_modules(__path__):
            if module.name.startswith("nb"):
                importlib.import_module(f"{__name__}.{module.name}")
        _LOADED = True


def available():
    """Sorted ids of every registered exercise."""
    _load_all()
    return sorted(_REGISTRY)


def _get(exercise_id):
    _load_all()
    if exercise_id not in _REGISTRY:
        near = [i for i in _REGISTRY if i.split(".")[0] == str(exercise_id).split(".")[0]]
        hint = f" Exercises of this notebook: {', '.join(sorted(near))}." if near else ""
        raise KeyError(f"There is no exercise {exercise_id!r}.{hint}")
    return _REGISTRY[exercise_id]


# ---------------------------------------------------------------- describing and comparing values

def describe(value):
    """A short description of a value for messages: type, shape and dtype where it has them."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        kind = "torch tensor" if type(value).__module__.startswith("torch") else "NumPy array"
        return f"{kind} of shape {tuple(value.shape)}, dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        if len(value) <= 8 and all(isinstance(v, (int, float, np.integer, np.floating)) for v in value):
            return f"{type(value).__name__} {tuple(value) if isinstance(value, tuple) else list(value)}"
        return f"{type(value).__name__} of length {len(value)}"
    if value is None:
        return "None (did the function forget to `return`?)"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"


def _as_numpy(value):
    if type(value).__module__.startswith("torch"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


def compare_values(expected, got, rtol=1e-4, atol=1e-5):
    """None if `got` matches `expected`, else a message saying how it differs.

    Arrays and tensors: same kind (NumPy vs torch), same shape, close values. Sequences: item by
    item. Anything else: equality (floats within tolerance).
    """
    if _is_array(expected):
        if not _is_array(got):
            return f"expected {describe(expected)}, got {describe(got)}"
        if type(expected).__module__.split(".")[0] != type(got).__module__.split(".")[0]:
            return f"expected a {describe(expected)}, got a {describe(got)}"
        if tuple(expected.shape) != tuple(got.shape):
            return f"expected shape {tuple(expected.shape)}, got shape {tuple(got.shape)}"
        want, have = _as_numpy(expected), _as_numpy(got)
        if want.dtype == bool or have.dtype == bool:
            wrong = want != have
        else:
            wrong = ~np.isclose(have.astype(float), want.astype(float), rtol=rtol, atol=atol, equal_nan=True)
        if wrong.any():
            where = tuple(int(i) for i in np.argwhere(wrong)[0])
            return (f"the values differ in {int(wrong.sum())} of {wrong.size} places; first at index {where}: "
                    f"expected {want[where].item()!r}, got {have[where].item()!r}")   # 0.5, not np.float64(0.5)
        return None
    if isinstance(expected, (list, tuple)) and not isinstance(expected, str):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"expected {describe(expected)}, got {describe(got)}"
        for i, (want, have) in enumerate(zip(expected, got)):
            problem = compare_values(want, have, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, float) or isinstance(got, float):
        try:
            if np.isclose(float(got), float(expected), rtol=rtol, atol=atol):
                return None
        except (TypeError, ValueError):
            pass
        return f"expected {expected!r}, got {describe(got)}"
    if expected != got:
        return f"expected {expected!r}, got {describe(got)}"
    return None


def _describe_inputs(args):
    return ", ".join(describe(a) for a in args)


def show_value(value, max_items=36, decimals=3):
    """A value a learner can paste back: small arrays in full (rounded), large ones summarised."""
    if _is_array(value):
        array = _as_numpy(value)
        if array.size > max_items:
            if array.size == 0 or array.dtype == bool or not np.issubdtype(array.dtype, np.number):
                return f"{array.size} values (too many to show)"
            return (f"{array.size} values (too many to show): min {array.min():.{decimals}g}, "
                    f"max {array.max():.{decimals}g}, mean {array.mean():.{decimals}g}")
        if np.issubdtype(array.dtype, np.floating):
            array = np.round(array, decimals)
        return np.array2string(array, separator=", ", max_line_width=100, suppress_small=True,
                               precision=decimals, floatmode="maxprec")
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _show_inputs(args):
    lines = [f"    input {i + 1}: " + show_value(a).replace("\n", "\n" + " " * 13) for i, a in enumerate(args)]
    return "\n" + "\n".join(lines)


def _has_non_finite(value):
    return _is_array(value) and _as_numpy(value).dtype.kind in "fc" and not np.isfinite(_as_numpy(value)).all()


def _overflow(args, expected, got):
    """nan or inf where the answer is finite, on inputs large enough for exp to overflow."""
    large = any(_is_array(a) and _as_numpy(a).dtype.kind == "f" and np.nanmax(np.abs(_as_numpy(a)), initial=0) > 80
                for a in args)
    return large and _has_non_finite(got) and not _has_non_finite(expected)


# (test(args, expected, got) -> bool, hint): mistakes learners make in many exercises.
_GENERAL_MISTAKES = [
    (_overflow, "exp of a large score overflowed to inf (and inf / inf is nan): subtract the row's "
                "maximum first (notebook 04, numerical stability)"),
]


def _hint(exercise, args, expected, got, compare):
    """The hint of the first known mistake the answer matches, or None."""
    for wrong_function, hint in exercise.mistakes:
        try:
            with np.errstate(all="ignore"):
                wrong = wrong_function(*_copy_args(args))
            if compare(wrong, got) is None:
                return hint
        except Exception:  # a mistake that cannot run on these inputs simply does not match
            continue
    for test, hint in _GENERAL_MISTAKES:
        try:
            if test(args, expected, got):
                return hint
        except Exception:
            continue
    return None


def _copy_args(args):
    # Each side gets its own copy, so an answer that changes its inputs in place cannot fool the check.
    out = []
    for a in args:
        if hasattr(a, "clone"):
            out.append(a.clone())
        elif hasattr(a, "copy"):
            out.append(a.copy())
        else:
            out.append(a)
    return tuple(out)


def _where_it_failed(err, answer):
    """The line in the learner's own cell where the error came from, not a line deep in NumPy."""
    frames = traceback.extract_tb(err.__traceback__)
    own_file = getattr(getattr(answer, "__code__", None), "co_filename", None)
    own = [frame for frame in frames if frame.filename == own_file]
    if own:
        return f"line {own[-1].lineno} of your function's cell"
    return f"in {os.path.basename(frames[-1].filename)}, line {frames[-1].lineno}"


def _check_function(exercise, answer):
    if not callable(answer):
        return f"this exercise wants a function, but got {describe(answer)}"
    compare = exercise.compare or compare_values
    for trial in range(exercise.trials):
        args = exercise.make_inputs(np.random.default_rng(1000 + trial))
        expected = exercise.reference(*_copy_args(args))
        try:
            with np.errstate(all="ignore"):   # an overflow is reported below, not as a warning
                got = answer(*_copy_args(args))
        except NotImplementedError:
            return "not written yet (the function still raises NotImplementedError)"
        except Exception as err:  # the learner's code may raise anything: report it, do not crash
            return (f"your function raised {type(err).__name__}: {err} ({_where_it_failed(err, answer)}) "
                    f"on inputs: {_describe_inputs(args)}{_show_inputs(args)}")
        problem = compare(expected, got)
        if problem:
            hint = _hint(exercise, args, expected, got, compare)
            return (f"on inputs: {_describe_inputs(args)}: {problem}{_show_inputs(args)}"
                    + (f"\n    hint: {hint}" if hint else ""))
    return None


def _check_value(exercise, answer):
    if answer is Ellipsis:
        return "not answered yet (replace the ... with your answer)"
    compare = exercise.compare or compare_values
    try:
        return compare(exercise.reference, answer)
    except Exception as err:  # a strange answer must not crash the comparison either
        return f"could not compare your answer ({describe(answer)}): {type(err).__name__}: {err}"


class CheckResult:
    """True or False, but silent in a notebook: the printed line is the message, not a bare `True`."""

    def __init__(self, passed):
        self.passed = bool(passed)

    def __bool__(self):
        return self.passed

    def __eq__(self, other):
        return self.passed == bool(other)

    def __hash__(self):
        return hash(self.passed)

    def __repr__(self):
        return repr(self.passed)

    def _ipython_display_(self):
        pass  # the line check() printed says it all


def check(exercise_id, answer):
    """Check a learner's answer; print one line; return a truthy result if right. Never raises."""
    try:
        exercise = _get(exercise_id)
    except KeyError as err:
        print(f"[?] {err.args[0]}")
        return CheckResult(False)
    if exercise.make_inputs is not None:
        problem = _check_function(exercise, answer)
        tried = f" on {exercise.trials} random inputs"
    else:
        problem = _check_value(exercise, answer)
        tried = ""
    if problem is None:
        print(f"[ok] {exercise.id}: correct{tried}. Well done!")
        return CheckResult(True)
    print(f"[not yet] {exercise.id} ({exercise.task}): {problem}")
    return CheckResult(False)


class Solution:
    """A solution that stays folded until the learner clicks it (HTML), or prints as plain code."""

    def __init__(self, exercise):
        self.exercise = exercise

    def __repr__(self):
        return f"# Solution to {self.exercise.id}: {self.exercise.task}\n{self.exercise.solution.strip()}"

    def _repr_html_(self):
        code = html.escape(self.exercise.solution.strip())
        return (f"<details><summary>Reveal the solution to {html.escape(self.exercise.id)}</summary>"
                f"<pre>{code}</pre></details>")


def solution(exercise_id):
    """The solution of an exercise, folded in Jupyter (click to reveal), as text elsewhere."""
    return Solution(_get(exercise_id))
