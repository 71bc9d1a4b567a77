"""Split the notebooks' code lines into math / checks and tests / benchmark plumbing / other.

    python tools/loc.py [NBS_DIR]

A line of a code cell is counted once, by the first rule that holds:
- benchmark plumbing: any line of the benchmarks notebook, or of a cell that calls `peak_memory` or `perf_counter`;
- checks and tests: a line of a cell that is not exported (examples, asserts, tables of bad inputs),
  an exported line of the input-checking notebooks (validate, data's checks), or an exported line that
  raises or calls a check helper;
- math: any other exported line of the derivation and classifier notebooks (softmax, cross-entropy, linear,
  classifier, newton, fused);
- other: the rest (data sets, compare, the CLI, imports, directives).
Blank lines and comment-only lines are not counted.
"""
import json, re, sys
from pathlib import Path

MATH = re.compile(r'_(softmax|cross_entropy|linear|classifier|newton|penalty|fused)')
CHECK_NB = re.compile(r'_(validate)')
CHECK_LINE = re.compile(r'\braise\b|\bcheck_\w+\(|\bas_(floats|features|labels|tensor)\(|@checks\(')

def split(nbs='nbs') -> dict:
    counts = dict(math=0, checks=0, bench=0, other=0)
    for nb in sorted(Path(nbs).glob('*.ipynb')):
        for cell in json.loads(nb.read_text())['cells']:
            if cell['cell_type'] != 'code': continue
            src = ''.join(cell['source'])
            lines = [l for l in src.splitlines() if l.strip() and not l.strip().startswith('#')]
            exported = re.match(r'#\|\s*export', src) is not None
            for line in lines:
                if 'benchmark' in nb.stem or re.search(r'peak_memory|perf_counter', src): kind = 'bench'
                elif not exported or CHECK_NB.search(nb.stem) or CHECK_LINE.search(line): kind = 'checks'
                elif MATH.search(nb.stem): kind = 'math'
                else: kind = 'other'
                counts[kind] += 1
    return counts

if __name__ == '__main__':
    c = split(*sys.argv[1:])
    total = sum(c.values())
    print(' | '.join(f"{k} {v} ({v / total:.0%})" for k, v in c.items()), f"| total {total}")
