"""Tests of helpers/bench.py: the peak table, MFU, and the one JSON line (notebook 09)."""
import json

import pytest

from helpers import bench


@pytest.mark.parametrize("name, row", [
    ("NVIDIA H100 80GB HBM3", "H100"),          # what torch.cuda.get_device_name says on an SXM card
    ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H100 NVL", "H100 NVL"), ("NVIDIA GH200 480GB", "GH200"),
    ("NVIDIA H200", "H200"), ("NVIDIA H200 NVL", "H200 NVL"), ("NVIDIA A100-SXM4-80GB", "A100"),
])
def test_a_gpu_name_finds_its_own_row_in_every_dtype(name, row):
    # (the numbers are the table's; what is tested is which row a device name lands on)
    for dtype, rows in bench.PEAK_TFLOPS.items():
        assert bench.peak_tflops(name, dtype) == (dict(rows)[row], f"data sheet, {row} dense {dtype}")


def test_no_row_of_the_table_is_hidden_behind_an_earlier_one():
    # First match wins: a row placed after a shorter name it contains could never be reached.
    for dtype, rows in bench.PEAK_TFLOPS.items():
        for fragment, peak in rows:
            assert bench.peak_tflops(f"NVIDIA {fragment}", dtype)[0] == peak, (dtype, fragment)


def test_a_longer_name_wins_over_a_name_it_contains():
    assert "GH200" in bench.peak_tflops("NVIDIA GH200 480GB", "bfloat16")[1]
    assert "H100 NVL" in bench.peak_tflops("NVIDIA H100 NVL", "float32")[1]


def test_a_mig_slice_asks_for_its_share_of_the_peak():
    peak, why = bench.peak_tflops("NVIDIA H100 80GB HBM3 MIG 1g.10gb", "bfloat16")
    assert peak is None and "MIG" in why and "--peak-tflops" in why


def test_unknown_gpu_asks_for_a_peak():
    peak, why = bench.peak_tflops("NVIDIA GeForce GTX 1080", "bfloat16")
    assert peak is None and "--peak-tflops" in why


def test_one_json_line_with_step_time_mfu_and_time_to_target(capsys):
    assert bench.main(["--preset", "smoke", "--device", "cpu", "--steps", "3", "--warmup", "1",
                       "--peak-tflops", "1.0", "--target-loss", "3.5", "--max-seconds", "20"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["median_step_ms"] > 0 and result["tokens_per_s"] > 0
    achieved = result["flops_per_token"] * result["tokens_per_s"] / 1e12     # TFLOP/s
    assert result["mfu"] == pytest.approx(achieved / 1.0, rel=1e-2, abs=5e-5)   # (printed to 4 decimals)
    assert result["time_to_target_s"] is not None and result["time_to_target_s"] <= 20
    assert result["final_val_loss"] <= 3.5
    # the machine's own matmul rate, measured around the steps, and the model's share of it
    assert result["matmul_tflops_measured"] > 0
    assert result["share_of_measured_matmul"] == pytest.approx(
        achieved / result["matmul_tflops_measured"], rel=1e-2)


def test_measured_matmul_rate_is_a_plausible_cpu_rate():
    rate = bench.matmul_tflops("cpu", "float32", size=256, repeats=3)
    assert 1e-4 < rate < 50      # TFLOP/s: more than a tenth of a GFLOP/s, less than any CPU's peak


def test_cpu_has_no_mfu_without_a_peak(capsys):
    bench.main(["--preset", "smoke", "--device", "cpu", "--steps", "2", "--warmup", "1", "--no-target"])
    result = json.loads(capsys.readouterr().out)
    assert result["mfu"] is None and "peak" in result["peak_source"] and "time_to_target_s" not in result


def test_compare_compile_takes_turns_in_one_process(monkeypatch, capsys):
    # torch.compile itself is exercised on CUDA (test_train.py); here its wrapper is replaced by
    # the identity, so the test checks the turns, the medians and the one JSON line, in seconds.
    import torch
    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: model)
    assert bench.main(["--preset", "smoke", "--device", "cpu", "--compare-compile", "--rounds", "3",
                       "--steps", "2", "--warmup", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rounds"] == 3 and result["steps_per_block"] == 2 and result["compiled"] is True
    assert result["eager_step_ms"] > 0 and result["compiled_step_ms"] > 0 and result["compile_seconds"] >= 0
    tokens = result["batch_size"] * result["context"]
    assert result["eager_tokens_per_s"] == pytest.approx(tokens / result["eager_step_ms"] * 1e3, rel=1e-3)
    assert result["compiled_speedup"] == pytest.approx(result["eager_step_ms"] / result["compiled_step_ms"], rel=1e-2)


def test_a_bad_setting_is_a_message_not_a_traceback(capsys):
    assert bench.main(["--preset", "smoke", "--device", "cpu", "--lr", "-1", "--no-target"]) == 2
    assert "lr must be a number above 0" in capsys.readouterr().err
    assert bench.main(["--preset", "smoke", "--device", "cpu", "--steps", "0", "--no-target"]) == 2
    assert "--steps 0" in capsys.readouterr().err


def test_runs_leave_no_folder_behind(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench.tempfile, "tempdir", str(tmp_path))      # where TemporaryDirectory goes
    assert bench.main(["--preset", "smoke", "--device", "cpu", "--steps", "2", "--warmup", "1",
                       "--target-loss", "9", "--max-seconds", "120"]) == 0   # loss 9 comes at once; 120 s for a busy machine
    assert json.loads(capsys.readouterr().out)["time_to_target_s"] is not None   # a run was made...
    # ...and removed. torch.compile's own cache (torchinductor_<user>) also lives in the temporary
    # folder when it is first made in this process: it is torch's, not a run's, so it does not count.
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("torchinductor_")] == []


def test_help_says_what_each_setting_is_and_what_the_presets_use():
    text = " ".join(bench.build_parser().format_help().split())
    assert "--d-model D_MODEL width of every token's vector (smoke 64, cpu 128, gpu 384)" in text
    assert "--tokens" in text and "--lr" in text
