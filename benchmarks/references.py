"""The reference implementations, measured like ``benchmarks/methods.py``; one JSON line per case.

    python benchmarks/references.py --reference_dir /tmp/refs --methods cyclegan pix2pix --sizes 256
    python benchmarks/methods.py --compare_reference /tmp/refs     # both, alternating, with ratio lines

Nothing of the reference code lives in this repository: it is checked out under ``--reference_dir``
(see benchmarks/README.md for the exact steps) and imported from there at run time:

- ``junyanz/``: github.com/junyanz/pytorch-CycleGAN-and-pix2pix (``models/``, ``util/``). CycleGAN:
  ``CycleGANModel.optimize_parameters`` with resnet_9blocks, basic 70x70 PatchGAN, instance norm, lsgan,
  pool 50, lambda_identity 0.5; pix2pix: ``Pix2PixModel.optimize_parameters`` with unet_256, batch norm,
  dropout, vanilla GAN, lambda_L1 100. Inference: CycleGAN ``netG_A(real_A)`` under ``no_grad`` (what
  ``TestModel.forward`` does for one direction), pix2pix ``Pix2PixModel.test()`` (no_grad, networks in
  train mode as ``test.py`` leaves them without ``--eval``). The options namespace is the minimal one
  these classes read (``reference_options``); the CUDA path passes ``gpu_ids`` like their scripts.
- ``adain/``: github.com/naoto0804/pytorch-AdaIN (``net.py``, ``function.py``, ``test.py``, ``train.py``).
  Inference: ``test.py``'s ``style_transfer(vgg, decoder, content, style, alpha=1)`` under ``no_grad``
  with ``vgg`` cut at relu4_1 as ``test.py`` does; the function is read from ``test.py`` with ``ast``
  (that script parses arguments at import). Training: ``train.py``'s loop body on ``net.Net`` (content
  weight 1, style weight 10, ``adjust_learning_rate`` read from ``train.py``, Adam on the decoder).
- ``gatys_ref.py``: a plain-PyTorch Gatys et al. 2016 in the manner of the PyTorch neural-style tutorial,
  providing ``GatysReference(content, style).step()`` = one L-BFGS iteration (``max_iter=1``).

Rows carry ``"implementation": "reference"`` and the field names of ``methods.py``. The reference code
prints while it builds its networks; that goes to stderr, so stdout stays JSON lines.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import importlib
import sys
import types
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (benchmarks/ is not a package)
    METHODS,
    FnStepper,
    Settings,
    add_common_arguments,
    case_images,
    cases,
    emit,
    gatys_files,
    run_interleaved,
    settings_from,
)


# --- loading the checkouts --------------------------------------------------------------------------------------
def _function_from(path: Path, name: str, namespace: dict[str, Any]) -> Any:
    """The top-level function ``name`` of the script ``path``, compiled alone into ``namespace``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
            exec(code, namespace)
            return namespace[name]
    raise ValueError(f"{path} defines no function {name!r}; is it the naoto0804/pytorch-AdaIN checkout?")


def load(reference_dir: str | Path) -> types.SimpleNamespace:
    """Import the reference code under ``reference_dir``; a missing checkout is None (its cases are skipped)."""
    root = Path(reference_dir)
    if not root.is_dir():
        raise SystemExit(f"reference directory {root} does not exist; see benchmarks/README.md to set it up")
    refs = types.SimpleNamespace(root=root, junyanz=None, adain=None, gatys=None, missing={})
    junyanz = root / "junyanz"
    if (junyanz / "models" / "cycle_gan_model.py").is_file():
        sys.path.insert(0, str(junyanz))
        with contextlib.redirect_stdout(sys.stderr):
            refs.junyanz = types.SimpleNamespace(
                cycle_gan=importlib.import_module("models.cycle_gan_model"),
                pix2pix=importlib.import_module("models.pix2pix_model"),
            )
    else:
        refs.missing["junyanz"] = f"{junyanz}/models/cycle_gan_model.py not found"
    adain = root / "adain"
    if (adain / "net.py").is_file():
        sys.path.insert(0, str(adain))
        function = importlib.import_module("function")
        net = importlib.import_module("net")
        refs.adain = types.SimpleNamespace(
            net=net,
            function=function,
            test_py=adain / "test.py",
            train_py=adain / "train.py",
        )
    else:
        refs.missing["adain"] = f"{adain}/net.py not found"
    gatys = root / "gatys_ref.py"
    if gatys.is_file():
        spec = importlib.util.spec_from_file_location("gatys_ref", gatys)
        refs.gatys = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(refs.gatys)
    else:
        refs.missing["gatys"] = f"{gatys} not found"
    return refs


