"""The site's search index, for a reader: `write_search(site, parts)` (tools/docs.py runs it on the finished site).

smalldocs writes search.json from the Markdown: the text under each heading, code and raw TeX included, which its
search (Fuse.js) then ranks by field length, so that a short API entry named `grad_kronecker` comes before the
derivation of the Kronecker product. Here search.json is written again from the finished pages:

- one entry per heading (`data-anchor-id`) and one for the text above the first, with the page's title;
- the text is the prose (code blocks are left out: a reference entry's parameter table names its parameters), and
  the math is plain text (`tex_text`: `\\frac{\\partial L}{\\partial \\mathbf{W}}` -> `∂L/∂W`), so no snippet shows TeX;
- each entry has a `rank` (RANKS): the sections of the Learn pages first, Home's after them, then the other pages'
  sections, then the reference entries (nbdev's show_doc entries, and the API index).

site_libs/search-rank.js (SEARCH_JS), loaded after Fuse.js and before smalldocs' own script, has Fuse sort by
whether the words themselves matched (not only nearly), then by `rank`, then by Fuse's score.
"""
import html, json, re
from pathlib import Path

# A show_doc entry as the page has it: the rule nbdev writes, maybe a source link, the heading, then the signature.
ENTRY = re.compile(r'<div class="cell-output cell-output-display cell-output-markdown">\s*<hr />\s*(?:<p>.*?</p>\s*)?'
                   r'<h([34]) id="([^"]+)"[^>]*>(.*?)</h\1>(.*?)(?=<div id="cell-|</section>|</main>)', re.S)
