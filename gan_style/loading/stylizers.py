"""The stylizer of a built-in method read straight from a checkpoint or a model folder, without the training code.

Running a trained model needs one network, not the ``LightningModule`` that trained it. For gan-style's own
generator methods (CycleGAN, Pix2Pix, CUT / FastCUT / SinCUT, the PatchGAN style network, MUNIT and UNIT) this
module builds the network (MUNIT, UNIT: the two networks) that runs from the file's settings, gives it its weights and wraps it in the method's stylizer, importing
neither Lightning nor the methods: ``stylize``, the demo and ``gan_style.load`` start in the time of PyTorch's own
import. Every other method (AdaIN's frozen encoder, Gatys, methods of your own) is loaded whole by
:func:`gan_style.loading.sources.build_method`; :func:`read_stylizer` returns None for them.

The file's settings are checked by the same rules as a whole method's (:mod:`gan_style.loading.spec`): the file is
plain data within the limits; the method is named by a class path this module knows; every key is a setting of that
method (:data:`PLANS` lists them; a test compares them with the methods' signatures); the network that runs is a
``{class_path, init_args}`` of :mod:`gan_style.nets` checked against its constructor; it is built on PyTorch's
``meta`` device first and refused when it asks for more values than the file holds; its weights load strictly.
Settings that inference does not read (learning rates, loss weights, the discriminators) are checked as plain data
and by name only; ``gan-style export``, ``fit`` and ``predict`` build the whole method and check them all.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gan_style.errors import GanStyleError, ModelConfigError, UnreadableFileError
from gan_style.loading.spec import INSTANTIATOR, check_plain, class_spec, key_in_path

__all__ = ["PLANS", "SCALING_KEY", "StylizerPlan", "attach_scaling", "plan_for", "read_stylizer"]

#: The package whose networks the plans build (a method whose network lives elsewhere is loaded whole).
NETWORKS_PACKAGE = "gan_style.nets"


def _generator(label: str) -> Callable[[str, Any, Mapping[str, Any]], Any]:
    def build(name: str, network: Any, settings: Mapping[str, Any]) -> Any:
        from gan_style.inference.stylizer import GeneratorStylizer

        return GeneratorStylizer(network, name=label.format(name=name))

    return build


def _two_generators(label: str, stylizer_class: str) -> Callable[[str, Any, Mapping[str, Any]], Any]:
    def build(name: str, networks: Any, settings: Mapping[str, Any]) -> Any:
        from gan_style.inference import munit

        source, target = networks
        return getattr(munit, stylizer_class)(source, target, name=f"{label} {name}")

    return build


def _pix2pix(name: str, network: Any, settings: Mapping[str, Any]) -> Any:
    from gan_style.inference.pix2pix import Pix2PixStylizer

    eval_mode = settings.get("eval_mode", False)
    if not isinstance(eval_mode, bool):
        raise ValueError(f"eval_mode must be true or false, got {type(eval_mode).__name__}")
    return Pix2PixStylizer(network, eval_mode)


@dataclass(frozen=True)
class StylizerPlan:
    """How one built-in method's stylizer is made from its settings and weights.

    Attributes:
        name: the method's class name, as messages give it (``"CycleGAN"``).
        settings: every setting of the method's constructor (a key outside them is refused, as the method would).
        networks: the networks that can run (the method's ``stylizer_networks``), the default first; each is a
            setting holding a network given as ``{class_path, init_args}`` and the prefix of its weights.
        components: every setting that takes a network (the discriminators too): each given is checked against
            its class's constructor, though only the one that runs is built.
        build: ``(network name, built network, settings) -> Stylizer``, the same stylizer the method's
            ``stylizer()`` returns; for a name in ``uses``, the built networks come as a tuple in that order.
        uses: for a stylizer made of several networks, ``network name -> the settings it is built from`` (MUNIT's
            ``a_to_b`` runs ``generator_a``'s encoder and ``generator_b``'s decoder); a name not in it runs the
            network of the same name. Empty by default.
    """

    name: str
    settings: tuple[str, ...]
    networks: tuple[str, ...]
    build: Callable[[str, Any, Mapping[str, Any]], Any]
    uses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def parts(self, name: str) -> tuple[str, ...]:
        """The settings (and weight prefixes) of the networks the stylizer ``name`` is built from."""
        return tuple(self.uses.get(name, (name,)))

    @property
    def components(self) -> tuple[str, ...]:
        """The settings that take a network: the generators and discriminators."""
        return tuple(k for k in self.settings if k.startswith(("generator", "discriminator")))


_ADVERSARIAL = ("gan_mode", "lr", "betas", "reference_weights", "on_nonfinite_loss", "diffaugment")
_CUT = (
    "generator", "discriminator", "mode", "lambda_gan", "lambda_nce", "nce_idt", "flip_equivariance", "nce_layers",
    "nce_T", "num_patches", "negatives_from_minibatch", "mlp_channels", "use_mlp", "n_epochs", "n_epochs_decay",
    *_ADVERSARIAL,
)  # fmt: skip

_TWO_DOMAIN = (
    "generator_a", "generator_b", "discriminator_a", "discriminator_b", "gan_mode", "gan_w", "recon_x_w",
    "recon_x_cyc_w", "vgg_w", "vgg_weights", "lr", "betas", "weight_decay", "step_size", "gamma",
    "reference_checkpoints", "on_nonfinite_loss",
)  # fmt: skip
# the source domain's encoder, the target domain's decoder
_TWO_DOMAIN_USES = {"a_to_b": ("generator_a", "generator_b"), "b_to_a": ("generator_b", "generator_a")}

#: Method class path -> its :class:`StylizerPlan`: the methods whose stylizer runs without the training code.
PLANS: dict[str, StylizerPlan] = {
    "gan_style.methods.cyclegan.CycleGAN": StylizerPlan(
        "CycleGAN",
        (
            "generator_ab", "generator_ba", "discriminator_a", "discriminator_b", "lambda_cycle", "lambda_identity",
            "cycle_loss", "pool_size", "n_epochs", "n_epochs_decay", "n_critic", *_ADVERSARIAL,
        ),  # fmt: skip
        ("generator_ab", "generator_ba"),
        _generator("CycleGAN {name}"),
    ),
    "gan_style.methods.pix2pix.Pix2Pix": StylizerPlan(
        "Pix2Pix",
        (
            "generator", "discriminator", "lambda_l1", "reconstruction_loss", "n_epochs", "n_epochs_decay",
            "eval_mode", "n_critic", *_ADVERSARIAL,
        ),  # fmt: skip
        ("generator",),
        _pix2pix,
    ),
    "gan_style.methods.cut.CUT": StylizerPlan("CUT", _CUT, ("generator",), _generator("CUT generator")),
    "gan_style.methods.cut.SinCUT": StylizerPlan(
        "SinCUT",
        (*_CUT, "lambda_r1", "lambda_identity", "num_crops", "crop_size", "random_scale_max"),
        ("generator",),
        _generator("SinCUT generator"),
    ),
    "gan_style.methods.patchgan_style.PatchGANStyle": StylizerPlan(
        "PatchGANStyle",
        (
            "generator", "discriminator", "vgg_weights", "content_layers", "style_layers", "content_weight",
            "style_weight", "adv_weight", "tv_weight", "r1_gamma", "patch_scales", "lr_d", "loss_network",
            "style_size", *_ADVERSARIAL,
        ),  # fmt: skip
        ("generator",),
        _generator("PatchGANStyle generator"),
    ),
    "gan_style.methods.munit.MUNIT": StylizerPlan(
        "MUNIT",
        (*_TWO_DOMAIN, "recon_s_w", "recon_c_w"),
        ("a_to_b", "b_to_a"),
        _two_generators("MUNIT", "MUNITStylizer"),
        _TWO_DOMAIN_USES,
    ),
    "gan_style.methods.unit.UNIT": StylizerPlan(
        "UNIT",
        (*_TWO_DOMAIN, "recon_kl_w", "recon_kl_cyc_w"),
        ("a_to_b", "b_to_a"),
        _two_generators("UNIT", "UNITStylizer"),
        _TWO_DOMAIN_USES,
    ),
}


#: The methods of :data:`PLANS` that ``gan_style.methods`` re-exports (a class path may name them there).
REEXPORTED = frozenset({"CycleGAN", "Pix2Pix", "PatchGANStyle"})


def plan_for(class_path: Any) -> StylizerPlan | None:
    """The :class:`StylizerPlan` of a method's class path: its defining module's (``gan_style.methods.cut.CUT``) or
    the package's re-export (``gan_style.methods.CUT``, what LightningCLI records); None for any other value."""
    if not isinstance(class_path, str):
        return None
    if class_path in PLANS:
        return PLANS[class_path]
    package, _, name = class_path.rpartition(".")
    if package == "gan_style.methods" and name in REEXPORTED:
        return next((plan for path, plan in PLANS.items() if path.rpartition(".")[2] == name), None)
    return None


def _import_networks() -> None:
    """Import gan-style's networks, so that a file can name them (the only import made; none is chosen by a file)."""
    import importlib
    import pkgutil

    package = importlib.import_module(NETWORKS_PACKAGE)
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{NETWORKS_PACKAGE}."):
        importlib.import_module(info.name)


def read_stylizer(
    class_path: Any,
    hyper_parameters: Any,
    weights: Callable[[str], Mapping[str, Any]],
    network: str | None,
    source: str,
) -> Any:
    """The stylizer of a built-in method from its file's settings, built without the method (None when the method
    has no :class:`StylizerPlan`, or names a network outside :mod:`gan_style.nets`: load it whole then).

    Args:
        class_path: the method's class path the file records (``gan_style_class``), or None to use
            ``hyper_parameters["_class_path"]``.
        hyper_parameters: the method's settings as the file holds them (Lightning's flat layout).
        weights: ``prefix -> {name without the prefix: tensor}``, the file's weights under ``prefix``
            (``"generator_ab."``).
        network: which network runs (None, the default: the plan's first).
        source: how messages name the file.

    Returns:
        The stylizer on the CPU in eval mode, or None.

    Raises:
        ModelConfigError: settings outside the rules of :mod:`gan_style.loading.spec`, an unknown setting, a network
            bigger than the file's weights.
        UnreadableFileError: weights that do not fit the network.
        ValueError: an unknown ``network`` (the message lists the choices).
    """
    if not isinstance(hyper_parameters, dict):
        return None  # the whole method's loader gives the message
    stored = hyper_parameters.get("_class_path")
    plan = plan_for(class_path if class_path is not None else stored)
    if plan is None or (stored is not None and plan_for(stored) is not plan):
        return None
    name = network if network is not None else plan.networks[0]
    if name not in plan.networks:
        raise ValueError(f"{plan.name} has no network {name!r} to run; choose one of: {', '.join(plan.networks)}")
    components = {k: hyper_parameters[k] for k in plan.components if hyper_parameters.get(k) is not None}
    parts = plan.parts(name)
    if not set(parts) <= set(components) or not all(
        isinstance(v, dict) and str(v.get("class_path", "")).startswith(f"{NETWORKS_PACKAGE}.")
        for v in components.values()
    ):
        return None  # a default network, or one given otherwise: the whole method's loader builds or refuses it
    check_plain(hyper_parameters, source, "hyper_parameters")
    settings = {k: v for k, v in hyper_parameters.items() if k not in ("_class_path", "_instantiator")}
    instantiator = hyper_parameters.get("_instantiator")
    if instantiator is not None and instantiator != INSTANTIATOR:
        shown = repr(instantiator) if isinstance(instantiator, str) and len(instantiator) < 80 else "another"
        raise ModelConfigError(
            f"{source} names the instantiator {shown} (hyper_parameters._instantiator); only {INSTANTIATOR} is "
            "accepted. The file was not loaded"
        )
    for key in settings:
        if key not in plan.settings:
            raise ModelConfigError(
                f"{source}: hyper_parameters{key_in_path(key)} is not a setting of {plan.name} (it takes "
                f"{', '.join(plan.settings)}); the file was not loaded"
            )
    import torch
    from torch import nn

    _import_networks()
    specs = {k: class_spec(v, nn.Module, source, f"hyper_parameters.{k}", depth=1) for k, v in components.items()}
    networks = []
    for part in parts:  # each network that runs: sized on the meta device, built, its weights loaded strictly
        spec = specs[part]
        state = dict(weights(f"{part}."))
        if not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise UnreadableFileError(f"{source} holds no state dict of named tensors; it is not a gan-style model")
        try:
            with torch.device("meta"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wanted = sum(t.numel() for t in spec.build().state_dict().values())
            held = sum(t.numel() for t in state.values())
            if wanted > held:
                raise ModelConfigError(
                    f"{source}: its settings build a {spec.cls.__name__} ({part}) of {wanted:,} values but the file "
                    f"holds {held:,} weights for it; the settings do not belong to these weights. The file was not "
                    "loaded"
                )
            built = spec.build()
        except GanStyleError:
            raise
        except (ValueError, TypeError, KeyError, RuntimeError, AttributeError, IndexError, OverflowError) as err:
            detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelConfigError(f"{source}: {spec.cls.__name__} refused the file's settings ({detail})") from None
        try:
            built.load_state_dict(state, strict=True)
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0]
            raise UnreadableFileError(
                f"{source}: the weights do not fit {plan.name}'s {part} as configured ({first})"
            ) from None
        networks.append(built)
    try:
        stylizer = plan.build(name, networks[0] if name not in plan.uses else tuple(networks), settings)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelConfigError(f"{source}: {plan.name} refused the file's settings ({detail})") from None
    return stylizer.eval()


#: The checkpoint entry (a model folder's ``config.json`` key ``scaling``) that records how the training data's values
#: map to [-1, 1]: ``{"A": scaling, "B": scaling}``, each a :meth:`gan_style.io.imagery.Scaling.to_dict` mapping;
#: absent for 8-bit RGB data.
SCALING_KEY = "gan_style_scaling"


def attach_scaling(stylizer: Any, stored: Any, network: str | None, source: str) -> Any:
    """Give ``stylizer`` the recorded scalings of its input and output domains (``input_scaling``,
    ``output_scaling``), so every door reads and writes files in the values the model was trained on.

    A network reads domain A and writes domain B, except one named ``*_ba`` (CycleGAN's ``generator_ba``) or
    ``b_to_a`` (MUNIT's and UNIT's), which reads B and writes A.

    Args:
        stylizer: the loaded stylizer.
        stored: the file's :data:`SCALING_KEY` entry (None: 8-bit RGB data, nothing attached).
        network: the network that runs (None: the method's default).
        source: how messages name the file.

    Returns:
        ``stylizer``.

    Raises:
        ModelConfigError: an entry that is not ``{"A": scaling, "B": scaling}`` of valid scalings (one line).
    """
    if stored is None:
        return stylizer
    from gan_style.errors import InvalidSettingError
    from gan_style.io.imagery import Scaling

    if not isinstance(stored, dict) or not set(stored) <= {"A", "B"}:
        raise ModelConfigError(f"{source}: {SCALING_KEY} must map the domains A and B to scalings; the file was not loaded")
    try:
        scalings = {d: Scaling.from_dict(v, f"{SCALING_KEY}.{d}") for d, v in stored.items() if v is not None}
    except InvalidSettingError as err:
        raise ModelConfigError(f"{source}: {err}; the file was not loaded") from None
    reads, writes = ("B", "A") if (network or "").endswith(("_ba", "b_to_a")) else ("A", "B")
    stylizer.input_scaling, stylizer.output_scaling = scalings.get(reads), scalings.get(writes)
    return stylizer
