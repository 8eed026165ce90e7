"""Tests of helpers/hardware.py: the device, precision, compile and torchrun (notebook 09).

A GPU's generation is passed in as its compute capability, so these run on any machine."""
from types import SimpleNamespace

import pytest
import torch

from helpers import hardware as H


def settings(device="auto", dtype="auto", compile="auto"):
    """The three settings resolve reads (a TrainConfig has them too)."""
    return SimpleNamespace(device=device, dtype=dtype, compile=compile)


@pytest.mark.parametrize("capability, dtype, compiled", [
    ((9, 0), "bfloat16", True),      # H100
    ((8, 6), "bfloat16", True),      # RTX 30 series, A10
    ((7, 5), "float16", True),       # T4, RTX 20 series: tensor cores for float16 only
    ((7, 0), "float16", True),       # V100
    ((6, 1), "float32", False),      # GTX 10 series: no tensor cores, too old for Triton
])
def test_auto_precision_and_compile_follow_the_gpu_generation(capability, dtype, compiled):
    assert H.resolve(settings("cuda"), capability=capability) == ("cuda", dtype, compiled)
    assert H.fast_dtype(capability) == dtype


def test_explicit_precision_and_compile_win_over_the_gpu_generation():
    assert H.resolve(settings("cuda", "float32", "false"), capability=(9, 0)) == ("cuda", "float32", False)
    assert H.resolve(settings("cuda", "bfloat16", "true"), capability=(6, 1)) == ("cuda", "bfloat16", True)


def test_auto_on_a_cpu_is_float32_uncompiled():
    assert H.resolve(settings("cpu")) == ("cpu", "float32", False)
    assert H.cuda_capability("cpu") == (0, 0) and H.cuda_capability("mps") == (0, 0)


def test_under_torchrun_each_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setenv("RANK", "1"), monkeypatch.setenv("WORLD_SIZE", "2"), monkeypatch.setenv("LOCAL_RANK", "1")
    assert H.distributed() == (1, 2, 1)
    assert H.resolve(settings("cuda"), capability=(9, 0))[0] == "cuda:1"
    assert H.resolve(settings("cpu"))[0] == "cpu"
    for device in ("cuda:0", "mps"):     # every process on one GPU; gloo cannot add up MPS tensors
        with pytest.raises(H.SettingsError, match="LOCAL_RANK"):
            H.resolve(settings(device), capability=(9, 0))


def test_one_process_is_rank_0_of_1_and_needs_no_agreement(monkeypatch):
    monkeypatch.delenv("RANK", raising=False), monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert H.distributed() == (0, 1, 0)
    assert H.largest_over_processes(2.5, "cpu", 1) == 2.5 and H.flag_of_first_process(True, "cpu", 1) is True
    model = torch.nn.Linear(2, 2)
    assert H.data_parallel(model, "cpu", 1) is model and H.maybe_compile(model, False) is model


def test_timings_on_a_mac_wait_for_its_gpu(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    H.synchronize("mps"), H.synchronize("cpu")
    assert calls == ["mps"]


def test_autocast_and_loss_scaler_follow_the_dtype():
    x = torch.randn(2, 3)
    with H.autocast("cpu", "bfloat16"):
        assert (x @ x.T).dtype == torch.bfloat16
    with H.autocast("cpu", "float32"):
        assert (x @ x.T).dtype == torch.float32
    assert H.make_loss_scaler("cpu", "float16").is_enabled()
    assert not H.make_loss_scaler("cpu", "bfloat16").is_enabled()


def test_compiling_before_the_clock_leaves_the_random_stream_where_it_was():
    # The warm-up's dropout must not move the stream a run (or a resumed run) draws its masks from.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))
    loss_of = lambda x, y: (None, ((model(x) - y) ** 2).mean())        # the GPT's (logits, loss)
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    before = torch.get_rng_state()
    H.compile_before_the_clock(loss_of, x, y, "cpu", "float32")
    assert torch.equal(torch.get_rng_state(), before)
    assert model[0].weight.grad is not None                             # it did run backward


def test_running_out_of_memory_names_the_settings_to_change():
    config = SimpleNamespace(n_layers=6, d_model=384, batch_size=64, context=256)
    message = str(H.out_of_memory_error("cpu", config))
    assert "batch_size 64 x context 256 (16,384 tokens a step)" in message and "--batch-size 32" in message
