"""Temporal consistency for video: normalization statistics averaged over time, blending along the optical flow,
and the warping error that measures flicker.

- ``stats`` (:class:`MovingStatistics`, :class:`SmoothedNorm`): a network normalizes every frame with an
  exponential moving average of the frames' own statistics instead of each frame's, the same switch as the
  whole-image statistics of tiles (:mod:`gan_style.inference.tiling`) but along time. A stylizer says how
  (:meth:`gan_style.inference.Stylizer.plan_frames`): instance-norm networks through :class:`SmoothedNorm`,
  AdaIN by averaging its content statistics itself.
- ``flow`` (:class:`FlowBlender`): the previous output, warped by the optical flow between the input frames,
  is blended into the new output where the flow is reliable (forward-backward consistency, no motion
  boundary), as Ruder et al. (2016, 2018) do at inference. Flow from OpenCV's DIS (Kroeger et al. 2016) or
  Farneback (2003): classical methods, no learned weights.
- the temporal warping error :func:`warping_error` (Lai et al. 2018, "Learning Blind Video Temporal
  Consistency", Sec. 5) and :func:`stylization_distance` (how far the consistent output moved from the per-frame
  stylization), both in [0, 1] pixel units squared;
- :func:`camera_path_clip`: a clip made from one photo by a known camera path (pan, zoom) or a pasted moving
  object, with its true optical flow, so the measurements do not depend on an estimated flow.

Flow fields are ``(..., H, W, 2)`` float tensors or arrays in pixels, ``(dx, dy)``: the point at pixel ``(x, y)``
of the source frame is at ``(x + dx, y + dy)`` in the target frame (OpenCV's convention).

OpenCV (``opencv-python-headless``) is needed for the estimated flow only (``pip install "gan-style[video]"``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.errors import MissingDependencyError

__all__ = [
    "FlowBlender",
    "MovingStatistics",
    "SmoothedNorm",
    "SyntheticClip",
    "camera_path_clip",
    "consistency_mask",
    "optical_flow",
    "stylization_distance",
    "warp",
    "warping_error",
]

VIDEO_EXTRA = 'pip install "gan-style[video]"'


# --- statistics along time ------------------------------------------------------------------------------------
class MovingStatistics:
    """An exponential moving average of per-channel statistics over the frames of a clip, in order.

    For frame t with its own statistics ``(mu_t, var_t)`` it gives ``m_t = smoothing * m_(t-1) + (1 - smoothing)
    * mu_t`` and ``v_t = smoothing * v_(t-1) + (1 - smoothing) * var_t``, with ``(m_0, v_0) = (mu_0, var_0)``:
    a first-order low-pass filter with a time constant of about ``1 / (1 - smoothing)`` frames (10 at 0.9).

    Args:
        smoothing: weight of the past in [0, 1) (0.9); 0 gives each frame its own statistics.

    Raises:
        ValueError: ``smoothing`` outside [0, 1).
    """

    def __init__(self, smoothing: float = 0.9) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = float(smoothing)
        self.state: tuple[Tensor, Tensor] | None = None

    def reset(self) -> None:
        """Forget the past (a new clip starts)."""
        self.state = None

    def __call__(self, mean: Tensor, var: Tensor) -> tuple[Tensor, Tensor]:
        """Averaged statistics of a batch of consecutive frames.

        Args:
            mean: ``(b, C)`` each frame's own mean, frames in time order (any float dtype, any device).
            var: ``(b, C)`` each frame's own variance.

        Returns:
            ``(m, v)``, each ``(b, C)`` float32: the averages used for each of the b frames; the last is kept for
            the next call.
        """
        s = self.smoothing
        means, variances = [], []
        for mu, v in zip(mean.float(), var.float()):
            if self.state is None:
                self.state = (mu, v)
            else:
                m_prev, v_prev = self.state
                self.state = (s * m_prev.to(mu) + (1 - s) * mu, s * v_prev.to(v) + (1 - s) * v)
            means.append(self.state[0])
            variances.append(self.state[1])
        return torch.stack(means), torch.stack(variances)


class SmoothedNorm:
    """The normalization layers of a network, switched to statistics averaged over time while the frames of one
    clip go through it (a context manager; one instance per clip).

    Covers ``nn.InstanceNorm2d`` and ``nn.BatchNorm2d`` whenever they normalize with the statistics of their
    input (instance norm without running statistics, batch norm in training mode), the layers that
    :func:`gan_style.inference.tiling.tiled_apply` switches to whole-image statistics (there with forward hooks,
    here by standing in for the layer's forward while the context is open). For each such layer and
    each frame of a batch (in time order), the per-channel mean and (biased) variance of that frame's input go
    through a :class:`MovingStatistics`, and the layer's output becomes ``(x - m_t) / sqrt(v_t + eps)``, times its
    affine weight plus its bias when it has them. Layers with running statistics in use are left alone. Each
    layer must run once per forward pass; frames must come in order.

    Args:
        net: the network (or a module holding it, such as a stylizer).
        smoothing: weight of the past, in [0, 1) (0.9), see :class:`MovingStatistics`.

    Raises:
        ValueError: ``smoothing`` outside [0, 1).
    """

    def __init__(self, net: nn.Module, smoothing: float = 0.9) -> None:
        self.layers = [m for m in net.modules() if isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d))]
        self.averages = {m: MovingStatistics(smoothing) for m in self.layers}

    def __enter__(self) -> SmoothedNorm:
        # each layer's forward is replaced for the duration (rather than a forward hook that would recompute the
        # layer's output): the normalization runs once, with the averaged statistics
        for layer in self.layers:
            layer.forward = functools.partial(self._forward, layer)
        return self

    def __exit__(self, *exc: object) -> None:
        for layer in self.layers:
            layer.__dict__.pop("forward", None)

    def reset(self) -> None:
        """Forget the past of every layer (a new clip starts)."""
        for average in self.averages.values():
            average.reset()

    def _forward(self, module: nn.Module, x: Tensor) -> Tensor:
        if not (module.training or not module.track_running_stats):
            return type(module).forward(module, x)  # running statistics: the same for every frame already
        xf = x if x.dtype == torch.float32 else x.float()
        var, mean = torch.var_mean(xf, dim=(2, 3), correction=0)
        m, v = self.averages[module](mean, var)
        scale = torch.rsqrt(v + module.eps)  # (b, C): y = x * scale + shift, one pass over x
        if module.affine:
            scale = scale * module.weight.float()
            shift = module.bias.float() - m * scale
        else:
            shift = -m * scale
        shape = (x.shape[0], -1, 1, 1)
        return torch.addcmul(shift.view(shape), xf, scale.view(shape)).to(x.dtype)


# --- optical flow -------------------------------------------------------------------------------------------
def _cv2():
    try:
        import cv2
    except ImportError as exc:
        raise MissingDependencyError(
            f"optical flow (--temporal flow) needs OpenCV, which is not installed: {VIDEO_EXTRA}"
        ) from exc
    return cv2


def to_grey(frame: Tensor) -> np.ndarray:
    """A frame ``(3, H, W)`` or ``(1, 3, H, W)`` in [-1, 1] as an ``(H, W)`` uint8 grey image (Rec. 601 luma)
    for the flow estimators."""
    x = frame.reshape(-1, *frame.shape[-2:])[:3].float().cpu()
    y = 0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2] if x.shape[0] == 3 else x[0]
    return ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


class _FlowEstimator:
    """One OpenCV flow estimator, created once and reused (DIS keeps its settings in an object)."""

    def __init__(self, method: Literal["dis", "farneback"] = "dis") -> None:
        if method not in ("dis", "farneback"):
            raise ValueError(f"flow method must be 'dis' or 'farneback', got {method!r}")
        self.cv2 = _cv2()
        self.method = method
        self.dis = self.cv2.DISOpticalFlow_create(self.cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) if method == "dis" else None

    def __call__(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        if self.dis is not None:
            return self.dis.calc(source, target, None)
        # Farneback (2003) with OpenCV's documented example settings: pyramid 0.5, 3 levels, window 15
        return self.cv2.calcOpticalFlowFarneback(source, target, None, 0.5, 3, 15, 3, 5, 1.2, 0)


def optical_flow(source: np.ndarray, target: np.ndarray, method: Literal["dis", "farneback"] = "dis") -> np.ndarray:
    """Dense optical flow from ``source`` to ``target`` with OpenCV: ``(H, W, 2)`` float32 pixels, ``(dx, dy)``.

    Args:
        source: ``(H, W)`` uint8 grey image (:func:`to_grey`).
        target: the same size.
        method: ``"dis"`` (default; Dense Inverse Search, Kroeger et al. 2016, OpenCV's medium preset) or
            ``"farneback"`` (Farneback 2003; slower, smoother).

    Raises:
        MissingDependencyError: OpenCV is not installed.
        ValueError: an unknown ``method``.
    """
    return _FlowEstimator(method)(source, target)


def warp(image: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
    """Backward warping: ``out(x) = image(x + flow(x))``, bilinear.

    Args:
        image: ``(N, C, H, W)`` float.
        flow: ``(N, H, W, 2)`` or ``(H, W, 2)`` pixels ``(dx, dy)``, defined on the output's pixels (from the
            output frame to ``image``'s frame).

    Returns:
        ``(warped (N, C, H, W), inside (N, 1, H, W) bool)``: ``inside`` is False where ``x + flow(x)`` falls
        outside ``image`` (there ``warped`` is 0). At integer displacements the values are exact copies.
    """
    n, _, h, w = image.shape
    flow = flow.to(device=image.device, dtype=torch.float32)
    if flow.dim() == 3:
        flow = flow.unsqueeze(0).expand(n, -1, -1, -1)
    ys, xs = torch.meshgrid(
        torch.arange(h, device=image.device, dtype=torch.float32),
        torch.arange(w, device=image.device, dtype=torch.float32),
        indexing="ij",
    )
    px, py = xs + flow[..., 0], ys + flow[..., 1]
    grid = torch.stack((2 * px / max(w - 1, 1) - 1, 2 * py / max(h - 1, 1) - 1), dim=-1)
    warped = F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    eps = 1e-3
    inside = (px >= -eps) & (px <= w - 1 + eps) & (py >= -eps) & (py <= h - 1 + eps)
    return warped, inside.unsqueeze(1)


def consistency_mask(flow: Tensor, reverse: Tensor, motion_boundaries: bool = True) -> Tensor:
    """Where ``flow`` is reliable: the forward-backward consistency check of Ruder et al. (2016, Sec. 3.2).

    With ``w = flow(x)`` (frame a -> b, on a's pixels) and ``w' = reverse(x + w)`` (b -> a, sampled where x lands),
    a pixel is kept when ``|w + w'|^2 <= 0.01 (|w|^2 + |w'|^2) + 0.5`` (disoccluded pixels fail: the reverse
    flow there belongs to another surface), it lands inside frame b, and, with ``motion_boundaries``, it is not
    on a motion boundary: ``|grad u|^2 + |grad v|^2 <= 0.01 |w|^2 + 0.002`` (forward differences).

    Args:
        flow: ``(H, W, 2)`` or ``(N, H, W, 2)`` from frame a to frame b.
        reverse: the same shape, from b to a.
        motion_boundaries: also drop motion boundaries (True).

    Returns:
        ``(N, 1, H, W)`` bool (N = 1 for 3-D inputs), on ``flow``'s device.
    """
    flow = flow.float().unsqueeze(0) if flow.dim() == 3 else flow.float()
    reverse = reverse.float().unsqueeze(0) if reverse.dim() == 3 else reverse.float()
    back, inside = warp(reverse.permute(0, 3, 1, 2).to(flow.device), flow)
    w = flow.permute(0, 3, 1, 2)
    ok = ((w + back) ** 2).sum(1, keepdim=True) <= 0.01 * (
        (w**2).sum(1, keepdim=True) + (back**2).sum(1, keepdim=True)
    ) + 0.5
    ok = ok & inside
    if motion_boundaries:
        dx = F.pad(w[..., :, 1:] - w[..., :, :-1], (0, 1))
        dy = F.pad(w[..., 1:, :] - w[..., :-1, :], (0, 0, 0, 1))
        gradient = (dx**2 + dy**2).sum(1, keepdim=True)
        ok = ok & (gradient <= 0.01 * (w**2).sum(1, keepdim=True) + 0.002)
    return ok


class FlowBlender:
    """Temporal consistency along the optical flow at inference (after Ruder et al. 2016, 2018): each output is
    blended with the previous output warped into the current frame, where the flow is reliable.

    Blending rule, for frame t with the network's output ``s_t`` (the per-frame stylization)::

        y_0 = s_0
        y_t = s_t + weight * c_t * (W_t(y_(t-1)) - s_t)

    ``W_t`` warps the previous *output* into frame t along the flow from input frame t to input frame t - 1
    (estimated by OpenCV on the grey input frames, :func:`optical_flow`); ``c_t`` in {0, 1} is the
    forward-backward consistency mask (:func:`consistency_mask`: no disocclusion, no motion boundary, inside the
    frame), so disoccluded regions and new content take the per-frame stylization as it is. Because ``y_(t-1)``
    is itself blended, a stylized pattern is carried along the motion with weights ``weight^k`` for k frames back
    (a moving average along trajectories with a time constant of ``1 / (1 - weight)`` frames); default weight
    0.7 (about 3 frames), measured in ``benchmarks/video.py``: it lowers the warping error by 81-92% on the pan and
    zoom test clips (Johnson network, CycleGAN ResNet generator, AdaIN; 256 and 512 pixels) while the output stays
    within a mean squared distance of about 0.01-0.02 ([0, 1] units) of the per-frame stylization.

    Args:
        weight: how much of the warped previous output is kept where the flow is reliable, in [0, 1] (0.7);
            0 gives the per-frame stylization, values near 1 smear moving content.
        method: flow estimator, ``"dis"`` (default) or ``"farneback"`` (:func:`optical_flow`).

    Raises:
        ValueError: ``weight`` outside [0, 1] or an unknown ``method``.
        MissingDependencyError: OpenCV is not installed.
    """

    def __init__(self, weight: float = 0.7, method: Literal["dis", "farneback"] = "dis") -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"flow weight must be in [0, 1], got {weight}")
        self.weight = float(weight)
        self.estimate = _FlowEstimator(method)
        self.previous: tuple[np.ndarray, Tensor] | None = None

    def reset(self) -> None:
        """Forget the previous frame (a new clip starts)."""
        self.previous = None

    def __call__(self, frames: Tensor, outputs: Tensor) -> Tensor:
        """Blend a batch of consecutive frames' outputs, in time order.

        Args:
            frames: ``(b, 3, H, W)`` input frames in [-1, 1] (what went into the network).
            outputs: ``(b, C, H, W)`` the network's outputs for them, in [-1, 1].

        Returns:
            ``(b, C, H, W)`` float32 blended outputs on ``outputs``' device, in [-1, 1].
        """
        blended = []
        for frame, out in zip(frames, outputs.float()):
            grey = to_grey(frame)
            out = out.unsqueeze(0)
            if self.previous is not None and self.weight > 0:
                grey_prev, out_prev = self.previous
                back = torch.from_numpy(self.estimate(grey, grey_prev))  # frame t -> t - 1, on t's pixels
                fwd = torch.from_numpy(self.estimate(grey_prev, grey))
                reliable = consistency_mask(back, fwd).to(out.device)
                warped, _ = warp(out_prev, back)
                out = out + self.weight * reliable.to(out.dtype) * (warped - out)
            self.previous = (grey, out)
            blended.append(out)
        return torch.cat(blended).clamp(-1.0, 1.0)


# --- measurements -------------------------------------------------------------------------------------------
def warping_error(frames: Tensor | Sequence[Tensor], flows: Tensor, masks: Tensor | None = None) -> float:
    """The temporal warping error E_warp of Lai et al. (2018, Sec. 5, Eq. 9), as their evaluation code computes it.

    For each pair of consecutive frames, frame t + 1 is warped back to frame t along the flow t -> t + 1
    (:func:`warp`, bilinear) and compared with frame t over the non-occluded pixels::

        E_t = sum_(x, c) M_t(x) (V_t(x, c) - V^_(t+1)(x, c))^2 / (3 sum_x M_t(x))
        E_warp = mean over t of E_t

    with images in [0, 1] and the mean taken over the three channels as well (the authors' code divides by the
    sum of a three-channel mask; the paper's Eq. 9 writes the squared norm over channels, three times this).
    A pair without any non-occluded pixel counts the mean over all pixels instead, as in that code. Lower is
    more consistent; a perfectly warped sequence gives 0.

    Args:
        frames: ``(T, C, H, W)`` (or a sequence of ``(C, H, W)`` / ``(1, C, H, W)``) in [-1, 1], T >= 2.
        flows: ``(T - 1, H, W, 2)`` flow from frame t to frame t + 1 (the true flow of the input, or an estimate).
        masks: ``(T - 1, H, W)`` or ``(T - 1, 1, H, W)``, 1 where pixel x of frame t is visible in frame t + 1
            (None: where ``x + flow(x)`` lies inside the frame).

    Returns:
        E_warp, a float in [0, 1].

    Raises:
        ValueError: fewer than two frames, or flows / masks that do not match the frames.
    """
    if not isinstance(frames, Tensor):
        frames = torch.cat([f.reshape(1, *f.shape[-3:]) for f in frames])
    if frames.dim() != 4 or frames.shape[0] < 2:
        raise ValueError(f"warping_error needs (T, C, H, W) frames with T >= 2, got {tuple(frames.shape)}")
    t, _, h, w = frames.shape
    if tuple(flows.shape) != (t - 1, h, w, 2):
        raise ValueError(f"flows must be (T - 1, H, W, 2) = {(t - 1, h, w, 2)}, got {tuple(flows.shape)}")
    unit = (frames.double().clamp(-1, 1) + 1) / 2
    total = 0.0
    for i in range(t - 1):
        warped, inside = warp(unit[i + 1 : i + 2].float(), flows[i])
        mask = inside.double() if masks is None else masks[i].reshape(1, 1, h, w).double()
        diff = (warped.double() - unit[i : i + 1]) * mask
        count = mask.sum() * unit.shape[1]
        if count == 0:
            count = torch.tensor(float(unit.shape[1] * h * w), dtype=torch.float64)
        total += float((diff**2).sum() / count)
    return total / (t - 1)


def stylization_distance(outputs: Tensor, references: Tensor) -> float:
    """How far consistent outputs moved from the per-frame stylization: the mean over frames, pixels and channels
    of ``(y - s)^2`` with images in [0, 1] (the units of :func:`warping_error`).

    Args:
        outputs: ``(T, C, H, W)`` in [-1, 1] (e.g. with ``--temporal flow``).
        references: the same shape, each frame stylized alone (``--temporal none``).

    Raises:
        ValueError: shapes differ.
    """
    if outputs.shape != references.shape:
        raise ValueError(f"outputs {tuple(outputs.shape)} and references {tuple(references.shape)} differ in shape")
    return float((((outputs.double() - references.double()) / 2) ** 2).mean())


# --- test clips with a known flow -----------------------------------------------------------------------------
@dataclass
class SyntheticClip:
    """A clip made by :func:`camera_path_clip`, with its true optical flow.

    Attributes:
        frames: ``(T, 3, H, W)`` float32 in [-1, 1].
        forward: ``(T - 1, H, W, 2)`` true flow from frame t to frame t + 1 (pixels).
        backward: ``(T - 1, H, W, 2)`` true flow from frame t + 1 to frame t.
        masks: ``(T - 1, H, W)`` bool: pixel x of frame t is visible in frame t + 1 (forward-backward consistent
            under the true flows and inside the frame; motion boundaries are kept).
    """

    frames: Tensor
    forward: Tensor
    backward: Tensor
    masks: Tensor


def camera_path_clip(
    photo: Tensor,
    motion: Literal["pan", "zoom", "object"] = "pan",
    num_frames: int = 16,
    size: tuple[int, int] = (64, 64),
    speed: float = 0.01,
) -> SyntheticClip:
    """A clip filmed from one photo along a known camera path, with its true optical flow.

    The frame shows a window of the photo (60% of the photo's shorter side, centred, at the frame's aspect ratio),
    sampled bicubically from the photo shrunk (antialiased) to about the frame's resolution, as a camera's optics
    band-limit the scene. Frame t maps frame pixel ``p`` to photo point ``A_t(p) = c_t + z_t k (p - m)`` (``m`` the
    frame's centre, ``k`` photo pixels per frame pixel), so the true flow from t to t + 1 is
    ``A_(t+1)^-1(A_t(p)) - p``:

    - ``pan``: the window moves right by ``speed`` of the frame width per frame (``c_t`` moves, ``z_t = 1``);
    - ``zoom``: the camera zooms in by ``1 + 1.5 * speed`` per frame (``z_t = (1 + 1.5 speed)^-t``);
    - ``object``: a still camera and a square patch of the photo (a quarter of the frame height, from the
      photo's opposite corner, flipped) moving right by a whole number of pixels per frame (``2 * speed`` of the
      width, at least 1); pixels it covers in frame t + 1 are occluded (mask 0), its own pixels move with it.

    Args:
        photo: ``(3, H0, W0)`` or ``(1, 3, H0, W0)`` in [-1, 1], a real photo (e.g. ``examples/data``).
        motion: ``"pan"`` (default), ``"zoom"`` or ``"object"``.
        num_frames: T (16), >= 2.
        size: ``(H, W)`` of the frames in pixels ((64, 64)).
        speed: motion per frame, as a fraction of the frame width (0.01; pan 0.64 px per frame at 64 px).

    Raises:
        ValueError: an unknown ``motion``, ``num_frames < 2`` or a path that leaves the photo.
    """
    if motion not in ("pan", "zoom", "object"):
        raise ValueError(f"motion must be 'pan', 'zoom' or 'object', got {motion!r}")
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2, got {num_frames}")
    photo = photo.reshape(1, *photo.shape[-3:]).float()
    h, w = size
    k = 0.6 * min(photo.shape[-2:]) / max(h, w)
    if k > 1:  # shrink the photo first (antialiased), as a camera's optics band-limit what the sensor samples
        scaled = (round(photo.shape[-2] / k), round(photo.shape[-1] / k))
        photo = F.interpolate(photo, size=scaled, mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)
    ph, pw = photo.shape[-2:]
    k = 0.6 * min(ph, pw) / max(h, w)
    m = torch.tensor([(w - 1) / 2, (h - 1) / 2], dtype=torch.float64)
    start = torch.tensor([(pw - 1) / 2, (ph - 1) / 2], dtype=torch.float64)
    pan = speed * w * k if motion == "pan" else 0.0
    zoom = 1 + 1.5 * speed if motion == "zoom" else 1.0
    start[0] -= pan * (num_frames - 1) / 2  # the path is centred on the photo
    if abs(pan) * (num_frames - 1) / 2 + k * (w - 1) / 2 > (pw - 1) / 2:
        raise ValueError("the pan leaves the photo: use fewer frames or a smaller speed")

    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    pixels = torch.stack((xs, ys), dim=-1)  # (H, W, 2)

    def to_photo(t: int, p: Tensor) -> Tensor:
        c = start + torch.tensor([pan * t, 0.0], dtype=torch.float64)
        return c + zoom ** (-t) * k * (p - m)

    def from_photo(t: int, q: Tensor) -> Tensor:
        c = start + torch.tensor([pan * t, 0.0], dtype=torch.float64)
        return m + (q - c) / (zoom ** (-t) * k)

    def sample(image: Tensor, points: Tensor) -> Tensor:
        ih, iw = image.shape[-2:]
        grid = torch.stack((2 * points[..., 0] / (iw - 1) - 1, 2 * points[..., 1] / (ih - 1) - 1), dim=-1)
        out = F.grid_sample(image, grid.unsqueeze(0).float(), mode="bicubic", padding_mode="border", align_corners=True)
        return out.clamp(-1, 1)

    frames = torch.cat([sample(photo, to_photo(t, pixels)) for t in range(num_frames)])
    forward = torch.stack([from_photo(t + 1, to_photo(t, pixels)) - pixels for t in range(num_frames - 1)])
    backward = torch.stack([from_photo(t, to_photo(t + 1, pixels)) - pixels for t in range(num_frames - 1)])
    if motion == "object":
        side = max(2, h // 4)
        step = max(1, round(2 * speed * w))
        if step * (num_frames - 1) + side > w:
            raise ValueError("the object leaves the frame: use fewer frames or a smaller speed")
        patch = photo[..., ph - side * 2 : ph, pw - side * 2 : pw].flip(-1)
        patch = F.interpolate(patch, size=(side, side), mode="area")
        top = (h - side) // 2
        for t in range(num_frames):
            left = step * t
            frames[t, :, top : top + side, left : left + side] = patch[0]
        for t in range(num_frames - 1):
            forward[t, top : top + side, step * t : step * t + side] = torch.tensor(
                [float(step), 0.0], dtype=torch.float64
            )
            left = step * (t + 1)
            backward[t, top : top + side, left : left + side] = torch.tensor([float(-step), 0.0], dtype=torch.float64)
    forward, backward = forward.float(), backward.float()
    masks = torch.stack(
        [consistency_mask(forward[t], backward[t], motion_boundaries=False)[0, 0] for t in range(num_frames - 1)]
    )
    return SyntheticClip(frames, forward, backward, masks)
