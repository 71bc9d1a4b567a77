"""The command line with users' data (issue 27, item 6): class names in a .csv, kept in the checkpoint and printed back by
`predict`; a held-out split of `compare --data` that is stratified and seeded; `--C` as scikit-learn's alternative to
`--l2`; one line on stderr before the fused loop's first compile; a .csv whose name holds a comma.

On its own: `PYTHONPATH=. .venv/bin/python -m pytest tests/test_cli_labels.py -q` (about a minute).
"""
import contextlib, io, json, pickle, zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from softmax_scratch.cli import main
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.data import read_data, read_dataset, read_classes

IRIS = load_iris()                                   # 150 rows sorted by class: 50 setosa, 50 versicolor, 50 virginica
NAMES = ['setosa', 'versicolor', 'virginica']


def run_cli(*argv) -> tuple:
    "main(argv) in process: (exit status, stdout, stderr lines)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue().strip().splitlines()


def iris_csv(path:Path, labels=None) -> Path:
    "Iris in its shipped order (sorted by class) as a .csv whose column 'species' holds `labels` (default: names)."
    labels = IRIS.target_names[IRIS.target] if labels is None else labels
    path.write_text('a,b,c,d,species\n' + ''.join(f"{','.join(map(str, r))},{l}\n"
                                                 for r, l in zip(IRIS.data.tolist(), labels)))
    return path


# ---------------------------------------------------------------------------------------------------------------------
# 1. Class names: read, kept in the checkpoint, printed back

def test_a_csv_of_class_names_trains_saves_and_predicts_by_name(tmp_path):
    data, model = iris_csv(tmp_path/'iris.csv'), tmp_path/'m.npz'
    code, out, err = run_cli('train', '--data', data, '--label', 'species', '--solver', 'newton', '--C', '10',
                             '--save', model)
    assert code == 0 and err == [], (code, err)
    assert 'classes setosa, versicolor, virginica' in out
    loaded = SoftmaxClassifier.load(model)
    assert loaded.classes.tolist() == NAMES and loaded.classes.dtype.kind == 'U'
    with zipfile.ZipFile(model) as z, z.open('classes.npy') as f:             # stored as fixed-width text
        assert np.lib.format.read_array(f, allow_pickle=False).dtype == np.dtype('<U10')
    code, out, err = run_cli('predict', model, '--data', data, '--label', 'species')
    predicted = out.split()
    assert code == 0 and len(predicted) == 150 and set(predicted) == set(NAMES)
    truth = IRIS.target_names[IRIS.target]
    assert np.mean(np.array(predicted) == truth) >= 0.97
    assert len(err) == 1 and 'accuracy 0.98' in err[0], err


def test_numbers_that_are_not_class_indices_are_classes_too(tmp_path):
    labels = np.array([-1, 1, 7])[IRIS.target]                       # sorted as numbers: -1, 1, 7
    data, model = iris_csv(tmp_path/'signs.csv', labels), tmp_path/'m.npz'
    assert read_classes(data, 'species').tolist() == [-1, 1, 7]
    assert np.array_equal(read_data(data, 'species')[1], IRIS.target)
    code, out, _ = run_cli('train', '--data', data, '--label', 'species', '--solver', 'newton', '--save', model)
    assert code == 0 and 'classes -1, 1, 7' in out
    assert SoftmaxClassifier.load(model).classes.tolist() == [-1, 1, 7]
    code, out, _ = run_cli('predict', model, '--data', data, '--label', 'species')
    assert code == 0 and out.split()[0] == '-1' and out.split()[-1] == '7'


def test_class_indices_stay_indices_and_old_checkpoints_load(tmp_path):
    data = iris_csv(tmp_path/'indices.csv', IRIS.target)
    assert read_classes(data, 'species') is None
    # a checkpoint as written before class names existed: format, dtype, w, b only
    m = SoftmaxClassifier(4, 3, seed=0)
    np.savez(tmp_path/'old.npz', format=np.array('softmax_scratch.SoftmaxClassifier/1'), dtype=np.array('float64'),
             w=m.w.numpy(), b=m.b.numpy())
    old = SoftmaxClassifier.load(tmp_path/'old.npz')
    assert old.classes is None and torch.equal(old.w, m.w)
    code, out, err = run_cli('predict', tmp_path/'old.npz', '--data', data, '--label', 'species')
    assert code == 0 and set(out.split()) <= {'0', '1', '2'} and len(out.split()) == 150, (code, err)


