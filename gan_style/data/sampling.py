"""Seeded sampling: every sample gets its own random seed from (seed, epoch), so data order and
augmentation are reproducible, independent of the number of workers, and resume exactly."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, DistributedSampler

__all__ = ["SeededSampler", "SampleKey", "split_key", "resume_position", "ResumableDataLoader"]

SampleKey = int | tuple[int, int]
"""What a dataset's ``__getitem__`` receives: an index, or (index, per-sample seed) from SeededSampler."""


class SeededSampler(DistributedSampler):
    """Yields ``(index, sample_seed)`` pairs over ``range(length)``, sharded across processes.

    The order (a permutation when ``shuffle``, else 0, 1, 2, ...) and the per-sample seeds are drawn from a
    generator seeded with ``seed`` and the epoch. Lightning calls :meth:`set_epoch` before each epoch, so a
    run resumed at epoch ``e`` sees exactly the batches an uninterrupted run would; without ``set_epoch``
    each new iteration moves on to the next epoch by itself.

    A run resumed in the middle of an epoch passes ``epoch`` and ``skip`` (the samples that epoch already
    used, per process): the first iteration then yields the rest of that epoch's sequence only.

    Under DDP (``num_replicas`` > 1) every process draws the same epoch sequence, pads it to a multiple of
    ``num_replicas`` by repeating its first entries (as ``DistributedSampler`` does) and takes every
    ``num_replicas``-th entry from ``rank`` on, so the processes see disjoint shards of one seeded order and
    a resumed multi-process run continues exactly. Being a ``DistributedSampler``, Lightning uses it as it
    is instead of wrapping it.

    Args:
        length: dataset size (>= 0).
        seed: base seed (an int; the data module takes it from the run's seed).
        shuffle: random order when True.
        epoch: the epoch of the first iteration (0).
        skip: samples of that first epoch this process leaves out (0).
        num_replicas: number of processes (1).
        rank: this process's index in [0, num_replicas) (0).
    """

    def __init__(
        self,
        length: int,
        seed: int,
        shuffle: bool = True,
        epoch: int = 0,
        skip: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"need num_replicas >= 1 and 0 <= rank < num_replicas, got {num_replicas}, {rank}")
        self.length = int(length)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.epoch = int(epoch)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.drop_last = False
        self._skip = (int(epoch), int(skip)) if skip > 0 else None

    def set_epoch(self, epoch: int) -> None:
        """Use the order and seeds of ``epoch`` for the next iteration."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return -(-self.length // self.num_replicas) if self.length else 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % (2**63))
        order = torch.randperm(self.length, generator=generator) if self.shuffle else torch.arange(self.length)
        seeds = torch.randint(0, 2**62, (self.length,), generator=generator)
        pairs = list(zip(order.tolist(), seeds.tolist()))
        if self.num_replicas > 1 and pairs:
            pairs += pairs[: len(self) * self.num_replicas - len(pairs)]
            pairs = pairs[self.rank :: self.num_replicas]
        start = 0
        if self._skip is not None:
            if self._skip[0] == self.epoch:
                start = self._skip[1]
            self._skip = None
        self.epoch += 1
        return iter(pairs[start:])


def split_key(key: SampleKey) -> tuple[int, torch.Generator | None]:
    """``key`` -> (index, generator seeded for this sample, or None for a plain index)."""
    if isinstance(key, (tuple, list)):
        index, seed = key
        return int(index), torch.Generator().manual_seed(int(seed))
    return int(key), None


def resume_position(trainer, batch_size: int) -> tuple[int, int]:
    """(epoch, samples already used in it) where a restored ``trainer`` continues fitting; (0, 0) otherwise.

    Read from Lightning's restored loop progress, so a run resumed from a mid-epoch checkpoint skips
    exactly the batches the interrupted run had trained on.
    """
    if trainer is None:
        return 0, 0
    fit_loop = trainer.fit_loop
    if not fit_loop.restarting:
        return 0, 0
    epochs = fit_loop.epoch_progress.current
    batches = fit_loop.epoch_loop.batch_progress
    if epochs.processed < epochs.started:
        # inside epoch ``processed``; "processed" batches: a checkpoint written in on_train_batch_end counts that
        # batch as processed, not completed. After its last batch the rest of the epoch is empty.
        return epochs.processed, batches.current.processed * batch_size
    # the checkpoint was written after the epoch ended (its end hooks, validation, the end of the run): the
    # next epoch starts from its first batch
    return epochs.processed, 0


class ResumableDataLoader(DataLoader):
    """A ``DataLoader`` over a :class:`SeededSampler` built with the position from :func:`resume_position`.

    The position itself comes from Lightning's restored loop progress, so there is nothing extra to save;
    ``state_dict`` / ``load_state_dict`` exist to tell Lightning that this loader resumes mid-epoch
    correctly (its stateful-loader protocol).
    """

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        return None
