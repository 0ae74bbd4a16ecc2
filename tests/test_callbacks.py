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
        # one row per sample (batch size 1), six columns of 32 px
        assert img.size == (2 + 6 * 34, 2 + 34)
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
