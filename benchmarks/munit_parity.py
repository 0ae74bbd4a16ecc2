"""gan-style's MUNIT and UNIT against the authors' code (NVlabs/MUNIT), in numbers; one JSON line per quantity.

    python benchmarks/munit_parity.py /tmp/munit_ref                  # a copy of github.com/NVlabs/MUNIT
    python benchmarks/munit_parity.py /tmp/munit_ref --size 128 --batch_size 2

The reference is imported from the folder given (its ``networks.py``, ``trainer.py``, ``utils.py``, ``data.py``),
never copied into this repository. It is written for CUDA and PyTorch 0.4: on a machine without CUDA its ``.cuda()``
calls are made no-ops while it runs, and its ``utils.py`` import of ``torch.utils.serialization`` (gone from
PyTorch) gets an empty stand-in (only the VGG loss used it; ``vgg_w`` is 0 here, as in the configs).

For each case the script builds the reference trainer (``MUNIT_Trainer`` / ``UNIT_Trainer``) from the settings of
the authors' configs (MUNIT: ``configs/edges2shoes_folder.yaml`` as it is, and the same with ``recon_x_cyc_w: 10``
as in ``summer2winter_yosemite256_folder.yaml``; UNIT: ``unit_summer2winter_yosemite256_folder.yaml`` of
mingyuliutw/UNIT, whose values are written below), loads its four networks' state dicts into gan-style's method
*strictly* (that is the layout check), and compares on the same random inputs and the same random numbers:

- ``content``, ``style``, ``decoder``: the encoders' and decoders' outputs (UNIT: ``latent``, ``decoder``);
- ``dis_outputs``: the multi-scale discriminator's score maps; ``calc_dis_loss`` / ``calc_gen_loss`` against the
  multi-scale losses on the registry's GAN loss;
- ``kl`` (UNIT): the code's ``__compute_kl`` against the registry's ``gaussian_kl``;
- one whole training iteration, as the code's ``train.py`` runs it: ``dis_update`` then ``gen_update`` against
  ``discriminator_loss`` / ``generator_loss`` with the same Adam settings: ``loss_d``, ``loss_d_a``, ``loss_d_b``,
  ``loss_g`` and every term of it, the gradients (``grad_D``, ``grad_G``) and the weights after each update
  (``weights_D``, ``weights_G``).

Each line: ``{"case", "quantity", "max_abs_diff", "scale", "relative"}`` (``scale``: the largest absolute value
compared; ``relative`` = max_abs_diff / scale); the last line ``{"max_abs_diff_all", "tolerance", "pass",
"max_relative_grad"}``: the largest difference of the values (outputs, codes, losses; goal ``<= 1e-5``), and the
largest relative difference of the gradients.

Gradients and updated weights are reported, not judged by the tolerance: the two implementations round differently
in the last float32 bit (the code's AdaIN normalizes with ``F.batch_norm`` on a (1, N*C, H, W) view, gan-style's with
an ``nn.InstanceNorm2d`` and then its affine parameters, so tiles and video can switch it to whole-image or
time-averaged statistics), and the losses are L1 distances: where a content code and its reconstruction differ by
less than that rounding (a few 1e-6 on codes of size ~10), the sign of ``|c^ - c|``'s gradient can differ in one
element, which moves the gradients by up to ~1e-3 (seen at the configs' widths with ``recon_x_cyc_w`` 10). Adam
then turns rounding noise in gradients whose true value is 0 (the biases of convolutions followed by instance norm)
into steps of up to ``lr``, so the weights after one update differ by up to ``2 lr`` there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import types
from pathlib import Path

import torch

#: mingyuliutw/UNIT configs/unit_summer2winter_yosemite256_folder.yaml (the optimization and loss part).
UNIT_SETTINGS = dict(
    weight_decay=0.0001, beta1=0.5, beta2=0.999, init="kaiming", lr=0.0001, lr_policy="step", step_size=100000,
    gamma=0.5, gan_w=1, recon_x_w=10, recon_h_w=0, recon_kl_w=0.01, recon_x_cyc_w=10, recon_kl_cyc_w=0.01, vgg_w=0,
)  # fmt: skip


@contextlib.contextmanager
def reference_on_cpu():
    """Let the CUDA-only reference run on the CPU: ``Tensor.cuda`` returns the tensor itself while active."""
    if torch.cuda.is_available():
        yield
        return
    saved = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda = saved


def import_reference(ref_root: str):
    """The reference's ``trainer`` module, imported from ``ref_root``."""
    root = str(Path(ref_root).resolve())
    if not (Path(root) / "trainer.py").is_file():
        raise SystemExit(f"{ref_root} holds no trainer.py: give a copy of github.com/NVlabs/MUNIT")
    if root not in sys.path:
        sys.path.insert(0, root)
    try:  # load_lua was removed from PyTorch; the reference imports it for its VGG loss only
        import torch.utils.serialization as serialization
    except ImportError:
        serialization = sys.modules["torch.utils.serialization"] = types.ModuleType("torch.utils.serialization")
    if not hasattr(serialization, "load_lua"):
        serialization.load_lua = None
    import trainer

    return trainer


