"""core.device: the device choice, the thread setting and the sidebar label."""

import pytest
import torch

import core.device as device


@pytest.fixture
def no_force(monkeypatch):
    monkeypatch.delenv(device.FORCE_CPU_ENV, raising=False)


def test_cuda_first(monkeypatch, no_force):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    assert device.pick() == torch.device("cuda")


def test_mps_when_no_cuda(monkeypatch, no_force):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    assert device.pick() == torch.device("mps")


def test_cpu_when_nothing_else(monkeypatch, no_force):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    assert device.pick() == torch.device("cpu")


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_environment_forces_cpu(monkeypatch, value):
    monkeypatch.setenv(device.FORCE_CPU_ENV, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.pick() == torch.device("cpu")
    assert device.describe().label.endswith("forced by ML_EXPLORABLES_FORCE_CPU")


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_environment_false_values_do_not_force(monkeypatch, value):
    monkeypatch.setenv(device.FORCE_CPU_ENV, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.pick() == torch.device("cuda")


def test_real_machine_pick_is_usable():
    dev = device.pick()
    x = torch.ones(3, device=dev)
    assert float((x * 2).sum()) == 6.0


def test_describe_labels(monkeypatch, no_force):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert device.describe(torch.device("cpu")).label == "CPU, 2 threads"
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: "NVIDIA H100 80GB HBM3")
    assert device.describe(torch.device("cuda")).label == "GPU (CUDA): NVIDIA H100 80GB HBM3"
    assert device.describe(torch.device("mps")).label == "Apple GPU (MPS)"


def test_threads_set_once(monkeypatch):
    calls = []
    monkeypatch.setattr(device, "_threads_configured", None)
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    assert device.configure_threads(3) == 3
    assert device.configure_threads(1) == 3  # a second call changes nothing
    assert calls == [3]


def test_one_thread_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv(device.THREADS_ENV, raising=False)
    assert device.default_thread_count() == 1


def test_thread_count_from_environment(monkeypatch):
    monkeypatch.setenv(device.THREADS_ENV, "1")
    assert device.default_thread_count() == 1
    monkeypatch.setenv(device.THREADS_ENV, "two")
    with pytest.raises(ValueError, match="whole number"):
        device.default_thread_count()
    monkeypatch.setenv(device.THREADS_ENV, "0")
    with pytest.raises(ValueError, match="at least 1"):
        device.default_thread_count()


def test_small_models_stay_on_the_cpu_unless_asked(monkeypatch, no_force):
    monkeypatch.delenv(device.SMALL_ON_GPU_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.pick(small_model=True) == torch.device("cpu")
    assert device.pick() == torch.device("cuda")
    monkeypatch.setenv(device.SMALL_ON_GPU_ENV, "1")
    assert device.pick(small_model=True) == torch.device("cuda")
    monkeypatch.setenv(device.FORCE_CPU_ENV, "1")  # forcing the CPU wins over everything
    assert device.pick(small_model=True) == torch.device("cpu") == device.pick()


def test_trainers_ask_for_the_device_their_model_size_deserves(monkeypatch, no_force):
    # On a GPU machine the norm race's CNNs train on the GPU and every small network on the CPU
    # (benchmarks/bench_device.py measured which is faster where). A trainer built with no device
    # asks pick() with its own small_model; here pick() is recorded instead of choosing.
    from core.norms import NormRaceConfig, NormRaceTrainer
    from core.regression import RegressionConfig, RegressionTrainer

    asked = []
    monkeypatch.setattr(device, "pick", lambda small_model=False: asked.append(small_model) or torch.device("cpu"))
    RegressionTrainer(RegressionConfig())
    NormRaceTrainer(NormRaceConfig())
    assert asked == [True, False]


def test_the_sidebar_says_where_small_and_large_models_train(monkeypatch, no_force):
    from ui.sidebar import device_line

    monkeypatch.delenv(device.SMALL_ON_GPU_ENV, raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: "NVIDIA H200")
    assert device_line() == ("⚙️ **Models train on:** GPU (CUDA): NVIDIA H200 for the CNNs; the small networks "
                             "on the CPU, 1 thread (faster there)")
    monkeypatch.setenv(device.SMALL_ON_GPU_ENV, "yes")
    assert device_line() == "⚙️ **Models train on:** GPU (CUDA): NVIDIA H200"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    assert device_line() == "⚙️ **Models train on:** CPU, 1 thread"