HEADING = re.compile(r'<h([1-4])\b[^>]*\bdata-anchor-id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
MATH = re.compile(r'<span class="math (?:inline|display)">(.*?)</span>', re.S)
NOT_TEXT = re.compile(r'<(script|style|button|nav)\b.*?</\1>|<p><a [^>]*>source</a></p>|<h1 class="title">.*?</h1>',
                      re.S)
# search.json's `rank`: a Learn page's sections (Home's after the derivations), the other pages', the reference's.
RANKS = dict(learn=0, home=1, section=2, reference=3)

SEARCH_JS = """// The site's search (smalldocs: Fuse.js over search.json), ranked for a reader (tools/search.py):
// first what matches the words themselves, not only nearly; among those, the sections of the Learn pages, then of
// the other pages, then the reference entries (search.json's `rank`); then Fuse's score.
(() => {
  const Base = window.Fuse;
  if (!Base) return;
  const STRONG = 0.01;   // with the field-length norm off, a match of the words themselves scores below this
  window.Fuse = class extends Base {
    constructor(list, opts) {
      const rank = list.map((e) => e.rank || 0);
      const key = (r) => [r.score < STRONG ? 0 : 1, rank[r.idx], r.score, r.idx];
      const sortFn = (a, b) => {
        const ka = key(a), kb = key(b);
        for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
        return 0;
      };
      super(list, { ...opts, ignoreFieldNorm: true, sortFn });
    }
  };
})();
"""

# ---------------------------------------------------------------- TeX as text

SYMBOLS = dict(
    alpha='α', beta='β', gamma='γ', delta='δ', epsilon='ε', varepsilon='ε', zeta='ζ', eta='η', theta='θ', iota='ι',
    kappa='κ', lambda_='λ', mu='μ', nu='ν', xi='ξ', pi='π', rho='ρ', sigma='σ', tau='τ', phi='φ', varphi='φ',
    chi='χ', psi='ψ', omega='ω', Gamma='Γ', Delta='Δ', Theta='Θ', Lambda='Λ', Xi='Ξ', Pi='Π', Sigma='Σ', Phi='Φ',
    Psi='Ψ', Omega='Ω', ell='ℓ', partial='∂', nabla='∇', otimes='⊗', oplus='⊕', odot='⊙', oslash='⊘', times='×',
    cdot='·', top='ᵀ', sum='Σ', prod='Π', int='∫', infty='∞', le='≤', leq='≤', ge='≥', geq='≥', ne='≠', neq='≠',
    approx='≈', equiv='≡', sim='∼', propto='∝', pm='±', mp='∓', to='→', rightarrow='→', leftarrow='←', mapsto='↦',
    implies='⇒', iff='⇔', Rightarrow='⇒', Leftarrow='⇐', in_='∈', notin='∉', subset='⊂', subseteq='⊆', cup='∪',
    cap='∩', forall='∀', exists='∃', emptyset='∅', langle='⟨', rangle='⟩', lVert='‖', rVert='‖', Vert='‖', vert='|',
    lvert='|', rvert='|', mid='|', ldots='…', dots='…', cdots='⋯', vdots='⋮', ddots='⋱', circ='∘', star='⋆',
    dagger='†', setminus='∖', lfloor='⌊', rfloor='⌋', lceil='⌈', rceil='⌉', sqrt='√', neg='¬', land='∧', lor='∨',
    prime='′')
BINARY = {'otimes', 'oplus', 'odot', 'oslash', 'times', 'cdot', 'le', 'leq', 'ge', 'geq', 'ne', 'neq', 'approx',
          'equiv', 'sim', 'propto', 'pm', 'mp', 'to', 'rightarrow', 'leftarrow', 'mapsto', 'implies', 'iff',
          'Rightarrow', 'Leftarrow', 'in', 'notin', 'subset', 'subseteq', 'cup', 'cap', 'circ', 'setminus', 'mid'}
SPACES = {',', ';', ':', '!', ' ', 'quad', 'qquad', 'enspace', 'thinspace', 'medspace', 'thickspace'}
DROP = {'left', 'right', 'big', 'Big', 'bigg', 'Bigg', 'bigl', 'bigr', 'Bigl', 'Bigr', 'biggl', 'biggr', 'middle',
        'displaystyle', 'textstyle', 'limits', 'nolimits', 'mathrel', 'mathbin', 'mathop', 'mathord', 'boxed',
        'underbrace', 'overbrace', 'underset', 'overset', 'phantom', 'hphantom', 'vphantom', 'label', 'nonumber',
        'notag', 'tag', 'mathbf', 'boldsymbol', 'bm', 'mathrm', 'operatorname'}
ACCENTS = {'hat': '\u0302', 'widehat': '\u0302', 'tilde': '\u0303', 'widetilde': '\u0303', 'bar': '\u0304',
           'overline': '\u0305', 'dot': '\u0307', 'ddot': '\u0308', 'vec': '\u20d7'}
BLACKBOARD = dict(R='ℝ', N='ℕ', Z='ℤ', Q='ℚ', C='ℂ', E='𝔼', P='ℙ', I='𝕀')
SCRIPT = dict(L='ℒ', N='𝒩', O='𝒪', H='ℋ', D='𝒟', F='ℱ', B='ℬ', E='ℰ', I='ℐ')
SUPERSCRIPTS = str.maketrans('0123456789+-=()ni', '⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ')
GROUP = r'\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}'   # a braced group, three levels deep
ARG = r'\s*(?:' + GROUP + r'|\\([A-Za-z]+)|([A-Za-z0-9]))'   # a command's argument: {…}, \command or one character
FONTS = r'\\(?:mathbf|boldsymbol|bm|mathrm|mathit|mathsf|mathtt|operatorname\*?|text\w*|mbox|emph)'


def _symbol(name: str) -> str:
    "A TeX command's text: a symbol (spaced if it is a relation or an operator), nothing, a space, or its name."
    if name in SPACES: return ' '
    if name in DROP: return ''
    if name in ('{', '}', '_', '%', '#', '&', '$'): return name
    if name == '|': return '‖'
    sym = SYMBOLS.get(name, SYMBOLS.get(name + '_', name))
    return f' {sym} ' if name in BINARY else sym


def _script(mark: str, body: str) -> str:
    "A superscript or subscript: superscript characters where they all exist, else `^x` or `^(…)`."
    body = body.replace('\0', '').strip()
    if mark == '^' and body and all(c in '0123456789+-=()ni' for c in body): return body.translate(SUPERSCRIPTS)
    return f'{mark}{body}' if len(body) <= 1 or re.fullmatch(r'\w+', body) else f'{mark}({body})'


def _paren(s: str) -> str:
    "A fraction's numerator or denominator, bracketed when it has more than one term."
    s = s.replace('\0', '').strip()
    return f'({s})' if re.search(r'[-+−=,\s]', s) and not re.fullmatch(r'\([^()]*\)', s) else s


def _arg(m, k: int = 1) -> str:
    "The text of the argument that ARG matched at group `k`, after a \\0."
    # The \0 (removed at the end) keeps `\partial\mathbf{W}` from becoming a command `\partialW` once `W` is bare.
    got = tex_text(m[k]) if m[k] is not None else _symbol(m[k + 1]).strip() if m[k + 1] else m[k + 2] or ''
    return '\0' + got


def tex_text(s: str) -> str:
    "TeX as plain text: `\\frac{\\partial L}{\\partial \\mathbf{W}}` -> `∂L/∂W`, `\\mathbf{X}^\\top` -> `Xᵀ`."
    s = re.sub(r'\\\(|\\\)|\\\[|\\\]|\$\$?', ' ', s)
    s = re.sub(r'\\(?:begin|end)\{[^}]*\}(?:\{[^}]*\})?', ' ', s)
    s = re.sub(r'\\\\(?:\[[^\]]*\])?', '; ', s).replace('&', '')
    s = re.sub(r'\^\{?\\top\}?|\^\{?T\}?(?![a-zA-Z])', 'ᵀ', s)
    for _ in range(2):
        s = re.sub(r'\\[dt]?frac' + ARG + ARG, lambda m: f'\0{_paren(_arg(m))}/{_paren(_arg(m, 4))}', s)
        s = re.sub(r'\\sqrt' + ARG, lambda m: f'\0√{_paren(_arg(m))}', s)
        s = re.sub(r'\\(' + '|'.join(ACCENTS) + r')(?![A-Za-z])' + ARG, lambda m: _arg(m, 2) + ACCENTS[m[1]], s)
        s = re.sub(r'\\mathbb' + ARG, lambda m: ''.join(BLACKBOARD.get(c, c) for c in _arg(m)), s)
        s = re.sub(r'\\mathcal' + ARG, lambda m: ''.join(SCRIPT.get(c, c) for c in _arg(m)), s)
        s = re.sub(FONTS + ARG, _arg, s)
    s = re.sub(r'\\([A-Za-z]+)\s*|\\(.)', lambda m: _symbol(m[1] or m[2]), s)   # TeX drops the space after a word
    s = re.sub(r'([\^_])\s*(?:' + GROUP + r'|(\S))', lambda m: _script(m[1], m[2] if m[2] is not None else m[3]), s)
    s = s.replace('{', '').replace('}', '').replace('\0', '')
    return re.sub(r'\s+', ' ', s).strip()


# ---------------------------------------------------------------- the index

def html_text(h: str) -> str:
    "The text of an HTML fragment, its math as plain text."
    h = MATH.sub(lambda m: ' ' + tex_text(html.unescape(m[1])) + ' ', NOT_TEXT.sub(' ', h))
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', ' ', h)).split())


def page_sections(page: str, h: str, reference: bool = False) -> list[dict]:
    "A page's entries: the text above its first heading, then one per heading, code left out; `api`: a reference entry."
    main = h[h.find('<main'):h.rfind('</main>')] if '<main' in h else h
    api = {m[2] for m in ENTRY.finditer(main)}
    title = html_text(m[1]) if (m := re.search(r'<h1 class="title">(.*?)</h1>', main, re.S)) else page
    cuts = [(0, '', '')] + [(m.start(), m[2], m[3]) for m in HEADING.finditer(main)]
    out = []
    for (at, anchor, head), (end, *_) in zip(cuts, cuts[1:] + [(len(main), '', '')]):
        body = main[at:end]
        if anchor: body = body[body.find('</h') + 5:]
        text, href = html_text(re.sub(r'<pre\b.*?</pre>', ' ', body, flags=re.S)), page + (f'#{anchor}' * bool(anchor))
        if text or anchor:
            out.append(dict(objectID=href, href=href, title=title, section=html_text(head) if anchor else '',
                            text=text, api=reference or anchor in api))
    return out


def write_search(site: Path, parts: dict[str, str], learn: str = 'Learn', reference: tuple = ()) -> None:
    "Write `site`/search.json, ranked, in the order of `parts` ({page: part}), and the script that ranks by it."
    pages = sorted((f.relative_to(site).as_posix() for f in site.rglob('*.html')
                    if f.relative_to(site).parts[0] not in ('site_libs', '_screenshots')),
                   key=lambda p: (list(parts).index(p) if p in parts else len(parts), p))
    entries = []
    for page in pages:
        for e in page_sections(page, (site/page).read_text(errors='ignore'), page in reference):
            e['rank'] = RANKS['reference'] if e.pop('api') else RANKS['home'] if page == 'index.html' else \
                RANKS['learn'] if parts.get(page) == learn else RANKS['section']
            entries.append(e)
    (site/'search.json').write_text(json.dumps(entries, ensure_ascii=False))
    (site/'site_libs'/'search-rank.js').write_text(SEARCH_JS)