def _diff(a, b) -> tuple[float, float]:
    if isinstance(a, (list, tuple)):
        pairs = [_diff(x, y) for x, y in zip(a, b)]
        return max(p[0] for p in pairs), max(p[1] for p in pairs)
    a, b = torch.as_tensor(a).detach().double(), torch.as_tensor(b).detach().double()
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    return float((a - b).abs().max()), float(torch.maximum(a.abs(), b.abs()).max())


def _params_diff(ref: list[torch.nn.Module], ours: list[torch.nn.Module], grads: bool) -> tuple[float, float]:
    worst, scale = 0.0, 0.0
    for r, o in zip(ref, ours):
        rp, op = dict(r.named_parameters()), dict(o.named_parameters())
        if set(rp) != set(op):
            raise AssertionError(f"parameters differ: {sorted(set(rp) ^ set(op))[:5]}")
        for k in rp:
            a, b = (rp[k].grad, op[k].grad) if grads else (rp[k], op[k])
            if a is None and b is None:
                continue
            d, s = _diff(a, b)
            worst, scale = max(worst, d), max(scale, s)
    return worst, scale


def _inputs(batch_size: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch_size, 3, size, size, generator=g) * 2 - 1 for _ in range(2))


def _load_into(ref_trainer, ours) -> None:
    """The reference networks' state dicts into ours, strictly (the key layout check)."""
    for r, o in (("gen_a", "generator_a"), ("gen_b", "generator_b"), ("dis_a", "discriminator_a"),
                 ("dis_b", "discriminator_b")):  # fmt: skip
        getattr(ours, o).load_state_dict(getattr(ref_trainer, r).state_dict(), strict=True)


