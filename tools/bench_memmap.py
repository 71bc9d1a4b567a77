"""`make bench-memmap`: one SGD epoch over a large .npy pair, from its memory maps and from memory, each in a fresh
process: peak resident memory, seconds per row and their ratio (issue 28: under 1 GB, within 1.5x of memory).

The pair (10^7 x 100 float32 features, 4 GB, and int64 labels of a linear rule) is written in chunks to a temporary
folder under /tmp and removed at the end. Both runs read it from the page cache (it was just written); the memory run
reads it whole first (`np.load`), outside the time measured, which is the `fit` call in both."""
import argparse, os, subprocess, sys, tempfile, time
import numpy as np


def write_pair(folder:str, rows:int, features:int, classes:int, seed:int=0) -> tuple:
    """X (rows, features) float32 and labels (rows,) int64, written a million rows at a time (file writes, no map whose
    pages would count in this process's peak RSS, which the runs' processes inherit); the two paths."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((features, classes)).astype(np.float32) / np.sqrt(features)
    paths = os.path.join(folder, 'X.npy'), os.path.join(folder, 'Y.npy')
    with open(paths[0], 'wb') as fx, open(paths[1], 'wb') as fy:
        for f, dtype, shape in ((fx, np.float32, (rows, features)), (fy, np.int64, (rows,))):
            np.lib.format.write_array_header_1_0(f, dict(descr=np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                         fortran_order=False, shape=shape))
        for i in range(0, rows, 10**6):
            x = rng.standard_normal((min(10**6, rows - i), features), dtype=np.float32)
            x.tofile(fx); (x @ w).argmax(1).astype(np.int64).tofile(fy)
    return paths


def child(mode:str, xpath:str, ypath:str, classes:int, batch:int, strategy:str):
    "One epoch in this process; prints: peak RSS before `fit` (KiB), peak RSS after (KiB), seconds of `fit`, the loss."
    import torch
    from softmax_scratch.classifier import SoftmaxClassifier
    if mode == 'memory': x, y = torch.from_numpy(np.load(xpath)), torch.from_numpy(np.load(ypath))
    else: x, y = np.load(xpath, mmap_mode='r'), np.load(ypath, mmap_mode='r')
    warm = SoftmaxClassifier(x.shape[1], classes, seed=0, dtype=torch.float32)   # first calls' set-up: not timed
    warm.fit(torch.from_numpy(np.array(x[:8 * batch])), torch.from_numpy(np.array(y[:8 * batch])), 1, 0.01, batch,
             strategy=strategy, progress=False)
    model = SoftmaxClassifier(x.shape[1], classes, seed=0, dtype=torch.float32)
    before = peak_rss()
    t0 = time.perf_counter()
    h = model.fit(x, y, 1, 0.01, batch, strategy=strategy, progress=False)
    seconds = time.perf_counter() - t0
    print(before, peak_rss(), seconds, h.train_loss[0])


def peak_rss() -> int:
    "This process's peak resident memory in KiB: VmHWM (ru_maxrss can carry the parent's peak over fork and exec)."
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))


def read_through(paths) -> float:
    "Read the files once, 64 MiB at a time into one buffer (into the page cache; nothing stays here); the seconds."
    t0, buffer = time.perf_counter(), bytearray(2**26)
    for path in paths:
        with open(path, 'rb', buffering=0) as f:
            while f.readinto(buffer): pass
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--rows', type=int, default=10**7); p.add_argument('--features', type=int, default=100)
    p.add_argument('--classes', type=int, default=10); p.add_argument('--batch-size', type=int, default=4096)
    p.add_argument('--strategy', default='closed'); p.add_argument('--dir', default='/tmp')
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--child', nargs=2, metavar=('MODE', 'XPATH,YPATH'), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return child(a.child[0], *a.child[1].split(','), a.classes, a.batch_size, a.strategy)
    with tempfile.TemporaryDirectory(dir=a.dir, prefix='bench-memmap-') as d:
        t0 = time.perf_counter()
        paths = write_pair(d, a.rows, a.features, a.classes)
        size = sum(os.path.getsize(f) for f in paths)
        print(f"wrote {a.rows:,} x {a.features} float32 + labels ({size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s; "
              f"strategy {a.strategy}, sgd, batch {a.batch_size}, one epoch, {os.cpu_count()} CPUs")
        print(f"read the pair once in {read_through(paths):.1f} s (both runs then read it from the page cache)")
        found = {}
        for mode in ('memmap', 'memory') * a.repeats:                  # alternating: a busy spell hits both
            run = subprocess.run([sys.executable, __file__, '--child', mode, ','.join(paths), '--classes', str(a.classes),
                                  '--batch-size', str(a.batch_size), '--strategy', a.strategy],
                                 capture_output=True, text=True)
            if run.returncode: sys.exit(f"bench-memmap: the {mode} run failed:\n{run.stderr}")
            before, after, seconds, loss = run.stdout.split()
            found[mode] = min(found.get(mode, np.inf), float(seconds) / a.rows)   # the best of the repeats
            print(f"{mode:>7}: peak RSS {int(after) / 2**20:6.2f} GiB (before fit {int(before) / 2**20:5.2f} GiB), "
                  f"fit {float(seconds):6.2f} s, {float(seconds) / a.rows * 1e9:6.1f} ns/row, loss {float(loss):.4f}")
        print(f"time per row, memmap / memory (best of {a.repeats} each): {found['memmap'] / found['memory']:.2f}x")


if __name__ == '__main__': main()