# --- making their steps -----------------------------------------------------------------------------------------
def reference_options(method: str, cfg: Settings, train: bool) -> types.SimpleNamespace:
    """The options the reference CycleGAN / pix2pix classes read, at their defaults for ``method``."""
    opt = types.SimpleNamespace(
        gpu_ids=[cfg.device.index or 0] if cfg.is_cuda else [],
        isTrain=train,
        checkpoints_dir=str(cfg.tmp / "junyanz_checkpoints"),
        name="bench",
        preprocess="resize_and_crop",
        direction="AtoB",
        input_nc=3,
        output_nc=3,
        ngf=64,
        ndf=64,
        netD="basic",
        n_layers_D=3,
        init_type="normal",
        init_gain=0.02,
        lr=2e-4,
        beta1=0.5,
    )
    if method == "cyclegan":
        opt.__dict__.update(netG="resnet_9blocks", norm="instance", no_dropout=True, gan_mode="lsgan", pool_size=50)
        opt.__dict__.update(lambda_A=10.0, lambda_B=10.0, lambda_identity=0.5)
    else:
        opt.__dict__.update(netG="unet_256", norm="batch", no_dropout=False, gan_mode="vanilla", pool_size=0)
        opt.__dict__.update(lambda_L1=100.0)
    return opt


@contextlib.contextmanager
def grad_scaling(scaler: torch.amp.GradScaler | None, optimizers: list[torch.optim.Optimizer]):
    """fp16 on CUDA: scale every ``loss.backward()`` and route each ``optimizer.step()`` through the scaler,
    since the reference code calls them itself (Lightning's 16-mixed does the same for ours)."""
    if scaler is None:
        yield
        return
    backward = torch.Tensor.backward

    def scaled_backward(self, *args, **kwargs):
        return backward(scaler.scale(self), *args, **kwargs)

    def scaled_step_for(opt, step):
        def scaled_step(*args, **kwargs):
            opt.step = step
            try:
                scaler.step(opt, *args, **kwargs)
                scaler.update()
            finally:
                opt.step = scaled_step

        return scaled_step

    saved = [(opt, opt.step) for opt in optimizers]
    torch.Tensor.backward = scaled_backward
    for opt, step in saved:
        opt.step = scaled_step_for(opt, step)
    try:
        yield
    finally:
        torch.Tensor.backward = backward
        for opt, step in saved:
            opt.step = step


def _to(nets: list[nn.Module], cfg: Settings) -> None:
    for net in nets:
        net.to(cfg.device)
        if cfg.channels_last:
            net.to(memory_format=torch.channels_last)


def _junyanz(refs, method: str, mode: str, size: int, cfg: Settings) -> FnStepper:
    j = refs.junyanz
    cls = j.cycle_gan.CycleGANModel if method == "cyclegan" else j.pix2pix.Pix2PixModel
    if method == "pix2pix" and size % 256:
        raise ValueError(f"pix2pix's unet_256 needs sizes that are multiples of 256, got {size}")
    with contextlib.redirect_stdout(sys.stderr):
        model = cls(reference_options(method, cfg, train=mode == "train"))
    nets = [getattr(model, "net" + name) for name in model.model_names]
    _to(nets, cfg)
    if cfg.is_cuda:  # BaseModel turns cudnn.benchmark on globally; keep the setting both implementations share
        torch.backends.cudnn.benchmark = cfg.cudnn_benchmark
    a, b = (cfg.memory_format(x.to(cfg.device)) for x in case_images(size, cfg.batch_size))
    model.set_input({"A": a, "B": b, "A_paths": [], "B_paths": []})
    optimizers = list(model.optimizers)
    if mode == "train":
        scaler = torch.amp.GradScaler("cuda") if cfg.precision == "16" and cfg.is_cuda else None
        name = "CycleGANModel" if method == "cyclegan" else "Pix2PixModel"

        def fn():
            with grad_scaling(scaler, optimizers):
                model.optimize_parameters()

        what = f"junyanz {name}.optimize_parameters()"
        return FnStepper("reference", method, mode, size, cfg, what, fn, lambda: nets, lambda: optimizers)
    if method == "cyclegan":
        fn, what = (lambda: model.netG_A(model.real_A)), "junyanz netG_A(real_A) (TestModel.forward), no_grad"
    else:
        fn, what = model.test, "junyanz Pix2PixModel.test() (no_grad, train-mode G as test.py)"
    return FnStepper("reference", method, mode, size, cfg, what, fn, lambda: nets, grad="no_grad")


