"""Tests of helpers/settings.py: presets, overrides and the checks of every setting (notebook 09)."""
import dataclasses

import pytest

from helpers import settings as S


def test_unknown_preset_or_setting_is_named():
    with pytest.raises(ValueError, match="choose one of"):
        S.config_for("tpu")
    with pytest.raises(ValueError, match="unknown settings"):
        S.config_for("cpu", learning_rate=1)


def test_settings_that_would_fail_deep_in_a_run_are_refused_at_once():
    for overrides, message in [(dict(device="gpu"), "device must be auto, cpu"),
                               (dict(dtype="bf16"), "dtype must be one of"),
                               (dict(lr="3e-3"), "lr must be a number above 0"),
                               (dict(batch_size=0), "batch_size must be a whole number of at least 1"),
                               (dict(dropout=1.0), "dropout must be"),
                               (dict(compile="yes"), "compile must be one of")]:
        with pytest.raises(ValueError, match=message):
            S.config_for("smoke", **overrides)
    assert S.config_for("smoke", device="cuda:1", dtype="bfloat16", compile="true").device == "cuda:1"
    for overrides, message in [(dict(device="cuda:x"), "device must be"), (dict(batch_size=True), "batch_size"),
                               (dict(d_model=30, n_heads=4), "divisible")]:
        with pytest.raises(ValueError, match=message):
            S.config_for("smoke", **overrides)


def test_every_preset_passes_its_own_checks_and_names_only_real_settings():
    fields = {f.name for f in dataclasses.fields(S.TrainConfig)}
    for preset, values in S.PRESETS.items():
        assert set(values) <= fields, preset
        assert S.config_for(preset).preset == preset


def test_the_model_settings_become_a_gpt_config():
    config = S.config_for("smoke", n_layers=3, d_model=48, n_heads=3)
    gpt = config.model_config(vocab_size=70)
    assert (gpt.n_layers, gpt.d_model, gpt.n_heads, gpt.vocab_size, gpt.context) == (3, 48, 3, 70, config.context)