def run_munit(trainer_module, ref_root: str, size: int, batch_size: int, seed: int, cyc: float) -> list[dict]:
    import yaml

    from gan_style.methods.munit import MUNIT, multiscale_discriminator_loss, multiscale_generator_loss
    from gan_style.nets.munit import MultiScaleDiscriminator, MUNITGenerator

    config = yaml.safe_load((Path(ref_root) / "configs" / "edges2shoes_folder.yaml").read_text())
    config.update(recon_x_cyc_w=cyc, display_size=batch_size)
    case = f"munit (edges2shoes config, recon_x_cyc_w {cyc:g})"
    gen, dis = config["gen"], config["dis"]
    torch.manual_seed(seed)
    with reference_on_cpu():
        ref = trainer_module.MUNIT_Trainer(config)

    def g():
        return MUNITGenerator(config["input_dim_a"], gen["dim"], gen["style_dim"], gen["n_downsample"], gen["n_res"],
                              gen["mlp_dim"], gen["activ"], gen["pad_type"])  # fmt: skip

    def d():
        return MultiScaleDiscriminator(config["input_dim_a"], dis["dim"], dis["n_layer"], dis["num_scales"],
                                       dis["norm"], dis["activ"], dis["pad_type"])  # fmt: skip

    ours = MUNIT(g(), g(), d(), d(), gan_mode="lsgan", gan_w=config["gan_w"], recon_x_w=config["recon_x_w"],
                 recon_s_w=config["recon_s_w"], recon_c_w=config["recon_c_w"], recon_x_cyc_w=cyc, vgg_w=0.0,
                 lr=config["lr"], betas=(config["beta1"], config["beta2"]), weight_decay=config["weight_decay"],
                 step_size=config["step_size"], gamma=config["gamma"])  # fmt: skip
    _load_into(ref, ours)
    x_a, x_b = _inputs(batch_size, size, seed + 1)
    rows = []

    def row(quantity, a, b):
        diff, scale = _diff(a, b)
        rows.append({"case": case, "quantity": quantity, "max_abs_diff": diff, "scale": scale})

    with torch.no_grad(), reference_on_cpu():
        c_ref, s_ref = ref.gen_a.encode(x_a)
        c_ours, s_ours = ours.generator_a.encode(x_a)
        row("content", c_ref, c_ours)
        row("style", s_ref, s_ours)
        style = torch.randn(batch_size, gen["style_dim"], 1, 1, generator=torch.Generator().manual_seed(seed + 2))
        row("decoder", ref.gen_b.decode(c_ref, style), ours.generator_b.decode(c_ref, style))
        row("dis_outputs", ref.dis_a(x_a), ours.discriminator_a(x_a))
        fake = ref.gen_a.decode(c_ref, style)
        row(
            "calc_dis_loss",
            ref.dis_a.calc_dis_loss(fake, x_a),
            multiscale_discriminator_loss(ours.gan_loss, ours.discriminator_a(fake), ours.discriminator_a(x_a)),
        )
        row("calc_gen_loss", ref.dis_a.calc_gen_loss(fake),
            multiscale_generator_loss(ours.gan_loss, ours.discriminator_a(fake)))  # fmt: skip

    (opt_g, opt_d), _ = ours.configure_optimizers()
    # one iteration of the reference's train.py: dis_update, then gen_update, each from the same random state
    torch.manual_seed(seed + 3)
    with reference_on_cpu():
        ref.dis_update(x_a, x_b, config)
    torch.manual_seed(seed + 3)
    opt_d.zero_grad()
    s_a, s_b = ours.random_styles(batch_size, x_a)
    with torch.no_grad():
        fake_a, fake_b = ours.translations(x_a, x_b, s_a, s_b)
    loss_d, logs_d = ours.discriminator_loss(x_a, x_b, fake_a, fake_b)
    loss_d.backward()
    row("loss_d", ref.loss_dis_total, loss_d)
    row("loss_d_a", ref.loss_dis_a, logs_d["loss_d_a"])
    row("loss_d_b", ref.loss_dis_b, logs_d["loss_d_b"])
    rows.append({"case": case, "quantity": "grad_D",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.dis_a, ref.dis_b],
                                                                     [ours.discriminator_a, ours.discriminator_b], True)))})  # fmt: skip
    opt_d.step()
    rows.append({"case": case, "quantity": "weights_D",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.dis_a, ref.dis_b],
                                                                     [ours.discriminator_a, ours.discriminator_b], False)))})  # fmt: skip

    torch.manual_seed(seed + 4)
    with reference_on_cpu():
        ref.gen_update(x_a, x_b, config)
    torch.manual_seed(seed + 4)
    opt_g.zero_grad()
    for p in itertools_params(ours.discriminator_a, ours.discriminator_b):
        p.requires_grad_(False)  # as Lightning's toggled_optimizer: the generator step leaves D's gradients alone
    s_a, s_b = ours.random_styles(batch_size, x_a)
    out = ours.cycle(x_a, x_b, s_a, s_b)
    loss_g, logs_g = ours.generator_loss(x_a, x_b, out)
    loss_g.backward()
    names = {"loss_g": "loss_gen_total", "loss_g_adv_a": "loss_gen_adv_a", "loss_g_adv_b": "loss_gen_adv_b",
             "loss_recon_x_a": "loss_gen_recon_x_a", "loss_recon_x_b": "loss_gen_recon_x_b",
             "loss_recon_s_a": "loss_gen_recon_s_a", "loss_recon_s_b": "loss_gen_recon_s_b",
             "loss_recon_c_a": "loss_gen_recon_c_a", "loss_recon_c_b": "loss_gen_recon_c_b",
             "loss_cyc_x_a": "loss_gen_cycrecon_x_a", "loss_cyc_x_b": "loss_gen_cycrecon_x_b"}  # fmt: skip
    for ours_name, ref_name in names.items():
        if ours_name in logs_g:
            row(ours_name, getattr(ref, ref_name), logs_g[ours_name])
    rows.append({"case": case, "quantity": "grad_G",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.gen_a, ref.gen_b],
                                                                     [ours.generator_a, ours.generator_b], True)))})  # fmt: skip
    opt_g.step()
    rows.append({"case": case, "quantity": "weights_G",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.gen_a, ref.gen_b],
                                                                     [ours.generator_a, ours.generator_b], False)))})  # fmt: skip
    return rows


