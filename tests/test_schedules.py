"""The learning-rate schedule of CycleGAN and Pix2Pix against the reference code's lambda rule."""

from __future__ import annotations

import pytest
import torch

from gan_style.methods import LinearDecay


def reference_rule(epoch: int, n_epochs: int = 100, n_epochs_decay: int = 100, epoch_count: int = 1) -> float:
    """The CycleGAN/pix2pix code's ``lambda_rule`` (``networks.get_scheduler``, policy ``linear``), written from
    its formula; ``epoch`` is the scheduler's epoch counter (the number of ``scheduler.step()`` calls)."""
    return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)


def test_the_whole_200_epoch_table_against_the_reference_rule():
    decay = LinearDecay(100, 100)
    ours = [decay(e) for e in range(200)]
    # gan-style: the rule at the number of epochs done before epoch e (the scheduler steps after the epoch)
    assert ours == [reference_rule(e) for e in range(200)]
    # the reference's train.py steps at the start of each epoch: its epoch e runs at the rule's value for e + 1
    theirs = [reference_rule(e + 1) for e in range(200)]
    assert theirs[:-1] == ours[1:]  # one epoch ahead of ours
    assert ours[:100] == [1.0] * 100 and theirs[99] == pytest.approx(100 / 101)  # theirs decays in epoch 100
    assert ours[-1] == pytest.approx(1 / 101) and theirs[-1] == 0.0  # theirs trains its last epoch at lr 0


def test_a_lambda_lr_scheduler_stepped_after_each_epoch_follows_the_table():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=2e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, LinearDecay(3, 2))
    rates = []
    for _ in range(6):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()  # at the end of the epoch, as GanStyleModule.step_schedulers_at_epoch_end does
    assert rates == pytest.approx([2e-4, 2e-4, 2e-4, 2e-4 * 2 / 3, 2e-4 / 3, 0.0])
    with pytest.raises(ValueError, match="n_epochs and n_epochs_decay must be >= 0"):
        LinearDecay(-1, 100)
