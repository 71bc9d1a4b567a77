"""Fixtures that more than one test file uses."""
import os, subprocess, sys, textwrap
import numpy as np
import pytest

# 750 000 × 100 float32: 300 MB, written once per session, in chunks (never whole in this process); labels of 10 classes
BIG_M, BIG_N, BIG_Q = 750_000, 100, 10


@pytest.fixture(scope='session')
def big_pair(tmp_path_factory):
    "A directory holding X.npy (BIG_M, BIG_N) float32, standard normal, and Y.npy (BIG_M,) int64 in 0..BIG_Q-1."
    d = tmp_path_factory.mktemp('big')
    X = np.lib.format.open_memmap(d/'X.npy', mode='w+', dtype=np.float32, shape=(BIG_M, BIG_N))
    rng = np.random.default_rng(0)
    for i in range(0, BIG_M, 100_000): X[i:i + 100_000] = rng.standard_normal((min(100_000, BIG_M - i), BIG_N))
    X.flush(); del X
    np.save(d/'Y.npy', rng.integers(0, BIG_Q, BIG_M).astype(np.int64))
    return d


# The peak memory of a phase of a fresh process (Linux). ru_maxrss would not do: a process started by fork keeps its
# parent's peak across exec (pytest's, some 700 MB), so a growth below that could not show.
PEAK_MEMORY = textwrap.dedent('''
    def reset_peak():
        "Start the peak resident memory (VmHWM) again from the current resident memory (Linux 4.0 and later)."
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')

    def memory(key):
        "VmRSS (now) or VmHWM (the peak since reset_peak) of this process, in bytes."
        with open('/proc/self/status') as f: return int(next(l.split()[1] for l in f if l.startswith(key + ':'))) * 1024
''')


@pytest.fixture(scope='session')
def in_fresh_process(big_pair):
    "Runs child code (given reset_peak and memory) on big_pair's X.npy and Y.npy in a fresh interpreter, one thread."
    def run(code:str) -> tuple:  # (the words the child printed, the size of X.npy in bytes)
        files, env = [str(big_pair/'X.npy'), str(big_pair/'Y.npy')], {**os.environ, 'OMP_NUM_THREADS': '1'}
        done = subprocess.run([sys.executable, '-c', PEAK_MEMORY + code, *files], capture_output=True, text=True,
                              env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.split(), os.path.getsize(files[0])
    return run
