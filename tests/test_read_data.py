"""`read_data` and `read_dataset` fed hostile files (issue 26, "Files"): every failure is a ValueError, TypeError or
OSError whose message names the file, and nothing hangs or eats memory.

One test per case of the issue: a comma in a file's name, members that are not numeric arrays, arrays declared
larger than `max_bytes`, files that are not regular files (a FIFO, /dev/zero), an over-long CSV field, a UTF-8 BOM.
On its own: `PYTHONPATH=. .venv/bin/python -m pytest tests/test_read_data.py -q`.
"""
import io, os, subprocess, sys, textwrap, threading, zipfile

import numpy as np
import pytest

from softmax_scratch.data import read_data, read_dataset

X = np.arange(24, dtype=np.float64).reshape(8, 3) / 7
LABELS = np.array([0, 1, 2, 0, 1, 2, 0, 1])
CSV = 'y,a,b,c\n' + ''.join(f"{l},{r[0]!r},{r[1]!r},{r[2]!r}\n" for r, l in zip(X.tolist(), LABELS.tolist()))

def refused(call, path, exc=(ValueError, TypeError, OSError), *frags):
    "`call()` raises `exc` whose message names `path` and holds every fragment; returns the message."
    with pytest.raises(exc) as info: call()
    msg = str(info.value)
    assert str(path) in msg, (str(path), msg)
    for f in frags: assert f in msg, (f, msg)
    return msg

def npy_bytes(header:dict, data:bytes=b'') -> bytes:
    "A .npy file whose header says `header` (descr, fortran_order, shape), followed by `data`."
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data

def zip_of(path, members:dict):
    "A zip archive (an .npz as numpy reads it) with the members given as bytes."
    with zipfile.ZipFile(path, 'w') as z:
        for name, data in members.items(): z.writestr(name, data)
    return path

def in_thread(call, timeout=5):
    "The exception `call()` raised (None if none), run in a thread that must end within `timeout` seconds."
    out = {}
    def run():
        try: out['value'] = call()
        except BaseException as e: out['error'] = e
    t = threading.Thread(target=run, daemon=True)
    t.start(); t.join(timeout)
    return t.is_alive(), out.get('error')

# 1. A comma in a file's name

@pytest.mark.parametrize('name', ['a,b.csv', 'with, space.csv', ',lead.csv', 'many,,commas,.csv'])
def test_a_comma_in_a_csv_name_is_part_of_the_name(tmp_path, name):
    (tmp_path/name).write_text(CSV)
    for p in (tmp_path/name, str(tmp_path/name)):
        x, labels, m = read_data(p, label='y')
        assert m == 8 and np.array_equal(x, X) and np.array_equal(labels, LABELS)
    ds = read_dataset(tmp_path/name, label='y', valid_size=2)
    assert tuple(ds.x_valid.shape) == (2, 3)

def test_a_comma_in_an_npz_name_and_in_a_folder_name(tmp_path):
    np.savez(tmp_path/'x,y.npz', x=X, y=LABELS)
    x, labels, m = read_data(tmp_path/'x,y.npz')
    assert m == 8 and np.array_equal(x, X) and np.array_equal(labels, LABELS)
    d = tmp_path/'runs,2024'; d.mkdir()
    np.save(d/'x.npy', X); np.save(d/'y.npy', LABELS)
    x, labels, m = read_data(f'{d}/x.npy,{d}/y.npy')                     # a pair whose folder holds a comma
    assert m == 8 and np.array_equal(x, X) and np.array_equal(labels, LABELS)
    refused(lambda: read_data(tmp_path/'missing,name.csv', label='y'), tmp_path/'missing,name.csv', FileNotFoundError)

