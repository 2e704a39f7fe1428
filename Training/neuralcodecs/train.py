"""The training loop every recipe shares.

Seeding, checkpoints (atomic, every `checkpoint_seconds`) with resume, a wall-clock budget that
also drives the learning-rate schedule (warm-up, then cosine decay to `final_lr_fraction` at the
end of the budget, so the last checkpoint is an annealed model however fast the machine is),
progress lines with loss and throughput, CUDA when present, and DistributedDataParallel when run
under torchrun (rank 0 logs, evaluates and saves; rank 0's clock decides when to stop).
"""
from __future__ import annotations

import json
import math
import os
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
    warmup_steps: int = 100
    final_lr_fraction: float = 0.02
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 1
    threads: int = 2
    checkpoint_seconds: float = 300.0
    log_every_steps: int = 20
    betas: tuple[float, float] = (0.9, 0.95)


@dataclass
class TrainState:
    step: int = 0
    elapsed: float = 0.0  # seconds of training so far, summed across resumes
    units_seen: int = 0  # tokens, pixels, samples: whatever the recipe counts
    history: list[dict] = field(default_factory=list)  # one entry per evaluation


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
    warm = min(1.0, (step + 1) / cfg.warmup_steps)
    frac = min(1.0, elapsed / cfg.budget_seconds)
    decay = cfg.final_lr_fraction + (1 - cfg.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * frac))
    return cfg.peak_lr * warm * decay


def save_checkpoint(path: Path, model, opt, state: TrainState, rng: np.random.Generator, extra: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": asdict(state),
                "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), **extra}, tmp)
    os.replace(tmp, path)


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
    if resume and latest.exists():
        ck = torch.load(latest, map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = TrainState(**ck["state"])
        if rank == 0:
            rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        if rank == 0:
            log(run_dir, f"resumed at step {state.step}, {state.elapsed:.0f} s, {state.units_seen} units")
    elif rank == 0:
        log(run_dir, f"start: {sum(p.numel() for p in model.parameters())} parameters, config {json.dumps(asdict(cfg))}")
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
        save_checkpoint(latest, model, opt, state, rng, extra or {})
        best = min(state.history, key=lambda h: h.get("val", math.inf))
        if best is entry:
            save_checkpoint(run_dir / "best.pt", model, opt, state, rng, extra or {})
        log(run_dir, f"{'final ' if final else ''}checkpoint step {state.step}: {json.dumps(metrics)}")

    model.train()
    last_ckpt = state.elapsed
    window_start, window_units = time.time(), 0
    loss_sum, loss_n = 0.0, 0
    while True:
        t0 = time.time()
        stop = torch.tensor(float(state.elapsed >= cfg.budget_seconds))
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
    if rank == 0:
        checkpoint(final=True)
    if distributed:
        dist.destroy_process_group()
    return state