def itertools_params(*nets: torch.nn.Module):
    for net in nets:
        yield from net.parameters()


def run_unit(trainer_module, size: int, batch_size: int, seed: int) -> list[dict]:
    from gan_style.losses import create_loss
    from gan_style.methods.unit import UNIT
    from gan_style.nets.munit import MultiScaleDiscriminator, UNITGenerator

    gen = dict(dim=64, mlp_dim=256, style_dim=8, activ="relu", n_downsample=2, n_res=4, pad_type="reflect")
    dis = dict(dim=64, norm="none", activ="lrelu", n_layer=4, gan_type="lsgan", num_scales=3, pad_type="reflect")
    config = dict(UNIT_SETTINGS, gen=gen, dis=dis, input_dim_a=3, input_dim_b=3, display_size=batch_size)
    case = "unit (unit_summer2winter_yosemite256 config)"
    torch.manual_seed(seed)
    with reference_on_cpu():
        ref = trainer_module.UNIT_Trainer(config)

    def g():
        return UNITGenerator(3, gen["dim"], gen["n_downsample"], gen["n_res"], gen["activ"], gen["pad_type"])

    def d():
        return MultiScaleDiscriminator(3, dis["dim"], dis["n_layer"], dis["num_scales"], dis["norm"], dis["activ"],
                                       dis["pad_type"])  # fmt: skip

    s = UNIT_SETTINGS
    ours = UNIT(g(), g(), d(), d(), gan_w=s["gan_w"], recon_x_w=s["recon_x_w"], recon_kl_w=s["recon_kl_w"],
                recon_x_cyc_w=s["recon_x_cyc_w"], recon_kl_cyc_w=s["recon_kl_cyc_w"], vgg_w=0.0, lr=s["lr"],
                betas=(s["beta1"], s["beta2"]), weight_decay=s["weight_decay"], step_size=s["step_size"],
                gamma=s["gamma"])  # fmt: skip
    _load_into(ref, ours)
    x_a, x_b = _inputs(batch_size, size, seed + 1)
    rows = []

    def row(quantity, a, b):
        diff, scale = _diff(a, b)
        rows.append({"case": case, "quantity": quantity, "max_abs_diff": diff, "scale": scale})

    with torch.no_grad(), reference_on_cpu():
        h_ref, _ = ref.gen_a.encode(x_a)
        h_ours = ours.generator_a.encode(x_a)
        row("latent", h_ref, h_ours)
        row("decoder", ref.gen_b.decode(h_ref), ours.generator_b.decode(h_ref))
        row("kl", ref._UNIT_Trainer__compute_kl(h_ref), create_loss("gaussian_kl")(h_ref))
        row("dis_outputs", ref.dis_b(x_b), ours.discriminator_b(x_b))

    (opt_g, opt_d), _ = ours.configure_optimizers()
    torch.manual_seed(seed + 3)
    with reference_on_cpu():
        ref.dis_update(x_a, x_b, config)
    torch.manual_seed(seed + 3)
    opt_d.zero_grad()
    with torch.no_grad():
        fake_a, fake_b = ours.translations(x_a, x_b)
    loss_d, logs_d = ours.discriminator_loss(x_a, x_b, fake_a, fake_b)
    loss_d.backward()
    row("loss_d", ref.loss_dis_total, loss_d)
    row("loss_d_a", ref.loss_dis_a, logs_d["loss_d_a"])
    row("loss_d_b", ref.loss_dis_b, logs_d["loss_d_b"])
    rows.append({"case": case, "quantity": "grad_D",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.dis_a, ref.dis_b],
                                                                     [ours.discriminator_a, ours.discriminator_b], True)))})  # fmt: skip
    opt_d.step()
    rows.append({"case": case, "quantity": "weights_D",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.dis_a, ref.dis_b],
                                                                     [ours.discriminator_a, ours.discriminator_b], False)))})  # fmt: skip

    torch.manual_seed(seed + 4)
    with reference_on_cpu():
        ref.gen_update(x_a, x_b, config)
    torch.manual_seed(seed + 4)
    opt_g.zero_grad()
    for p in itertools_params(ours.discriminator_a, ours.discriminator_b):
        p.requires_grad_(False)
    out = ours.cycle(x_a, x_b)
    loss_g, logs_g = ours.generator_loss(x_a, x_b, out)
    loss_g.backward()
    names = {"loss_g": "loss_gen_total", "loss_g_adv_a": "loss_gen_adv_a", "loss_g_adv_b": "loss_gen_adv_b",
             "loss_recon_x_a": "loss_gen_recon_x_a", "loss_recon_x_b": "loss_gen_recon_x_b",
             "loss_kl_a": "loss_gen_recon_kl_a", "loss_kl_b": "loss_gen_recon_kl_b",
             "loss_kl_cyc_a": "loss_gen_recon_kl_cyc_aba", "loss_kl_cyc_b": "loss_gen_recon_kl_cyc_bab",
             "loss_cyc_x_a": "loss_gen_cyc_x_a", "loss_cyc_x_b": "loss_gen_cyc_x_b"}  # fmt: skip
    for ours_name, ref_name in names.items():
        row(ours_name, getattr(ref, ref_name), logs_g[ours_name])
    rows.append({"case": case, "quantity": "grad_G",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.gen_a, ref.gen_b],
                                                                     [ours.generator_a, ours.generator_b], True)))})  # fmt: skip
    opt_g.step()
    rows.append({"case": case, "quantity": "weights_G",
                 **dict(zip(("max_abs_diff", "scale"), _params_diff([ref.gen_a, ref.gen_b],
                                                                     [ours.generator_a, ours.generator_b], False)))})  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ref_root", help="a copy of github.com/NVlabs/MUNIT (outside this repository)")
    p.add_argument("--size", type=int, default=64, help="image side (>= 64, the discriminators' smallest; 64)")
    p.add_argument("--batch_size", type=int, default=2, help="images per domain (2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, inputs and random codes (0)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest difference that passes (1e-5)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    trainer_module = import_reference(a.ref_root)
    rows = []
    for cyc in (0.0, 10.0):
        rows += run_munit(trainer_module, a.ref_root, a.size, a.batch_size, a.seed, cyc)
    rows += run_unit(trainer_module, a.size, a.batch_size, a.seed)
    worst, worst_grad = 0.0, 0.0
    for row in rows:
        row["relative"] = row["max_abs_diff"] / row["scale"] if row["scale"] else 0.0
        print(json.dumps(row), flush=True)
        if row["quantity"].startswith("grad_"):
            worst_grad = max(worst_grad, row["relative"])
        elif not row["quantity"].startswith("weights_"):
            worst = max(worst, row["max_abs_diff"])
    summary = {"max_abs_diff_all": worst, "tolerance": a.tolerance, "pass": worst <= a.tolerance}
    print(json.dumps({**summary, "max_relative_grad": worst_grad}))


if __name__ == "__main__":
    main()
