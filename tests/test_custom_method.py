"""The tutorial's example method (examples/custom_method.py) runs through the CLI like a built-in one."""

import os

import torch
from test_cli import gan_style

from conftest import REPO, SAMPLE_ROOT


def test_custom_method_fits_and_predicts_through_the_cli(tmp_path):
    run = tmp_path / "run"
    env = {"PYTHONPATH": os.pathsep.join([str(REPO / "examples"), os.environ.get("PYTHONPATH", "")])}
    args = [
        "--config",
        str(REPO / "examples" / "custom_method.yaml"),
        "--model.init_args.generator.init_args.ngf=8",
        "--model.init_args.generator.init_args.n_blocks=1",
        f"--data.init_args.root={SAMPLE_ROOT}",
        "--data.init_args.load_size=36",
        "--data.init_args.crop_size=32",
        "--data.init_args.num_workers=0",
        f"--trainer.default_root_dir={run}",
        "--trainer.enable_progress_bar=false",
    ]
    gan_style("fit", *args, "--trainer.max_steps=4", "--trainer.limit_val_batches=1", cwd=tmp_path, env_extra=env)
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 4 and ckpt["hyper_parameters"]["_class_path"] == "custom_method.SelfRegularizedGAN"
    assert any((run / "samples").glob("train_step*.png"))
    gan_style("predict", *args, "--ckpt_path=last", cwd=tmp_path, env_extra=env)
    assert sorted(p.name for p in (run / "predictions").iterdir()) == ["newyork.png", "sailboat.png"]