def test_names_are_encoded_alike_by_every_process(tmp_path):
    "Each of K processes reads its rows only; the classes come from the whole column, so the codes agree."
    data = iris_csv(tmp_path/'iris.csv')
    argv = ('train', '--data', data, '--label', 'species', '--epochs', '3', '--lr', '0.05', '--batch-size', '30')
    one, two = (run_cli(*argv, '--nproc', k, '--save', tmp_path/f'm{k}.npz') for k in (1, 2))
    assert one[0] == two[0] == 0, (one, two)
    a, b = SoftmaxClassifier.load(tmp_path/'m1.npz'), SoftmaxClassifier.load(tmp_path/'m2.npz')
    assert a.classes.tolist() == b.classes.tolist() == NAMES
    assert torch.allclose(a.w, b.w, rtol=0, atol=1e-12) and torch.allclose(a.b, b.b, rtol=0, atol=1e-12)
    rows = read_data(data, 'species', rows=lambda m: range(100, 150))[1]     # a part: virginica is still class 2
    assert (rows == 2).all()


class Payload:
    "Unpickling this calls Path.touch on `target`."
    def __init__(self, target): self.target = target
    def __reduce__(self): return (Path.touch, (self.target,))


def test_class_names_in_a_checkpoint_are_never_unpickled_and_are_checked(tmp_path):
    m = SoftmaxClassifier(4, 3, seed=0); m.classes = np.array(NAMES); good = m.save(tmp_path/'good.npz')
    with np.load(good) as f: arrays = {k: f[k] for k in f.files}
    pwned = tmp_path/'PWNED'
    bad = {'objects': np.array([Payload(pwned), 'b', 'c'], dtype=object), 'bytes': np.array([b'a', b'b', b'c']),
           'two names': np.array(['a', 'b']), 'twice a name': np.array(['a', 'a', 'b']),
           'a 2-D array': np.array([['a', 'b', 'c']]), 'not finite': np.array([0., 1., np.nan]),
           'booleans': np.array([True, False, True])}
    for what, classes in bad.items():
        path = tmp_path/'bad.npz'
        np.savez(path, **{**arrays, 'classes': classes})
        with pytest.raises(ValueError) as info: SoftmaxClassifier.load(path)
        assert str(info.value).startswith(str(path)), (what, str(info.value))
    assert not pwned.exists()                                              # nothing ran
    np.savez(tmp_path/'extra.npz', **arrays, labels=np.array(NAMES))      # an unknown member: refused by its name
    with pytest.raises(ValueError, match='optionally classes'): SoftmaxClassifier.load(tmp_path/'extra.npz')
    m.classes = np.array(['a', 'b'])
    with pytest.raises(ValueError, match='expected 3 class names'): m.save(tmp_path/'fresh.npz')
    assert not (tmp_path/'fresh.npz').exists()


def test_every_bit_flip_of_a_checkpoint_with_names_is_refused_or_harmless(tmp_path):
    m = SoftmaxClassifier(4, 3, seed=0); m.classes = np.array(NAMES)
    data, bad, refused = m.save(tmp_path/'good.npz').read_bytes(), tmp_path/'flipped.npz', 0
    for pos in range(len(data)):
        flipped = bytearray(data); flipped[pos] ^= 1 << (pos % 8)
        bad.write_bytes(flipped)
        try: got = SoftmaxClassifier.load(bad)
        except ValueError as e:
            assert str(e).startswith(str(bad)), (pos, str(e)); refused += 1; continue
        assert torch.equal(got.w, m.w) and torch.equal(got.b, m.b) and got.classes.tolist() == NAMES, pos
    assert refused > len(data) // 2


# ---------------------------------------------------------------------------------------------------------------------
# 2. compare --data: a stratified, seeded held-out split