def _adain(refs, mode: str, size: int, cfg: Settings) -> FnStepper:
    r = refs.adain
    vgg = nn.Sequential(*list(copy.deepcopy(r.net.vgg).children())[:31])  # up to relu4_1, as test.py / train.py
    decoder = copy.deepcopy(r.net.decoder)
    content, style = ((x + 1) / 2 for x in case_images(size, cfg.batch_size))  # the AdaIN code works in [0, 1]
    content, style = (cfg.memory_format(x.to(cfg.device)) for x in (content, style))
    if mode == "infer":
        vgg.eval()
        decoder.eval()
        _to([vgg, decoder], cfg)
        namespace = {
            "torch": torch,
            "adaptive_instance_normalization": r.function.adaptive_instance_normalization,
            "device": cfg.device,
        }
        style_transfer = _function_from(r.test_py, "style_transfer", namespace)
        what = "naoto0804 test.py style_transfer(vgg, decoder, content, style, 1.0), no_grad"
        return FnStepper(
            "reference",
            "adain",
            mode,
            size,
            cfg,
            what,
            lambda: style_transfer(vgg, decoder, content, style, 1.0),
            lambda: [vgg, decoder],
            grad="no_grad",
        )
    network = r.net.Net(vgg, decoder)
    network.train()
    _to([network], cfg)
    optimizer = torch.optim.Adam(network.decoder.parameters(), lr=1e-4)
    args = types.SimpleNamespace(lr=1e-4, lr_decay=5e-5, content_weight=1.0, style_weight=10.0)
    adjust_learning_rate = _function_from(r.train_py, "adjust_learning_rate", {"args": args})
    scaler = torch.amp.GradScaler("cuda") if cfg.precision == "16" and cfg.is_cuda else None
    counter = {"i": 0}

    def fn():  # the body of train.py's loop
        adjust_learning_rate(optimizer, iteration_count=counter["i"])
        with grad_scaling(scaler, [optimizer]):
            loss_c, loss_s = network(content, style)
            loss_c = args.content_weight * loss_c
            loss_s = args.style_weight * loss_s
            loss = loss_c + loss_s
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        loss_c.item()  # train.py logs both terms every iteration
        loss_s.item()
        counter["i"] += 1

    what = "naoto0804 train.py loop body on net.Net (forward, backward, Adam step)"
    return FnStepper("reference", "adain", mode, size, cfg, what, fn, lambda: [network], lambda: [optimizer])


def _gatys(refs, size: int, cfg: Settings) -> FnStepper:
    import numpy as np
    from PIL import Image

    def load_image(path: Path) -> torch.Tensor:
        x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0)
        return x.permute(2, 0, 1).unsqueeze(0).contiguous().to(cfg.device)  # as torchvision's ToTensor

    content, style = (load_image(p) for p in gatys_files(size, cfg))  # the same files ours optimizes
    ref = refs.gatys.GatysReference(content, style)
    if cfg.channels_last:
        ref.model.to(memory_format=torch.channels_last)
    what = "gatys_ref.GatysReference.step(): one L-BFGS iteration (max_iter=1)"
    return FnStepper(
        "reference", "gatys", "iteration", size, cfg, what, ref.step, lambda: [ref.model], lambda: [ref.optimizer]
    )


def make_stepper(refs, method: str, mode: str, size: int, cfg: Settings) -> FnStepper | None:
    """The reference's stepper for a case, or None where there is no reference (patchgan) or no checkout."""
    torch.manual_seed(0)
    if method in ("cyclegan", "pix2pix") and refs.junyanz is not None:
        return _junyanz(refs, method, mode, size, cfg)
    if method == "adain" and refs.adain is not None:
        return _adain(refs, mode, size, cfg)
    if method == "gatys" and refs.gatys is not None:
        return _gatys(refs, size, cfg)
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(p)
    p.add_argument("--reference_dir", default="/tmp/refs", help="where the reference checkouts are")
    p.set_defaults(methods=[m for m in METHODS if m != "patchgan"])
    a = p.parse_args()
    cfg = settings_from(a)
    refs = load(a.reference_dir)
    for name, why in refs.missing.items():
        print(f"reference {name} skipped: {why}", file=sys.stderr)
    for method, mode, size in cases(a):
        try:
            stepper = make_stepper(refs, method, mode, size, cfg)
        except ValueError as exc:
            emit({"implementation": "reference", "method": method, "mode": mode, "size": size, "skipped": str(exc)})
            continue
        if stepper is None:
            continue
        run_interleaved([stepper], cfg.schedule())
        emit(stepper.row())


if __name__ == "__main__":
    main()
