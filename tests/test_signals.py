"""Ctrl-C (SIGINT) and SIGTERM sent to a real `softmax-scratch train --save` process in the middle of its training.

Expected: exit status 130 (SIGINT) or 143 (SIGTERM), one line on stderr that names the signal and the epochs completed,
a checkpoint that loads and equals a deterministic re-run of that many epochs, and no temporary file left in the folder.
`make test` runs it with the other files of tests/; it takes about half a minute (two trainings of a few seconds and
their re-runs).
"""
import os, re, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name('softmax-scratch')
DELAY = 4.0     # seconds before the signal: past the imports (torch, scikit-learn), well into training (doubled, twice, if not)
EPOCHS = 10**7  # never reached: the synthetic data (85 rows, batches of 28) at about a millisecond per epoch


@pytest.mark.parametrize('sig, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_mid_training_saves_the_last_completed_epoch(sig, code, tmp_path):
    argv = [str(SCRIPT), 'train', '--epochs', str(EPOCHS), '--save', str(tmp_path / 'model.npz')]
    if not SCRIPT.exists(): argv = [sys.executable, '-m', 'softmax_scratch.cli', *argv[1:]]
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    name = signal.Signals(sig).name
    for delay in (DELAY, 2 * DELAY, 4 * DELAY):          # a loaded machine can take longer over the imports: wait longer, again
        proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        assert proc.poll() is None, f"the training ended before the signal: {proc.communicate()}"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        lines = err.strip().splitlines()
        assert proc.returncode == code, (proc.returncode, err[-2000:])
        if lines != [f"softmax-scratch: interrupted by {name}"]: break   # (that line: the signal came before the training, as it should say)
    assert len(lines) == 1, err[-2000:]
    found = re.fullmatch(rf"softmax-scratch: interrupted by {name} after (\d+) epochs?; saved (.+)", lines[0])
    assert found, lines[0]
    epochs = int(found[1])
    assert epochs > 0, "the signal came before the first epoch ended: raise DELAY"
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.npz']          # no temporary file
    saved = SoftmaxClassifier.load(tmp_path / 'model.npz')
    ds = load_dataset('synthetic', seed=0)
    ref = SoftmaxClassifier(ds.x_train.shape[1], ds.y_train.shape[1], seed=0)
    ref.fit(ds.x_train, ds.y_train, epochs, 0.01, 28, progress=False)        # the CLI's defaults: lr 0.01, batches of 28
    assert torch.equal(saved.w, ref.w) and torch.equal(saved.b, ref.b)
