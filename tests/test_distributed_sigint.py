"""Ctrl-C (SIGINT) and SIGTERM sent to `softmax-scratch train --nproc 2 --save PATH` mid-training (issue 26).

Expected, as for one process (tests/test_signals.py): exit status 130 or 143, a line on stderr that names the signal
and the epochs completed, and a checkpoint of the last completed epoch: every rank stops after the same step
(`distributed.stoppable`), and the launcher hands rank 0's model to the command line, which saves it. The checkpoint
is compared with one process trained for that many epochs (the K-process tolerance of tests/test_distributed.py,
1e-12) and, for SIGINT, with two processes trained for that many epochs without a signal (to the bit).
Below it: the ranks agree when only one of them sees the request, and a signal `launch` held is the caller's when the
processes do not stop on it, or when a second one comes.

The signal is sent once the progress bar (shown because stderr is a terminal here, a pseudo-terminal) has counted a
completed epoch, so a slow start of the processes on a loaded machine only makes the test wait longer. It takes
about a minute: two runs of the command line and four of `launch`, each starting two processes.
"""
import fcntl, os, pty, re, signal, struct, subprocess, sys, termios, threading, time
from pathlib import Path

import numpy as np
import pytest, torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.training import shard_rows
from softmax_scratch.data import load_dataset
from softmax_scratch import distributed
from softmax_scratch.distributed import launch, stoppable, all_reduce_sum

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 10**7   # never reached: synthetic (85 rows, batches of 28) runs tens of epochs a second on two processes
START = 180      # seconds to wait for the first completed epoch: process start-up and imports on a loaded machine

def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(a).max())

class Terminal:
    "A pseudo-terminal for a child's stdout and stderr, read by a thread into `text` (a full terminal would block it)."
    def __init__(self):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 200, 0, 0))  # 0 columns: no bar
        self.chunks, self.lock = [], threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self):
        while True:
            try: data = os.read(self.master, 4096)
            except OSError: return                       # EIO: every writer closed the terminal
            if not data: return
            with self.lock: self.chunks.append(data)

    @property
    def text(self) -> str:
        with self.lock: return b''.join(self.chunks).decode(errors='replace')

    def epochs_shown(self) -> int:
        "The most epochs the progress bar has counted so far (`fit: ...| 3/10000000 [...`), or -1 before it appears."
        return max((int(n) for n in re.findall(rf'\|\s*(\d+)/{EPOCHS}\b', self.text)), default=-1)

def _interrupted_run(sig, path:Path):
    "Run `train --nproc 2 --save path`, send `sig` after the first completed epoch; (exit status, terminal text)."
    argv = [sys.executable, '-m', 'softmax_scratch.cli', 'train', '--nproc', '2', '--epochs', str(EPOCHS),
            '--save', str(path)]
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [str(ROOT), os.environ.get('PYTHONPATH')]))}
    term = Terminal()
    proc = subprocess.Popen(argv, cwd=path.parent, env=env, stdin=subprocess.DEVNULL, stdout=term.slave,
                            stderr=term.slave)
    os.close(term.slave)                                 # the child's copies stay open; EOF once it and its ranks end
    term.thread.start()
    try:
        deadline = time.monotonic() + START
        while term.epochs_shown() < 1:
            assert proc.poll() is None, f"the training ended before the signal: {proc.returncode} {term.text[-2000:]}"
            assert time.monotonic() < deadline, f"no epoch completed within {START} s: {term.text[-2000:]}"
            time.sleep(0.05)
        proc.send_signal(sig)
        code = proc.wait(timeout=120)
        term.thread.join(timeout=10)
    finally:
        if proc.poll() is None:                          # a check failed: two signals end the run and its ranks at once
            for _ in range(2): proc.send_signal(signal.SIGINT); time.sleep(0.5)
            try: proc.wait(timeout=30)
            except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        os.close(term.master)
    return code, term.text

