"""PatchNCE: the patchwise contrastive loss of CUT (Park, Efros, Zhang & Zhu, ECCV 2020, arXiv:2007.15651)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.losses.registry import register_loss

__all__ = ["PatchNCELoss"]


@register_loss("patchnce")
class PatchNCELoss(nn.Module):
    """InfoNCE over sampled patches (Park et al. 2020, Eq. 2 for one patch, Eq. 5 summed over layers and locations).

    A query ``v = z_hat`` (a patch feature of the output G(x)) must pick its positive ``v+ = z`` (the feature of
    the input x at the same location) among negatives ``v-`` (features of x at other locations)::

        l(v, v+, v-) = -log( exp(v.v+ / tau) / (exp(v.v+ / tau) + sum_n exp(v.v-_n / tau)) )        (Eq. 2)

    i.e. cross-entropy with the positive as class 0 over the logits ``[v.v+, v.v-_1, ...] / tau``. Here, for a
    batch of ``B`` images with ``P`` patches each, rows ``b * P .. b * P + P - 1`` of ``feat_q`` / ``feat_k`` are
    image ``b``'s patches (as :class:`gan_style.nets.PatchSampleMLP` returns them), and the loss of query ``i`` is::

        logits_i = [q_i . k_i,  q_i . k_j for every j != i in the negative pool] / nce_T

    The negative pool is the other patches of the same image (``negatives_from_minibatch=False``, the paper's
    choice for CUT and FastCUT, Sec. 3.1 / Table 3 "internal negatives"), or of every image of the batch
    (``True``, for single-image training, where a batch is crops of one image). As in the authors' code, the
    ``j == i`` entry of the query-key similarity matrix is not dropped but set to -10 before the division by
    ``nce_T``, so it contributes ``exp(-10 / nce_T)`` (about 7e-63 at 0.07), nothing in practice; and the keys
    are detached (no gradient through the input's features, only through the output's and the MLP's on the
    query side). Source: the CUT code's ``models/patchnce.py``.

    Args:
        nce_T: the temperature ``tau`` (0.07, Sec. 3.1 and the code's ``nce_T``); > 0.
        negatives_from_minibatch: draw negatives from the whole batch (False; True for SinCUT, the code's
            ``nce_includes_all_negatives_from_minibatch``).
        reduction: ``mean`` (default: a scalar, the mean over all ``B * P`` queries) or ``none`` (one value per
            query, shape (B * P,)).

    Raises:
        ValueError: ``nce_T <= 0`` or an unknown ``reduction``.
    """

    def __init__(
        self, nce_T: float = 0.07, negatives_from_minibatch: bool = False, reduction: Literal["mean", "none"] = "mean"
    ) -> None:
        super().__init__()
        if not nce_T > 0:
            raise ValueError(f"nce_T (the PatchNCE temperature) must be > 0, got {nce_T}")
        if reduction not in ("mean", "none"):
            raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
        self.nce_T = float(nce_T)
        self.negatives_from_minibatch = bool(negatives_from_minibatch)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"nce_T={self.nce_T}, negatives_from_minibatch={self.negatives_from_minibatch}"

    def forward(self, feat_q: Tensor, feat_k: Tensor, batch_size: int) -> Tensor:
        """PatchNCE of queries ``feat_q`` against keys ``feat_k``.

        Args:
            feat_q: (B * P, C) query vectors (from the output image), normally unit length.
            feat_k: (B * P, C) key vectors (from the input image, same locations), detached here.
            batch_size: ``B``, the images the rows come from (ignored with ``negatives_from_minibatch``).

        Returns:
            A scalar (``mean``) or a (B * P,) tensor (``none``), in nats.

        Raises:
            ValueError: shapes that differ, or a row count that is not a multiple of ``batch_size``.
        """
        if feat_q.shape != feat_k.shape or feat_q.dim() != 2:
            raise ValueError(
                f"PatchNCE needs query and key matrices of one shape (B * P, C), got {tuple(feat_q.shape)} and "
                f"{tuple(feat_k.shape)}"
            )
        rows, dim = feat_q.shape
        groups = 1 if self.negatives_from_minibatch else int(batch_size)
        if groups < 1 or rows % groups:
            raise ValueError(f"PatchNCE got {rows} patch rows, not a multiple of the batch size {batch_size}")
        feat_k = feat_k.detach()
        l_pos = (feat_q * feat_k).sum(1, keepdim=True)  # (B*P, 1): v . v+
        q = feat_q.reshape(groups, -1, dim)
        k = feat_k.reshape(groups, -1, dim)
        n = q.shape[1]
        l_neg = torch.bmm(q, k.transpose(1, 2))  # (groups, n, n): q_i . k_j within the pool
        eye = torch.eye(n, device=q.device, dtype=torch.bool)[None]
        l_neg = l_neg.masked_fill(eye, -10.0).reshape(-1, n)
        logits = torch.cat([l_pos, l_neg], dim=1) / self.nce_T
        target = torch.zeros(rows, dtype=torch.long, device=feat_q.device)
        loss = F.cross_entropy(logits.float(), target, reduction="none")
        return loss.mean() if self.reduction == "mean" else loss