def test_the_split_of_a_class_sorted_file_is_stratified_and_seeded(tmp_path):
    data = iris_csv(tmp_path/'iris.csv')
    split = read_dataset(data, 'species', seed=3)
    assert split.y_valid.sum(0).tolist() == [10, 10, 10] and split.y_train.sum(0).tolist() == [40, 40, 40]
    again, other = read_dataset(data, 'species', seed=3), read_dataset(data, 'species', seed=4)
    assert torch.equal(again.x_valid, split.x_valid) and torch.equal(again.x_train, split.x_train)
    assert not torch.equal(other.x_valid, split.x_valid)
    every = sorted(map(tuple, torch.cat([split.x_train, split.x_valid]).tolist()))
    assert every == sorted(map(tuple, IRIS.data.tolist()))                 # each row once, in one split or the other
    uneven = read_dataset(data, 'species', valid_size=7, seed=0)           # 7 rows: each class 2 or 3 of them
    assert sorted(uneven.y_valid.sum(0).tolist()) == [2, 2, 3]


def test_compare_data_validates_on_every_class(tmp_path):
    data = iris_csv(tmp_path/'iris.csv')
    argv = ('compare', '--data', data, '--label', 'species', '--against', 'torch', '--epochs', '30', '--lr', '0.05')
    reports = []
    for seed, name in ((0, 'a'), (0, 'b'), (1, 'c')):
        code, out, err = run_cli(*argv, '--seed', seed, '--json', tmp_path/f'{name}.json')
        assert code == 0, (out, err)
        reports.append(json.loads((tmp_path/f'{name}.json').read_text()))
    assert reports[0]['scratch']['valid_acc'] > 0.8          # the last 20 % of the file alone scored 0.400 (one class)
    assert reports[0]['scratch'] == reports[1]['scratch']    # same seed, same split, same run
    assert reports[2]['scratch'] != reports[0]['scratch']


# ---------------------------------------------------------------------------------------------------------------------
# 3. --C

def _newton(*penalty, data=()):
    code, out, err = run_cli('train', *(data or ('--dataset', 'iris')), '--solver', 'newton', '--tol', '1e-10', *penalty)
    assert code == 0, err
    return out.splitlines()


def test_C_is_the_penalty_of_l2_one_over_C_times_M():
    with_c, with_l2 = _newton('--C', '10'), _newton('--l2', repr(1 / (10 * 120)))      # iris: 120 training rows
    assert with_c[0].replace(' (--C 10)', '') == with_l2[0] and with_c[1:] == with_l2[1:], (with_c, with_l2)
    assert 'l2 0.000833333 (--C 10)' in with_c[0]
    assert _newton('--C', 'inf')[1:] == _newton()[1:]                    # C = inf: no penalty


def test_C_counts_every_row_of_a_data_file_in_train(tmp_path):
    data = ('--data', iris_csv(tmp_path/'iris.csv'), '--label', 'species')
    assert 'l2 0.000666667 (--C 10)' in _newton('--C', '10', data=data)[0]             # 150 rows, all training


def test_C_in_compare_matches_sklearn(tmp_path):
    code, out, err = run_cli('compare', '--dataset', 'wine', '--against', 'sklearn', '--C', '2', '--json',
                             tmp_path/'r.json')
    report = json.loads((tmp_path/'r.json').read_text())
    assert report['settings']['l2'] == 1 / (2 * 142)                     # wine: 142 training rows
    assert code == 0 and report['passed'], out


@pytest.mark.parametrize('argv, fragment', [
    (('train', '--C', '1', '--l2', '0.1'), 'not allowed with'),
    (('compare', '--l2', '0', '--C', '1'), 'not allowed with'),
    (('train', '--C', '0'), "--C: expected a number > 0, got '0'"),
    (('train', '--C', '-1'), '--C'),
    (('train', '--C', 'nan'), '--C'),
    (('train', '--C', 'x'), '--C'),
])
def test_bad_C_is_a_usage_error(argv, fragment):
    code, out, err = run_cli(*argv)
    assert (code, out, len(err)) == (2, '', 1) and fragment in err[0], (code, err)


def test_a_C_so_small_that_the_penalty_is_infinite_is_refused_before_training():
    code, out, err = run_cli('train', '--C', '1e-320', '--epochs', '1')      # λ = 1/(C·M) overflows to inf
    assert (code, out, len(err)) == (1, '', 1) and 'l2: expected a number ≥ 0, got inf' in err[0], (code, err)


