"""gan-style's CUT / FastCUT / SinCUT against the CUT authors' code, in numbers; one JSON line per quantity.

    python benchmarks/cut_parity.py /tmp/cutref                       # the reference checkout, outside the repo
    python benchmarks/cut_parity.py /tmp/cutref --size 128 --batch_size 2

The reference (github.com/taesungp/contrastive-unpaired-translation) is imported from the folder given, never
copied into this repository. For each mode the script builds the reference model through its own option parser
(``--CUT_mode CUT|FastCUT``, ``--model sincut`` with ``--netG resnet_9blocks --netD basic``, as gan-style's SinCUT
uses the ResNet / PatchGAN networks), runs its ``data_dependent_initialize`` (which creates the MLP head lazily),
copies the weights into gan-style's networks (the state dicts load as they are: that is the layout check), and
compares on the same random inputs:

- ``features``: the generator's ``nce_layers`` features (the reference's ``netG(x, layers, encode_only=True)``);
- ``fake_B``: the generator's output (after the same flip decision, for FastCUT's flip equivariance);
- ``patchnce``: the PatchNCE loss alone on the same random unit vectors (``models/patchnce.py``);
- ``loss_D``, ``loss_G``, ``loss_NCE``, ``loss_NCE_Y``, ``loss_G_GAN`` (SinCUT also ``loss_D_R1``, ``loss_idt``):
  ``compute_D_loss()`` / ``compute_G_loss()`` against ``discriminator_loss`` / ``generator_loss``, with the
  reference's own random patch locations handed to ours;
- ``grad_G``, ``grad_F``, ``grad_D``: the largest difference of the gradients those losses give the generator,
  the MLP head and the discriminator.

Each line: ``{"mode", "quantity", "max_abs_diff", "scale", "relative"}`` (``scale``: the largest absolute value
compared; ``relative`` = max_abs_diff / scale), and a last line ``{"max_abs_diff_all", "pass"}``: the largest
difference of the values (features, outputs, losses; goal ``<= 1e-5``). Gradients are float32 sums over many
terms and the MLP head's are large at the reference's xavier(0.02) initialization (up to ~1e6), so they are
judged by ``relative`` (float32 rounding: ~1e-6).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

import numpy as np
import torch


def _reference_model(ref_root: str, args: list[str]):
    """The reference model built by its own ``TrainOptions`` from the command line ``args``."""
    if ref_root not in sys.path:
        sys.path.insert(0, ref_root)
    from models import create_model
    from options.train_options import TrainOptions

    saved = sys.argv
    sys.argv = ["train.py", *args]  # its model options read sys.argv directly
    try:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            opt = TrainOptions(cmd_line=" ".join(args)).parse()
            model = create_model(opt)
    finally:
        sys.argv = saved
    return model, opt


def _diff(a, b) -> tuple[float, float]:
    a, b = torch.as_tensor(a).detach().float(), torch.as_tensor(b).detach().float()
    return float((a - b).abs().max()), float(torch.maximum(a.abs(), b.abs()).max())


def _grads(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: p.grad.detach().clone() for k, p in net.named_parameters() if p.grad is not None}


def _grad_diff(a: dict, b: dict) -> tuple[float, float]:
    if set(a) != set(b):
        raise AssertionError(f"gradients of different parameters: {sorted(set(a) ^ set(b))[:5]}")
    if not a:
        return 0.0, 0.0
    return max(_diff(a[k], b[k])[0] for k in a), max(float(a[k].abs().max()) for k in a)


def run_mode(ref_root: str, mode: str, size: int, batch_size: int, seed: int) -> list[dict]:
    from gan_style.methods.cut import CUT, SinCUT
    from gan_style.nets.cut import CUTDiscriminator, CUTGenerator

    tmp = tempfile.mkdtemp(prefix="cut_parity_")
    common = f"--dataroot {tmp} --name parity --checkpoints_dir {tmp} --gpu_ids -1 --batch_size {batch_size}"
    common += f" --load_size {size} --crop_size {size}"
    if mode == "sincut":
        args = f"{common} --model sincut --netG resnet_9blocks --netD basic".split()
    else:
        args = f"{common} --model cut --CUT_mode {'CUT' if mode == 'cut' else 'FastCUT'}".split()
    torch.manual_seed(seed)
    np.random.seed(seed)
    ref, opt = _reference_model(ref_root, args)
    layers = [int(i) for i in opt.nce_layers.split(",")]

    g = torch.Generator().manual_seed(seed)
    data = {
        "A": torch.rand(batch_size, 3, size, size, generator=g) * 2 - 1,
        "B": torch.rand(batch_size, 3, size, size, generator=g) * 2 - 1,
        "A_paths": ["a"] * batch_size,
        "B_paths": ["b"] * batch_size,
    }
    ref.data_dependent_initialize(data)  # builds netF's MLPs at the first batch, as the reference trains

    settings = dict(nce_layers=layers, num_patches=opt.num_patches, mlp_channels=opt.netF_nc, nce_T=opt.nce_T)
    generator = CUTGenerator(ngf=opt.ngf, n_blocks=9)
    discriminator = CUTDiscriminator(ndf=opt.ndf, n_layers=3)
    if mode == "sincut":
        ours = SinCUT(generator, discriminator, num_crops=0, **settings)
    else:
        ours = CUT(generator, discriminator, mode=mode, **settings)
    ours.generator.load_state_dict(ref.netG.state_dict())
    ours.discriminator.load_state_dict(ref.netD.state_dict())
    ours.patch_head.load_state_dict(ref.netF.state_dict())
    ours.train()

    rows = []

    def add(quantity: str, diff: tuple[float, float]) -> None:
        rel = diff[0] / diff[1] if diff[1] else 0.0
        rows.append({"mode": mode, "quantity": quantity, "max_abs_diff": diff[0], "scale": diff[1], "relative": rel})

    real_a, real_b = data["A"], data["B"]
    with torch.no_grad():
        ref_feats = ref.netG(real_a, list(layers), encode_only=True)
        our_feats = ours.generator.encode(real_a, layers)
    add("features", max(_diff(a, b) for a, b in zip(ref_feats, our_feats)))

    # PatchNCE alone, on random unit vectors (batch_size images x 64 patches x 256 channels)
    q = torch.nn.functional.normalize(torch.randn(batch_size * 64, 256, generator=g), dim=1)
    k = torch.nn.functional.normalize(torch.randn(batch_size * 64, 256, generator=g), dim=1)
    from models.patchnce import PatchNCELoss as RefPatchNCE

    add("patchnce", _diff(RefPatchNCE(opt)(q, k).mean(), ours.nce_loss_fn(q, k, batch_size)))

    # the full losses: reference forward (its own flip draw), D loss, G loss with its patch locations recorded
    drawn: list[list[torch.Tensor]] = []
    forward_f = ref.netF.forward

    def recording(feats, num_patches=64, patch_ids=None):
        out, ids = forward_f(feats, num_patches, patch_ids)
        if patch_ids is None:
            drawn.append([torch.as_tensor(i) for i in ids])
        return out, ids

    ref.netF.forward = recording
    ref.set_input(data)
    ref.forward()
    flip = bool(getattr(ref, "flipped_for_equivariance", False))
    for net in (ref.netG, ref.netF, ref.netD):
        net.zero_grad(set_to_none=True)
    ref_loss_d = ref.compute_D_loss()
    ref_loss_d.backward()
    ref_grad_d = _grads(ref.netD)
    ref.netD.zero_grad(set_to_none=True)
    ref.set_requires_grad(ref.netD, False)
    ref_loss_g = ref.compute_G_loss()
    ref_loss_g.backward()
    ref_grad_g, ref_grad_f = _grads(ref.netG), _grads(ref.netF)
    ref.set_requires_grad(ref.netD, True)

    out = ours.translate_pair(real_a, real_b, flip)
    add("fake_B", _diff(ref.fake_B, out["fake_B"]))
    ours.zero_grad(set_to_none=True)
    loss_d, logs_d = ours.discriminator_loss(real_b, out["fake_B"])
    loss_d.backward()
    our_grad_d = _grads(ours.discriminator)
    ours.discriminator.requires_grad_(False)
    ids = {"nce": drawn[0]}
    if len(drawn) > 1:
        ids["nce_idt"] = drawn[1]
    loss_g, logs_g = ours.generator_loss(real_a, real_b, out, flip, patch_ids=ids)
    loss_g.backward()
    ours.discriminator.requires_grad_(True)

    add("loss_D", _diff(ref_loss_d, loss_d))
    add("loss_G", _diff(ref_loss_g, loss_g))
    add("loss_G_GAN", _diff(ref.loss_G_GAN, logs_g["loss_g_gan"]))
    add("loss_NCE", _diff(ref.loss_NCE, logs_g["loss_nce"]))
    if "loss_nce_idt" in logs_g:
        add("loss_NCE_Y", _diff(ref.loss_NCE_Y, logs_g["loss_nce_idt"]))
    if mode == "sincut":
        add("loss_D_R1", _diff(ref.loss_D_R1, logs_d["loss_d_r1"]))
        add("loss_idt", _diff(ref.loss_idt, logs_g["loss_idt"]))
    add("grad_D", _grad_diff(ref_grad_d, our_grad_d))
    add("grad_G", _grad_diff(ref_grad_g, _grads(ours.generator)))
    add("grad_F", _grad_diff(ref_grad_f, _grads(ours.patch_head)))
    for row in rows:
        row["flip"] = flip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference", help="folder of the CUT code (a checkout of taesungp/contrastive-unpaired-translation)")
    p.add_argument("--modes", nargs="+", default=["cut", "fastcut", "sincut"], choices=["cut", "fastcut", "sincut"])
    p.add_argument("--size", type=int, default=64, help="image side (64)")
    p.add_argument("--batch_size", type=int, default=2, help="images per batch (2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tolerance", type=float, default=1e-5)
    a = p.parse_args()
    worst = 0.0
    for mode in a.modes:
        for seed in (a.seed, a.seed + 1):  # two seeds; FastCUT's flip is the reference's own draw (row "flip")
            for row in run_mode(a.reference, mode, a.size, a.batch_size, seed):
                row["seed"] = seed
                print(json.dumps(row), flush=True)
                if not row["quantity"].startswith("grad_"):
                    worst = max(worst, row["max_abs_diff"])
    print(json.dumps({"max_abs_diff_all": worst, "tolerance": a.tolerance, "pass": worst <= a.tolerance}))


if __name__ == "__main__":
    main()
