"""Data-parallel training (nbs/09_distributed.ipynb): a rank that dies or raises stops the others within the timeout; the
command line's --nproc, --data and their errors. That K gloo processes follow the single-process `fit` (SGD, Newton,
Newton-CG, a .npy pair, K = 2 and 3) is checked on the notebook's page, which the docs build runs."""
import os, signal, time
import numpy as np
import pytest, torch
from softmax_scratch.distributed import launch, RankError, all_reduce_sum
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.training import shard_rows
from softmax_scratch.data import load_dataset
from softmax_scratch.cli import main

def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(a).max())

def _dies(victim:int, after:int, how:str):
    "A rank function: minibatch SGD on synthetic; `victim` is killed (or raises) at its `after`-th reduction."
    import torch.distributed as dist
    rank, k = dist.get_rank(), dist.get_world_size()
    ds = load_dataset('synthetic')
    idx = torch.tensor([i for r in shard_rows(len(ds.x_train), 28, rank, k) for i in r])
    calls = 0
    def reduce(t):
        nonlocal calls
        calls += 1
        if rank == victim and calls == after:
            if how == 'kill': os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError('injected failure')
        return all_reduce_sum(t)
    SoftmaxClassifier(5, 3, seed=0).fit(ds.x_train[idx], ds.y_train[idx], 10_000, 0.01, 28, reduce=reduce, shard=(rank, k), progress=False)

@pytest.mark.parametrize('how, k, victim', [('kill', 3, 1), ('raise', 2, 0)])
def test_a_failed_rank_stops_the_others_within_the_timeout(how, k, victim):
    t = time.monotonic()
    with pytest.raises(RankError) as e: launch(_dies, k, victim, 20, how, timeout=15)
    assert e.value.rank == victim, e.value
    assert ('SIGKILL' if how == 'kill' else 'ValueError: injected failure') in e.value.why
    assert set(e.value.others) == set(range(k)) - {victim}
    assert all('all_reduce failed' in why for why in e.value.others.values()), e.value.others   # they stopped by themselves
    assert time.monotonic() - t < 15 + 20                                                      # the timeout and process start

def _cli(*argv, torchrun:int=0, cwd=None):
    "The command line in a fresh interpreter (so the stderr of its exit, resource tracker included, is seen); under torchrun with that many processes."
    import subprocess, sys, softmax_scratch
    from softmax_scratch.distributed import free_port
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(softmax_scratch.__file__)), os.environ.get('PYTHONPATH')]))}
    head = ['-m', 'torch.distributed.run', '--nnodes', '1', '--nproc-per-node', str(torchrun), '--rdzv-backend', 'c10d',
            '--rdzv-endpoint', f'127.0.0.1:{free_port()}'] if torchrun else []
    return subprocess.run([sys.executable, *head, '-m', 'softmax_scratch.cli', *argv], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)

def test_cli_nproc_2_saves_the_checkpoint_of_nproc_1(tmp_path, capsys):
    argv = ['train', '--dataset', 'iris', '--epochs', '5', '--lr', '0.1', '--batch-size', '16', '--l2', '0.01']
    assert main(argv + ['--save', str(tmp_path/'m1.npz')]) == 0
    run = _cli(*argv, '--nproc', '2', '--save', str(tmp_path/'m2.npz'))
    assert run.returncode == 0 and run.stderr == '', run.stderr[-2000:]                      # nothing at exit: no leaked semaphore
    assert 'on 2 processes' in run.stdout and run.stdout.count('wrote') == 1
    a, b = np.load(tmp_path/'m1.npz'), np.load(tmp_path/'m2.npz')
    assert rel(a['w'], b['w']) <= 1e-12 and rel(a['b'], b['b']) <= 1e-12

def test_cli_data_errors_are_one_line(tmp_path, capsys):
    (tmp_path/'bad.csv').write_text('a,b,y\n' + ''.join(f'{i},{i % 3},{i % 2}\n' for i in range(40)) + 'nan,1,0\n')
    (tmp_path/'junk.npz').write_text('not a zip')
    cases = [(['--data', str(tmp_path/'none.npz')], 2, '--data: no file'),
             (['--data', str(tmp_path/'junk.npz')], 1, 'not a readable .npz'),
             (['--data', str(tmp_path/'bad.csv')], 1, 'label: a .csv needs'),
             (['--nproc', '0'], 2, '--nproc'),
             (['--nproc', '86'], 2, '--nproc: 86 processes for 85 rows'),
             (['--nproc', '3', '--batch-size', '2'], 2, '--batch-size: 2 rows per step cannot be shared by 3 processes'),
            ]
    for argv, code, frag in cases:
        assert main(['train', '--epochs', '1', *argv]) == code, argv
        err = capsys.readouterr().err.strip()
        assert frag in err and '\n' not in err, (argv, err)
    run = _cli('train', '--epochs', '1', '--data', str(tmp_path/'bad.csv'), '--label', 'y', '--nproc', '2', '--batch-size', '41')
    err = run.stderr.strip()                                                                  # the whole stderr, to the process's exit
    assert run.returncode == 1 and 'rank 1 failed: ValueError' in err and '\n' not in err, err

def test_torchrun_saves_the_checkpoint_of_nproc_1(tmp_path):
    "The command line as one rank of a torchrun group (rendezvous on 127.0.0.1, gloo on the loopback): rank 0 prints and saves what one process saves."
    argv = ['train', '--dataset', 'iris', '--epochs', '5', '--lr', '0.1', '--batch-size', '16', '--l2', '0.01']
    assert main(argv + ['--save', str(tmp_path/'m1.npz')]) == 0
    run = _cli(*argv, '--save', str(tmp_path/'mt.npz'), torchrun=2, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count('on 2 processes') == 1 and run.stdout.count('wrote') == 1, run.stdout   # rank 0 alone speaks
    assert 'leaked' not in run.stderr, run.stderr[-2000:]
    a, b = np.load(tmp_path/'m1.npz'), np.load(tmp_path/'mt.npz')
    assert rel(a['w'], b['w']) <= 1e-12 and rel(a['b'], b['b']) <= 1e-12
