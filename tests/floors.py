"""The dependency floors of settings.ini and a smoke run at them (`make test-floors`).

`python tests/floors.py` prints settings.ini's run-time requirements with each lower bound made exact (`numpy>=1.24` ->
`numpy==1.24`): what `make test-floors` installs into a fresh venv. `python tests/floors.py --smoke` (in that venv)
trains with a tqdm progress bar, draws the curves with matplotlib and fits `SoftmaxRegression`: the parts of the
floors that the quick pytest subset does not reach."""
import configparser, re, shlex, sys
from pathlib import Path

SETTINGS = Path(__file__).resolve().parent.parent/'settings.ini'


def floors() -> list[str]:
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(SETTINGS, encoding='utf-8')
    reqs = shlex.split(cfg['DEFAULT']['requirements'])
    bad = [r for r in reqs if not re.fullmatch(r'[\w.-]+>=[\w.]+', r)]
    if bad: sys.exit(f'floors: expected `name>=version` requirements only, got {bad}')
    return [r.replace('>=', '==') for r in reqs]


def smoke():
    import io, tempfile
    from contextlib import redirect_stderr
    import matplotlib; matplotlib.use('Agg')
    import numpy, sklearn, torch, tqdm
    import softmax_scratch
    from softmax_scratch.data import load_dataset
    from softmax_scratch.classifier import SoftmaxClassifier
    from softmax_scratch.estimator import SoftmaxRegression
    versions = dict(numpy=numpy, scikit_learn=sklearn, torch=torch, matplotlib=matplotlib, tqdm=tqdm)
    print('floors:', ', '.join(f'{k} {m.__version__}' for k, m in versions.items()))
    print('floors: the package from', softmax_scratch.__file__)
    ds = load_dataset('synthetic', seed=0)
    bar = io.StringIO()
    with redirect_stderr(bar):
        h = SoftmaxClassifier(5, 3, seed=0).fit(ds.x_train, ds.y_train, epochs=16, lr=0.01, batch_size=28,
                                                valid=(ds.x_valid, ds.y_valid), progress=True)
    assert 'fit' in bar.getvalue() and len(h) == 16, bar.getvalue()
    with tempfile.TemporaryDirectory() as d: h.plot(title='floors').savefig(Path(d)/'curves.png')
    x, y = ds.x_train.numpy(), ds.y_train.argmax(1).numpy()
    clf = SoftmaxRegression().fit(x, y)
    print(f'floors: smoke passed (train loss {h.train_loss[0]:.4f} -> {h.train_loss[-1]:.4f}; '
          f'SoftmaxRegression training accuracy {clf.score(x, y):.3f})')


if __name__ == '__main__':
    if sys.argv[1:] == ['--smoke']: smoke()
    else: print(' '.join(floors()))
