"""`softmax-scratch train --summary` (issue 29): the inference table after a Newton fit; refused where there is no
optimum of one process to describe."""
from softmax_scratch.cli import main


def test_train_summary_prints_the_table(capsys):
    assert main(['train', '--dataset', 'wine', '--solver', 'newton', '--l2', '0.01', '--summary']) == 0
    out = capsys.readouterr().out
    assert 'std err' in out and 'P>|z|' in out and 'intercept' in out and 'coefficients against class 0' in out


def test_summary_needs_a_newton_fit_of_one_process(capsys):
    for argv in (['train', '--summary'], ['train', '--solver', 'newton', '--nproc', '2', '--summary']):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and '--summary' in err[0], err