def test_only_two_npy_names_make_a_pair(tmp_path):
    np.save(tmp_path/'x.npy', X); np.save(tmp_path/'y.npy', LABELS); np.savez(tmp_path/'d.npz', x=X, y=LABELS)
    x, labels, m = read_data(f'{tmp_path}/x.npy,{tmp_path}/y.npy', rows=lambda m: [1, 4])
    assert m == 8 and np.array_equal(x, X[[1, 4]]) and np.array_equal(labels, LABELS[[1, 4]])
    for bad in (f'{tmp_path}/d.npz,{tmp_path}/y.npy', f'{tmp_path}/x.npy,{tmp_path}/y.npy,{tmp_path}/y.npy',
                f'{tmp_path}/x.npy', f'{tmp_path}/x.npy,{tmp_path}/y.txt'):
        refused(lambda: read_data(bad), bad, ValueError)

# 2. Members that are not numeric arrays

def test_members_that_are_not_numeric_arrays_are_refused(tmp_path):
    good_y = npy_bytes({'descr': '<i8', 'fortran_order': False, 'shape': (8,)}, LABELS.astype('<i8').tobytes())
    cases = {'raw.npz': {'x.npy': b'just some bytes, no magic', 'y.npy': good_y},     # numpy hands back bytes
             'bare.npz': {'x': b'\x00' * 64, 'y.npy': good_y},                        # a member without .npy
             'text.npz': {'x.npy': npy_bytes({'descr': '<U3', 'fortran_order': False, 'shape': (8, 3)}, b'\0' * 288),
                          'y.npy': good_y}}
    for name, members in cases.items():
        path = zip_of(tmp_path/name, members)
        refused(lambda: read_data(path), path, ValueError, "'x'")
    np.savez(tmp_path/'objects.npz', x=np.array([[1, 'a']] * 8, dtype=object), y=LABELS)   # a pickled member
    refused(lambda: read_data(tmp_path/'objects.npz'), tmp_path/'objects.npz', ValueError, "'x'")

def test_an_npz_or_a_zip_inside_a_pair_is_refused(tmp_path):
    np.savez(tmp_path/'d.npz', x=X, y=LABELS); np.save(tmp_path/'y.npy', LABELS)
    with open(tmp_path/'zip.npy', 'wb') as f: np.savez(f, x=X)               # an archive behind a .npy name
    np.save(tmp_path/'obj.npy', np.array([[1, 'a']] * 8, dtype=object))      # a pickled array
    (tmp_path/'raw.npy').write_bytes(b'not an array at all')
    for bad in ('d.npz', 'zip.npy', 'obj.npy', 'raw.npy'):
        path = f'{tmp_path}/{bad},{tmp_path}/y.npy'
        refused(lambda: read_data(path), tmp_path/bad, ValueError)

# 3. Arrays declared larger than max_bytes

HUGE = {'descr': '<f8', 'fortran_order': False, 'shape': (10**10, 1)}       # 80 GB declared, a few bytes stored

def test_an_npz_member_declared_huge_is_refused_from_its_header(tmp_path):
    path = zip_of(tmp_path/'huge.npz', {'x.npy': npy_bytes(HUGE, b'\0' * 80), 'y.npy': npy_bytes(HUGE)})
    msg = refused(lambda: read_data(path), path, ValueError, "'x'", 'max_bytes')
    assert '80,000,000,000' in msg, msg
    np.savez(tmp_path/'small.npz', x=X, y=LABELS)                            # X: 192 bytes
    small = tmp_path/'small.npz'
    refused(lambda: read_data(small, max_bytes=100), small, ValueError, "'x'", 'max_bytes')
    assert read_data(tmp_path/'small.npz', max_bytes=192)[2] == 8
    with pytest.raises(ValueError, match='max_bytes'): read_data(tmp_path/'small.npz', max_bytes=0)

def test_an_npz_member_declared_larger_than_it_is_is_refused_from_its_header(tmp_path):
    header = {'descr': '<f8', 'fortran_order': False, 'shape': (10**8, 3)}   # 2.4 GB declared, under the default
    path = zip_of(tmp_path/'short.npz', {'x.npy': npy_bytes(header, b'\0' * 80), 'y.npy': npy_bytes(HUGE)})
    refused(lambda: read_data(path), path, ValueError, "'x'")

