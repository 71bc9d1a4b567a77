"""Write README.md from nbs/index.ipynb, offline (`nbdev_readme` needs Quarto, which cannot be installed here).

`python tools/readme.py` writes README.md; `python tools/readme.py --check` exits 1 when README.md is stale.
Markdown cells are copied (links to notebooks become links to their pages on the docs site, settings.ini's doc_host + doc_baseurl); code cells become ```python blocks without their `#|` directives;
cells marked `#| hide` are left out. Saved text outputs, if any, follow their cell.
"""
import configparser, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC, DST = ROOT/'nbs'/'index.ipynb', ROOT/'README.md'
HEADER = '<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n\n'
DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$')
NB_LINK = re.compile(r'\]\(([\w-]+)\.ipynb(#[\w-]*)?\)')
_cfg = configparser.ConfigParser(); _cfg.read(ROOT/'settings.ini')
SITE = _cfg['DEFAULT']['doc_host'].rstrip('/') + '/' + _cfg['DEFAULT']['doc_baseurl'].strip('/') + '/'

def page(stem):
    "The docs page of notebook `stem` as nbdev names it: 00_checks -> checks.html, index -> the site's root."
    from nbdev.doclinks import _nbpath2html
    html = _nbpath2html(Path(stem + '.ipynb')).as_posix()
    return '' if html == 'index.html' else html

def directives(src): return [m.group(1).strip() for l in src.splitlines() if (m := DIRECTIVE.match(l))]

def text_outputs(cell):
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream' and o.get('name') == 'stdout': yield ''.join(o['text'])
        elif o.get('output_type') in ('execute_result', 'display_data') and 'text/plain' in o.get('data', {}):
            yield ''.join(o['data']['text/plain'])

def render(nb):
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown':
            parts.append(NB_LINK.sub(lambda m: f'](' + SITE + page(m[1]) + (m[2] or '') + ')', src.strip()))
            continue
        if cell['cell_type'] != 'code' or any(d.split()[0] in ('hide', 'exporti') for d in directives(src) if d): continue
        code = '\n'.join(l for l in src.splitlines() if not DIRECTIVE.match(l)).strip()
        if code: parts.append(f'```python\n{code}\n```')
        for out in text_outputs(cell): parts.append(f'```\n{out.rstrip()}\n```')
    return HEADER + '\n\n'.join(p for p in parts if p) + '\n'

def main(argv):
    want = render(json.loads(SRC.read_text(encoding='utf-8')))
    if '--check' in argv:
        have = DST.read_text(encoding='utf-8') if DST.exists() else ''
        if have != want:
            print('README.md is stale: it differs from nbs/index.ipynb. Run `make readme` and commit README.md.')
            return 1
        print('check-readme: README.md matches nbs/index.ipynb')
        return 0
    DST.write_text(want, encoding='utf-8')
    print(f'wrote {DST.relative_to(ROOT)}')
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