# ---------------------------------------------------------------------------------------------------------------------
# 4. The fused loop's first compile is announced on stderr (by the command line; the library only logs it)

def _compiler_or_skip():
    from softmax_scratch.fused import CompilerMissing, require_compiler
    try: require_compiler()
    except CompilerMissing as e: pytest.skip(str(e))


def test_the_first_compile_says_so_once(monkeypatch, capsys):
    import softmax_scratch.fused as fused
    _compiler_or_skip()
    argv = ('train', '--strategy', 'fused', '--epochs', '1')
    monkeypatch.setattr(fused, '_loaded', {})
    monkeypatch.setattr(fused, 'cached', lambda name: False)           # as on a machine whose cache is empty
    code, out, err = run_cli(*argv)
    notes = [l for l in err if 'compiling the fused loop once, a few seconds' in l]
    assert code == 0 and len(notes) == 1 and notes[0].startswith('softmax-scratch: '), err
    code, out, err = run_cli(*argv)                                     # loaded in this process: nothing to say
    assert code == 0 and err == [], err
    monkeypatch.setattr(fused, '_loaded', {})
    monkeypatch.setattr(fused, 'cached', lambda name: True)            # in the cache already: loaded, not compiled
    code, out, err = run_cli(*argv)
    assert code == 0 and err == [], err
    monkeypatch.setattr(fused, '_loaded', {})
    monkeypatch.setattr(fused, 'cached', lambda name: False)
    capsys.readouterr()
    fused.extension()                                                  # the library alone prints nothing
    assert capsys.readouterr() == ('', '')


def test_cached_reads_the_real_cache():
    import softmax_scratch.fused as fused
    _compiler_or_skip()
    fused.extension()                                                  # compiled (or loaded): now in the cache
    path = fused.library_path()
    assert path.parent == fused.cache_dir() and fused.cached(path.name) and path.stat().st_size > 0
    assert not fused.cached('softmax_scratch_fused_000000000000.so')


def test_a_failed_compile_says_why_and_leaves_no_file(monkeypatch, tmp_path):
    import softmax_scratch.fused as fused
    _compiler_or_skip()
    monkeypatch.setenv('SOFTMAX_SCRATCH_CACHE', str(tmp_path))
    monkeypatch.setattr(fused, '_loaded', {})
    monkeypatch.setattr(fused, 'SOURCE', 'this is not C++;')
    with pytest.raises(RuntimeError, match='compiling the fused loop failed'): fused.extension()
    assert list(tmp_path.iterdir()) == [] and fused._loaded == {}     # no library, no temporary file, nothing loaded


# ---------------------------------------------------------------------------------------------------------------------
# 5. --data: a comma in a .csv's name; only two .npy names make a pair

def test_a_csv_whose_name_holds_a_comma(tmp_path):
    data = iris_csv(tmp_path/'a,b.csv')
    code, out, err = run_cli('train', '--data', data, '--label', 'species', '--epochs', '1')
    assert code == 0 and 'classes setosa, versicolor, virginica' in out, err
    code, out, err = run_cli('compare', '--data', data, '--label', 'species', '--against', 'torch', '--epochs', '1')
    assert code == 0, err


def test_npy_pairs_and_their_refusals(tmp_path):
    d = tmp_path/'runs,2024'; d.mkdir()
    np.save(d/'x.npy', IRIS.data); np.save(d/'y.npy', IRIS.target)
    code, out, err = run_cli('train', '--data', f'{d}/x.npy,{d}/y.npy', '--epochs', '1')
    assert code == 0, err
    for data, fragment in ((f'{d}/x.npy,{d}/none.npy', f'--data: no file {d}/none.npy'),
                           (f'{d}/x.npy,{d}/y.npy,{d}/y.npy', "--data: .npy data is a pair 'X.npy,Y.npy'"),
                           (f'{tmp_path}/missing,name.csv', f'--data: no file {tmp_path}/missing,name.csv')):
        code, out, err = run_cli('train', '--data', data, '--epochs', '1')
        assert (code, out, len(err)) == (2, '', 1) and fragment in err[0], (data, err)