def test_an_npy_declared_huge_is_refused_from_its_header(tmp_path):
    (tmp_path/'x.npy').write_bytes(npy_bytes(HUGE, b'\0' * 80)); np.save(tmp_path/'y.npy', LABELS)
    path = f'{tmp_path}/x.npy,{tmp_path}/y.npy'
    refused(lambda: read_data(path), tmp_path/'x.npy', ValueError, 'declares')
    np.save(tmp_path/'x.npy', X)
    refused(lambda: read_data(path, max_bytes=100), tmp_path/'x.npy', ValueError, 'max_bytes')
    x, _, m = read_data(path, rows=lambda m: [0], max_bytes=100)   # a memory-mapped pair: only the rows read count
    assert m == 8 and np.array_equal(x, X[:1])

# 4. Files that are not regular files

def test_a_fifo_is_refused_before_it_is_opened(tmp_path):
    for name, kw in (('data.csv', dict(label='y')), ('data.npz', {})):
        fifo = tmp_path/name
        os.mkfifo(fifo)
        try:
            alive, error = in_thread(lambda: read_data(fifo, **kw))
        finally:                                                             # a reader blocked in open() gets EOF
            try: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError: pass
        assert not alive, f"read_data({name}) blocked on a FIFO"
        assert isinstance(error, ValueError) and str(fifo) in str(error) and 'regular file' in str(error), error
    np.save(tmp_path/'y.npy', LABELS); os.mkfifo(tmp_path/'x.npy')
    try: alive, error = in_thread(lambda: read_data(f'{tmp_path}/x.npy,{tmp_path}/y.npy'))
    finally:
        try: os.close(os.open(tmp_path/'x.npy', os.O_WRONLY | os.O_NONBLOCK))
        except OSError: pass
    assert not alive and isinstance(error, ValueError) and str(tmp_path/'x.npy') in str(error), error

@pytest.mark.skipif(not os.path.exists('/dev/zero'), reason='no /dev/zero')
@pytest.mark.parametrize('name, kw', [('zero.csv', "label='y'"), ('zero.npz', ''), ('zero.npy', '')])
def test_dev_zero_behind_a_data_name_is_refused(tmp_path, name, kw):
    "In a child process with its address space capped at 1 GiB above what it holds after import, and a time limit."
    link = tmp_path/name
    link.symlink_to('/dev/zero')
    arg = f"'{link},{tmp_path}/y.npy'" if name.endswith('.npy') else f"'{link}'"
    np.save(tmp_path/'y.npy', LABELS)
    code = textwrap.dedent(f"""
        import resource
        from softmax_scratch.data import read_data
        vm = int(next(l for l in open('/proc/self/status') if l.startswith('VmSize')).split()[1]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 2**30, vm + 2**30))
        try: read_data({arg}, {kw})
        except BaseException as e: print(type(e).__name__, '|', e)
        """)
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)})
    kind, _, msg = run.stdout.strip().partition(' | ')
    assert run.returncode == 0 and kind == 'ValueError', (run.stdout, run.stderr[-2000:])
    assert str(link) in msg and 'regular file' in msg, msg

# 5. A CSV field over the csv module's limit (131 072 characters)

def test_an_over_long_csv_field_is_a_value_error_naming_the_line(tmp_path):
    path = tmp_path/'long.csv'
    path.write_text('y,a\n0,1.5\n1,' + '9' * 200_000 + '\n0,2\n')
    refused(lambda: read_data(path, label='y'), path, ValueError, 'line 3')
    (tmp_path/'quote.csv').write_text('y,a\n0,1.5\n1,"unclosed\n' + '0,2\n' * 40_000)   # one field to the end
    refused(lambda: read_data(tmp_path/'quote.csv', label='y'), tmp_path/'quote.csv', ValueError, 'line ', 'field')

# 6. A UTF-8 byte-order mark

def test_a_utf8_bom_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path/'bom.csv'
    path.write_text(CSV, encoding='utf-8-sig')
    assert path.read_bytes().startswith(b'\xef\xbb\xbfy,')
    x, labels, m = read_data(path, label='y')
    assert m == 8 and np.array_equal(x, X) and np.array_equal(labels, LABELS)
