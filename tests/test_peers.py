"""The compiled-peers harness (softmax_scratch.peers): the report's shape, its ratios recomputed from the recorded
rounds, the gradient check, and a contender's failure named. Small problems and few processes: seconds, not minutes
(each process imports torch)."""
import json
import statistics

import numpy as np
import pytest

from softmax_scratch.peers import (PEER, peers, peers_table, peer_rows, peer_targets, peer_problem, peer_reference,
                                   peer_call, _start, _receive)


def test_rows_from_made_up_rounds():
    # closed is 2 × sklearn in round 1 and 3 × in round 2; read X and the products are known in each round
    times = {'closed': [dict(call=[.02, .02, .09], read=[.01] * 3, products=[.005] * 3),
                        dict(call=[.03] * 3, read=[.01] * 3, products=[.01] * 3)],
             PEER: [dict(call=[.01] * 3, read=[.02] * 3, products=[.01] * 3)] * 2}
    rows = {r['contender']: r for r in peer_rows('float32', times, {'closed': 1e-7, PEER: 2e-7})}
    closed = rows['closed']
    assert closed['vs_peer'] == pytest.approx(2.5) and closed['vs_read'] == pytest.approx(2.5)
    assert closed['vs_products'] == pytest.approx(3.5) and rows[PEER]['vs_peer'] == pytest.approx(1)
    assert closed['ms'] == pytest.approx(30) and closed['calls'] == 6 and closed['rounds_ms'] == pytest.approx([20, 30])
    assert (closed['by'], rows[PEER]['by']) == ('torch', 'numpy (OpenBLAS)')
    without_peer = peer_rows('float64', {'closed': times['closed']}, {'closed': 0.})
    assert without_peer[0]['vs_peer'] is None


def test_targets_of_fused():
    row = dict(dtype='float64', contender='fused', vs_peer=0.3, vs_read=3.5, vs_products=1.0)
    assert peer_targets(dict(results=[row])) == [('fused / sklearn, float64', 0.3, 0.35, True),
                                                 ('fused / read X, float64', 3.5, 3.0, False),
                                                 ('fused / products, float64', 1.0, 2.0, True)]


def test_reference_is_the_gradient():
    x, labels, w, b = peer_problem(50, 6, 3)
    dw, db = peer_reference(x, labels, w, b, 0.2)
    for c in ('closed', 'autograd', PEER):
        call, grads = peer_call(c, x, labels, w, b, 0.2, threads=1)
        got_w, got_b = (np.asarray(g) for g in grads(call()))
        np.testing.assert_allclose(got_w, dw, rtol=0, atol=1e-15 * np.abs(dw).max())
        np.testing.assert_allclose(got_b, db, rtol=0, atol=1e-15 * np.abs(db).max())


def test_a_small_run():
    report = peers(n_samples=300, n_features=10, n_classes=3, dtypes=('float64',), contenders=('closed', PEER),
                   threads=1, repeats=2, rounds=2, progress=False)
    assert set(report) == {'settings', 'date', 'machine', 'load_average', 'notes', 'results'}
    rows = {r['contender']: r for r in report['results']}
    assert list(rows) == ['closed', PEER]
    for r in rows.values():
        assert (r['calls'], len(r['rounds_ms']), len(r['read_ms']), len(r['products_ms'])) == (4, 2, 2, 2)
        assert r['grad_rel_err'] <= 1e-12 and r['ms'] > 0
        pairs = {'vs_read': r['read_ms'], 'vs_products': r['products_ms'], 'vs_peer': rows[PEER]['rounds_ms']}
        for key, ref in pairs.items():
            assert r[key] == pytest.approx(statistics.median(a / b for a, b in zip(r['rounds_ms'], ref)), rel=1e-12)
    assert rows[PEER]['vs_peer'] == 1
    json.dumps(report)
    assert len(peers_table(report).rows) == 2


def test_a_failing_contender_is_named():
    proc, conn = _start('nope', ((40, 3, 2), 'float64', 0., 1, 0))   # no such strategy: its first call raises
    try:
        with pytest.raises(RuntimeError, match=r"nope: its process failed:(.|\n)*strategy"):
            _receive(conn, proc, 'nope', 300)
    finally:
        proc.wait(30); proc.log.close(); conn.close()


def test_bench_peers_option_writes_the_report(tmp_path, monkeypatch, capsys):
    "`softmax-scratch bench --peers PATH`: the sizes and threads of the command line reach `peers`; table and JSON."
    import softmax_scratch.peers as peers_module
    from softmax_scratch.cli import main
    seen = {}
    def small(*args, **kw):                                   # the real peers, on two contenders and few calls
        seen.update(args=args, threads=kw['threads'])
        return peers(*args, contenders=('closed', PEER), threads=kw['threads'], repeats=2, rounds=1, progress=False)
    monkeypatch.setattr(peers_module, 'peers', small)
    out = tmp_path / 'peers.json'
    argv = ['bench', '--samples', '200', '--features', '5', '--classes', '3', '--dtype', 'float64', '--batch-size',
            'full', '--contenders', 'closed', '--threads', '1', '--repeats', '1', '--peers', str(out)]
    assert main(argv) == 0
    assert seen == dict(args=(200, 5, 3, ('float64',)), threads=1)
    report = json.loads(out.read_text())
    assert [r['contender'] for r in report['results']] == ['closed', PEER]
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and PEER in text


def test_quiet_for_is_a_number_of_seconds_at_least_zero():
    from softmax_scratch.cli import main
    for bad in ('-1', 'soon'):
        assert main(['bench', '--peers', 'p.json', '--quiet-for', bad]) == 2     # a usage error, before any work
