import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image

from conftest import tiny_cyclegan_kwargs, write_image
from gan_style.callbacks import ImageWriter, SampleGrid, image_grid
from gan_style.data import UnpairedImageDataModule
from gan_style.methods import CycleGAN


def test_image_grid_layout():
    images = {"real": torch.zeros(3, 3, 8, 8), "fake": torch.ones(3, 3, 8, 8)}
    grid = image_grid(images, max_images=2)
    # 2 rows x 2 columns of 8x8 tiles with 2-pixel padding
    assert grid.shape == (3, 2 + 2 * (8 + 2), 2 + 2 * (8 + 2))
    assert grid[:, 2, 2].tolist() == [0.0, 0.0, 0.0] and grid[:, 2, 12].tolist() == [1.0, 1.0, 1.0]


def test_image_grid_labels_name_each_column():
    from gan_style.callbacks.images import label_height

    images = {"real_A": -torch.ones(1, 3, 64, 64), "fake_B": -torch.ones(1, 3, 64, 64)}
    plain = image_grid(images, max_images=1)
    grid = image_grid(images, max_images=1, labels=True)
    strip = label_height(64)
    assert strip == 12 and grid.shape == (3, plain.shape[1] + strip, plain.shape[2])
    assert torch.equal(grid[:, strip:], plain)  # the images are unchanged below the strip
    header = grid[:, :strip]
    for j in range(2):  # dark text pixels over each column, white between
        column = header[:, :, 2 + j * 66 : 2 + j * 66 + 64]
        assert (column < 0).any()
    assert (header[:, :, 66:68] == 1).all()


def test_sample_grids_go_to_files_and_tensorboard(tmp_path, tiny_unpaired, make_trainer):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    L.seed_everything(0)
    grids = SampleGrid(every_n_steps=2, max_images=2)
    logger = TensorBoardLogger(tmp_path, name="tb")
    trainer = make_trainer(
        max_steps=6,  # one epoch: 3 batches, 2 optimizer steps each
        logger=logger,
        callbacks=[grids],
        limit_val_batches=1,
    )
    model = CycleGAN(**tiny_cyclegan_kwargs())
    trainer.fit(model, UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0))
    names = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert "train_step0000002.png" in names and "train_step0000004.png" in names
    assert "val_epoch0000.png" in names
    with Image.open(tmp_path / "samples" / "train_step0000002.png") as img:
        # one row per sample (batch size 1), six columns of 32 px, under a 12-pixel strip of column names
        assert img.size == (2 + 6 * 34, 12 + 2 + 34)
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0})
    events.Reload()
    assert {"samples/train", "samples/val"} <= set(events.Tags()["images"])


class _Trainer:
    default_root_dir = "."
    is_global_zero = True


def test_image_writer_names_and_never_overwrites_inputs(tmp_path):
    src = write_image(tmp_path / "in" / "photo.png")
    other = write_image(tmp_path / "in" / "sub" / "photo.jpg")
    writer = ImageWriter(output_dir=str(tmp_path / "out"))
    pred = {"images": torch.zeros(2, 3, 8, 8), "paths": [str(src), str(other)]}
    writer.write_on_batch_end(_Trainer(), None, pred, None, None, 0, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo.png", "photo_1.png"]
    with Image.open(tmp_path / "out" / "photo.png") as img:
        assert img.getpixel((0, 0)) == (128, 128, 128)  # 0.0 in [-1, 1] -> 127.5 -> 128
    before = src.read_bytes()
    into_inputs = ImageWriter(output_dir=str(tmp_path / "in"))
    with pytest.raises(ValueError, match="overwrite the input image"):
        into_inputs.write_on_batch_end(
            _Trainer(), None, {"images": torch.ones(1, 3, 8, 8), "paths": [str(src)]}, None, None, 0, 0
        )
    assert src.read_bytes() == before
    with pytest.raises(ValueError, match="extension"):
        ImageWriter(extension="gif2")


def test_scalars_learning_rates_and_samples_share_the_optimizer_step_axis(tmp_path, tiny_unpaired, make_trainer):
    """CycleGAN takes 2 optimizer steps per batch: losses, validation metrics and learning rates are logged at
    trainer.global_step (not at Lightning's batch count), and the learning rates are named after the networks."""
    import csv

    from lightning.pytorch.loggers import CSVLogger

    from gan_style.callbacks import LearningRateMonitor

    L.seed_everything(0)
    logger = CSVLogger(tmp_path, name="csv", version=0)
    trainer = make_trainer(
        max_epochs=2,  # 3 batches per epoch: 6 optimizer steps per epoch
        logger=logger,
        log_every_n_steps=1,
        callbacks=[LearningRateMonitor(logging_interval="epoch")],
        limit_val_batches=1,
    )
    model = CycleGAN(**tiny_cyclegan_kwargs())
    trainer.fit(model, UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0))
    with open(tmp_path / "csv" / "version_0" / "metrics.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert "lr/generator" in rows[0] and "lr/discriminator" in rows[0]
    assert not any(key.startswith("lr-") for key in rows[0])
    loss_steps = [int(r["step"]) for r in rows if r.get("train/loss_g")]
    assert loss_steps == [2, 4, 6, 8, 10, 12]  # global_step after each batch's two updates
    val_steps = [int(r["step"]) for r in rows if r.get("val/loss_g")]
    assert val_steps == [6, 12]
    lr_steps = [int(r["step"]) for r in rows if r.get("lr/generator")]
    assert lr_steps == [0, 6]


def test_optimizer_network_names():
    from gan_style.callbacks.learning_rate import optimizer_network_names

    model = CycleGAN(**tiny_cyclegan_kwargs())
    opt_g = torch.optim.Adam([*model.generator_ab.parameters(), *model.generator_ba.parameters()])
    opt_d = torch.optim.Adam(model.discriminator_a.parameters())
    opt_x = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    assert optimizer_network_names(model, [opt_g, opt_d, opt_x, opt_d]) == [
        "generator",
        "discriminator_a",
        "optimizer2",
        "discriminator_a-1",
    ]


def test_progress_bar_counts_the_whole_run_in_optimizer_steps(tmp_path, tiny_unpaired, make_trainer):
    from gan_style.callbacks import RunProgressBar

    L.seed_everything(0)
    bar = RunProgressBar()
    trainer = make_trainer(max_steps=8, callbacks=[bar], enable_progress_bar=True, limit_val_batches=0)
    seen = []

    class Watch(L.Callback):
        def on_train_batch_end(self, trainer, *args):
            seen.append((bar.train_progress_bar.n, bar.train_progress_bar.total, bar.train_progress_bar.desc))

    trainer.callbacks.append(Watch())
    model = CycleGAN(**tiny_cyclegan_kwargs())
    trainer.fit(model, UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0))
    # 3 batches per epoch, 2 optimizer steps each: the 8-step run takes 2 epochs; one bar, never reset
    assert [n for n, _, _ in seen] == [2, 4, 6, 8]
    assert {total for _, total, _ in seen} == {8}
    assert [desc.rstrip(": ") for _, _, desc in seen] == ["epoch 1/2"] * 3 + ["epoch 2/2"]
