"""The loss from logits whose differences overflow (issue 26): exact where the exact loss is a number of the dtype,
`NonFiniteError` from `cross_entropy_from_logits` (inf from `cross_entropy_and_grad`) where it is not, and the same
numbers as before everywhere else."""
import math
import pytest
import torch
from softmax_scratch.losses import cross_entropy_and_grad, cross_entropy_from_logits, mean_nll
from softmax_scratch.softmax import log_softmax
from softmax_scratch.validate import NonFiniteError


@pytest.mark.parametrize('big, dtype', [(1e308, torch.float64), (3e38, torch.float32)], ids=['float64', 'float32'])
def test_half_label_on_a_class_too_far_behind_is_exact(big, dtype):
    "½(c − z) with c − z = 2·big, not a float: the loss is big, which is one (it was inf)."
    y, z = torch.tensor([[.5, .5]], dtype=dtype), torch.tensor([[big, -big]], dtype=dtype)
    exact = torch.tensor(big, dtype=dtype).item()
    assert cross_entropy_from_logits(y, z).item() == exact
    assert cross_entropy_and_grad(y, z)[0].item() == exact


def test_a_row_loss_beyond_the_range_in_a_mean_that_fits():
    y, z = [[0., 1.], [1., 0.]], [[1e308, -1e308], [0., 0.]]
    assert cross_entropy_from_logits(y, z).item() == 1e308           # (2e308 + log 2) / 2
    assert cross_entropy_and_grad(y, z)[0].item() == 1e308


def test_weight_zero_on_a_row_too_far_behind_adds_zero():
    y, z = [[0., 1.], [1., 0.]], [[1e308, -1e308], [0., 0.]]
    assert cross_entropy_from_logits(y, z, [0., 1.]).item() == math.log(2)   # was NaN (0 · −∞)


def test_a_loss_beyond_the_range_is_refused_or_inf():
    y, z = [[0., 1.]], [[1e308, -1e308]]
    with pytest.raises(NonFiniteError, match=r"^z: the loss exceeds the range of torch.float64 \(±1.8e\+308\)"):
        cross_entropy_from_logits(y, z)
    assert cross_entropy_and_grad(y, z)[0].isinf()                   # the training path: inf, read as divergence


def test_gradient_through_the_exact_term():
    z = torch.tensor([[1e308, -1e308]], dtype=torch.float64, requires_grad=True)
    cross_entropy_from_logits([[.5, .5]], z).backward()
    assert torch.equal(z.grad, torch.tensor([[.5, -.5]], dtype=torch.float64))   # Σ − Y


@pytest.mark.parametrize('weighted', [False, True])
def test_ordinary_logits_give_the_same_numbers_as_mean_nll(weighted):
    g = torch.Generator().manual_seed(0)
    z = 30 * torch.randn(50, 7, generator=g, dtype=torch.float64)
    y = torch.nn.functional.one_hot(torch.randint(7, (50,), generator=g), 7).double()
    r = torch.rand(50, generator=g, dtype=torch.float64) if weighted else None
    ref = mean_nll(y, log_softmax(z), r)
    assert torch.equal(cross_entropy_from_logits(y, z, r), ref)
    assert torch.equal(cross_entropy_and_grad(y, z, r)[0], ref)