@pytest.mark.parametrize('sig, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_saves_the_last_epoch_every_rank_completed(sig, code, tmp_path):
    name, path = signal.Signals(sig).name, tmp_path / 'model.npz'
    got, text = _interrupted_run(sig, path)
    assert got == code, (got, text[-2000:])
    found = re.search(rf"softmax-scratch: interrupted by {name} after (\d+) epochs?; saved (\S+)", text)
    assert found and found[2] == str(path), text[-2000:]
    assert 'Traceback' not in text and 'leaked' not in text and 'error' not in text.lower(), text[-2000:]
    epochs = int(found[1])
    assert epochs >= 1, text[-2000:]                     # the bar had counted one before the signal was sent
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.npz']          # no temporary file
    saved = SoftmaxClassifier.load(path)
    ds = load_dataset('synthetic', seed=0)
    one = SoftmaxClassifier(ds.x_train.shape[1], ds.y_train.shape[1], seed=0)
    one.fit(ds.x_train, ds.y_train, epochs, 0.01, 28, progress=False)     # the command line's defaults
    assert rel(one.w, saved.w) <= 1e-12 and rel(one.b, saved.b) <= 1e-12, (rel(one.w, saved.w), rel(one.b, saved.b))
    if sig == signal.SIGINT:                             # two processes without a signal: the same steps, to the bit
        two, h, _ = distributed.fit('synthetic', 2, epochs=epochs, lr=0.01, batch_size=28, progress=False)
        assert len(h) == epochs and h.stopped is None
        assert np.array_equal(two.w.numpy(), saved.w.numpy()) and np.array_equal(two.b.numpy(), saved.b.numpy())

def _one_rank_asked(at:int):
    "A rank function: SGD on synthetic through `stoppable`; rank 1 alone is asked to stop, in its `at`-th reduction."
    import torch.distributed as dist
    rank, k = dist.get_rank(), dist.get_world_size()
    ds = load_dataset('synthetic')
    idx = torch.tensor([i for r in shard_rows(len(ds.x_train), 28, rank, k) for i in r])
    request, calls = [0, 0], 0                           # this rank's own: rank 0's is never set
    def reduce(t):
        nonlocal calls
        calls += 1
        if rank == 1 and calls == at: request[0] = signal.SIGINT
        return all_reduce_sum(t)
    m = SoftmaxClassifier(5, 3, seed=0)
    h = m.fit(ds.x_train[idx], ds.y_train[idx], 10_000, 0.01, 28, reduce=stoppable(reduce, request), shard=(rank, k),
              progress=False)
    got = [None] * k
    dist.all_gather_object(got, (len(h), h.stopped, request[1], m.w.numpy(), m.b.numpy()))
    return got

def test_the_ranks_stop_together_when_one_alone_is_asked():
    # the row count, then 4 steps an epoch (85 rows, batches of 28): the 22nd reduction is epoch 6's first step, the
    # request is summed in the next one, and both ranks keep 5 epochs
    ranks = launch(_one_rank_asked, 2, 22)
    assert [r[:3] for r in ranks] == [(5, 'interrupted', 1)] * 2, [r[:3] for r in ranks]
    (_, _, _, w0, b0), (_, _, _, w1, b1) = ranks
    assert np.array_equal(w0, w1) and np.array_equal(b0, b1)
    ds = load_dataset('synthetic')
    one = SoftmaxClassifier(5, 3, seed=0)
    one.fit(ds.x_train, ds.y_train, 5, 0.01, 28, progress=False)
    assert rel(one.w, w0) <= 1e-12 and rel(one.b, b0) <= 1e-12

class Stop(Exception): pass

def _caller_handler(signum, frame): raise Stop(signal.Signals(signum).name)

@pytest.mark.parametrize('signals, sleep', [((1.0,), 3.0), ((1.0, 1.5), 60.0)], ids=['not acted on', 'a second one'])
def test_a_signal_launch_held_goes_to_the_callers_handler(signals, sleep):
    # Processes that never reduce (time.sleep) do not stop on a request: the caller's handler gets the signal when
    # they end; a second signal reaches it at once, and the processes are stopped.
    old = signal.signal(signal.SIGINT, _caller_handler)
    timers = [threading.Timer(t, os.kill, (os.getpid(), signal.SIGINT)) for t in signals]
    try:
        start = time.monotonic()
        for t in timers: t.start()
        with pytest.raises(Stop, match='SIGINT'): launch(time.sleep, 2, sleep, interruptible=True)
        took = time.monotonic() - start
        assert took > sleep if len(signals) == 1 else took < 30, took
    finally:
        for t in timers: t.cancel()
        signal.signal(signal.SIGINT, old)
