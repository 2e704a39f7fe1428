"""The training loop every recipe shares.

Seeding, checkpoints (atomic, every `checkpoint_seconds`, and on SIGINT/SIGTERM before exiting)
with resume, a wall-clock budget that also drives the learning-rate schedule (warm-up over
`warmup_fraction` of the budget or `warmup_steps` steps, whichever ends first, then cosine decay
to `final_lr_fraction` at the end of the budget, so the last checkpoint is an annealed model
however fast the machine is), progress lines with loss and throughput, CUDA when present, and
DistributedDataParallel when run under torchrun (rank 0 logs, evaluates and saves; rank 0's
clock decides when to stop).

Every checkpoint records the schedule it was trained with (`schedule` in the checkpoint, and each
change in `state.schedules`); a resume with another budget or learning rate says what changed, and
a resume whose budget is already spent says so and how to continue (`budget_hint` names the
setting to raise, e.g. the Makefile variable).
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist


@dataclass
class TrainConfig:
    run_dir: str
    budget_seconds: float
    peak_lr: float = 1e-3
    warmup_steps: int = 100  # warm-up ends after this many steps or warmup_fraction of the budget, whichever first
    final_lr_fraction: float = 0.02
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 1
    threads: int = 2
    checkpoint_seconds: float = 300.0
    log_every_steps: int = 20
    betas: tuple[float, float] = (0.9, 0.95)
    # Warm-up over this fraction of the wall-clock budget (so short budgets finish it); 0 or None:
    # warm up over warmup_steps only.
    warmup_fraction: float | None = 0.05
    # What a user raises to train longer (shown when a resume finds the budget spent).
    budget_hint: str = "the budget"


SCHEDULE_KEYS = ("budget_seconds", "peak_lr", "warmup_steps", "warmup_fraction", "final_lr_fraction")


def schedule_of(cfg: TrainConfig) -> dict:
    """The part of the config that shapes the learning rate at a given step and time."""
    return {k: getattr(cfg, k) for k in SCHEDULE_KEYS}


@dataclass
class TrainState:
    step: int = 0
    elapsed: float = 0.0  # seconds of training so far, summed across resumes
    units_seen: int = 0  # tokens, pixels, samples: whatever the recipe counts
    history: list[dict] = field(default_factory=list)  # one entry per evaluation
    # The schedule in force from each step on: [{"from_step": 0, "budget_seconds": ..., ...}, ...]
    schedules: list[dict] = field(default_factory=list)


def log(run_dir: Path, line: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    text = f"[{stamp} UTC] {line}"
    print(text, flush=True)
    with open(run_dir / "log.txt", "a") as f:
        f.write(text + "\n")


def device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def lr_at(cfg: TrainConfig, step: int, elapsed: float) -> float:
    warm = (step + 1) / max(1, cfg.warmup_steps)
    if cfg.warmup_fraction:
        warm = max(warm, elapsed / (cfg.warmup_fraction * cfg.budget_seconds))
    warm = min(1.0, warm)
    frac = min(1.0, elapsed / cfg.budget_seconds)
    decay = cfg.final_lr_fraction + (1 - cfg.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * frac))
    return cfg.peak_lr * warm * decay


def save_checkpoint(path: Path, model, opt, state: TrainState, rng: np.random.Generator, extra: dict,
                    cfg: TrainConfig | None = None) -> None:
    tmp = path.with_suffix(".tmp")
    more = {"train_config": asdict(cfg), "schedule": schedule_of(cfg)} if cfg is not None else {}
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": asdict(state),
                "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), **more, **extra}, tmp)
    os.replace(tmp, path)


def describe_schedule_change(old: dict, new: dict, cfg: TrainConfig, step: int, elapsed: float) -> str | None:
    """A line saying what a resume changed in the learning-rate schedule, or None."""
    changed = [k for k in SCHEDULE_KEYS if k in old and old[k] != new[k]]
    if not changed:
        return None
    was = TrainConfig(run_dir="", **{k: old.get(k, getattr(cfg, k)) for k in SCHEDULE_KEYS})
    parts = ", ".join(f"{k} {old[k]} -> {new[k]}" for k in changed)
    return (f"learning-rate schedule changed on resume at step {step}: {parts}; the learning rate now "
            f"{lr_at(was, step, elapsed):.2e} -> {lr_at(cfg, step, elapsed):.2e} "
            f"(the cosine decay follows the new budget from here; recorded in the checkpoint)")


class _StopSignals:
    """SIGINT/SIGTERM set a flag the loop checks after every step (a second signal stops at once)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict = {}

    def __enter__(self):
        if threading_main():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.received is not None:  # second signal: give up on the checkpoint
            signal.signal(signum, self.previous.get(signum, signal.SIG_DFL))
            raise KeyboardInterrupt
        self.received = signum
        print(f"\n{signal.Signals(signum).name}: saving a checkpoint after this step, then exiting "
              "(send it again to stop without one)", file=sys.stderr, flush=True)

    def __exit__(self, *exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def fit(model: torch.nn.Module, cfg: TrainConfig,
        loss_fn: Callable[[torch.nn.Module, object], torch.Tensor],
        batch_fn: Callable[[np.random.Generator], object],
        units_per_batch: int,
        evaluate: Callable[[torch.nn.Module], dict],
        extra: dict | None = None,
        resume: bool = True) -> TrainState:
    """Trains `model` until the budget is spent; returns the final state.

    loss_fn(model, batch) -> scalar loss; batch_fn(rng) -> a batch (already on the device);
    evaluate(model) -> metrics dict (run on rank 0 at every checkpoint and at the end).
    """
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = 0
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = dist.get_rank()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed + rank)
    rng = np.random.default_rng(cfg.seed + rank)
    dev = device()
    model.to(dev)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.peak_lr, betas=cfg.betas)
    state = TrainState()
    latest = run_dir / "latest.pt"
    schedule = schedule_of(cfg)
    if resume and latest.exists():
        ck = torch.load(latest, map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = TrainState(**ck["state"])
        if rank == 0:
            rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        # Checkpoints from before the schedule was recorded: the schedule is unknown, say nothing.
        old = state.schedules[-1] if state.schedules else ck.get("schedule")
        if rank == 0:
            log(run_dir, f"resumed at step {state.step}, {state.elapsed:.4g} s of {cfg.budget_seconds:.4g} s, "
                         f"{state.units_seen} units (from {latest})")
            if old is not None:
                line = describe_schedule_change(old, schedule, cfg, state.step, state.elapsed)
                if line:
                    log(run_dir, line)
        if old is None or any(old.get(k) != schedule[k] for k in SCHEDULE_KEYS):
            state.schedules.append({"from_step": state.step, **schedule})
        if rank == 0 and state.elapsed >= cfg.budget_seconds:
            log(run_dir, f"budget already spent at step {state.step} ({state.elapsed:.0f} s of "
                         f"{cfg.budget_seconds:.0f} s), nothing to train; raise {cfg.budget_hint} to continue")
    else:
        state.schedules.append({"from_step": 0, **schedule})
        if rank == 0:
            log(run_dir, f"start: {sum(p.numel() for p in model.parameters())} parameters, "
                         f"config {json.dumps(asdict(cfg))}")
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model

    def checkpoint(final: bool) -> None:
        if state.history and state.history[-1]["step"] == state.step:
            return  # resumed a finished run: nothing new to evaluate
        model.eval()
        with torch.no_grad():
            metrics = evaluate(model)
        model.train()
        entry = {"step": state.step, "elapsed": round(state.elapsed, 1), "units": state.units_seen, **metrics}
        state.history.append(entry)
        save_checkpoint(latest, model, opt, state, rng, extra or {}, cfg)
        best = min(state.history, key=lambda h: h.get("val", math.inf))
        if best is entry:
            save_checkpoint(run_dir / "best.pt", model, opt, state, rng, extra or {}, cfg)
        log(run_dir, f"{'final ' if final else ''}checkpoint step {state.step}: {json.dumps(metrics)}")

    model.train()
    last_ckpt = state.elapsed
    window_start, window_units = time.time(), 0
    loss_sum, loss_n = 0.0, 0
    signals = _StopSignals().__enter__()
    try:
        _loop(cfg, run_dir, model, net, opt, state, rng, loss_fn, batch_fn, units_per_batch, checkpoint,
              signals, distributed, rank, last_ckpt, window_start, window_units, loss_sum, loss_n)
    finally:
        signals.__exit__()
    if signals.received is not None:
        if rank == 0:
            save_checkpoint(latest, model, opt, state, rng, extra or {}, cfg)
            log(run_dir, f"interrupted ({signal.Signals(signals.received).name}) at step {state.step}, "
                         f"{state.elapsed:.4g} s of {cfg.budget_seconds:.4g} s: checkpoint saved to {latest}; "
                         "run the same command again to resume")
        if distributed:
            dist.destroy_process_group()
        raise SystemExit(128 + signals.received)
    if rank == 0:
        checkpoint(final=True)
    if distributed:
        dist.destroy_process_group()
    return state


def _loop(cfg, run_dir, model, net, opt, state, rng, loss_fn, batch_fn, units_per_batch, checkpoint,
          signals, distributed, rank, last_ckpt, window_start, window_units, loss_sum, loss_n) -> None:
    while True:
        t0 = time.time()
        stop = torch.tensor(float(state.elapsed >= cfg.budget_seconds or signals.received is not None))
        if distributed:
            dist.broadcast(stop, 0)
        if stop.item():
            break
        lr = lr_at(cfg, state.step, state.elapsed)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = loss_fn(net, batch_fn(rng))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        state.step += 1
        state.units_seen += units_per_batch * (dist.get_world_size() if distributed else 1)
        state.elapsed += time.time() - t0
        loss_sum += loss.item()
        loss_n += 1
        window_units += units_per_batch
        if rank == 0 and state.step % cfg.log_every_steps == 0:
            rate = window_units / (time.time() - window_start)
            log(run_dir, f"step {state.step} loss {loss_sum / loss_n:.4f} lr {lr:.2e} "
                         f"{rate:.0f} units/s elapsed {state.elapsed:.0f}/{cfg.budget_seconds:.0f} s "
                         f"seen {state.units_seen}")
            window_start, window_units, loss_sum, loss_n = time.time(), 0, 0.0, 0
        if rank == 0 and state.elapsed - last_ckpt >= cfg.checkpoint_seconds:
            checkpoint(final=False)
            last_ckpt = state.elapsed
            window_start, window_units = time.time(), 0
