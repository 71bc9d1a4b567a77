"""Local copies of the CDN files that the docs site loads, so that a browser test needs no network.

The pages load KaTeX from jsDelivr and the theme's CSS imports a Google Fonts stylesheet. jsDelivr serves
npm packages file by file, so each such file is a file of the npm package: `npm pack PKG@VERSION` (npm's own
registry, reachable here) brings it, once, into .cache/cdn/ (gitignored). `local_response(url)` answers:

- `https://cdn.jsdelivr.net/npm/PKG@VERSION/PATH`: PATH inside the package PKG@VERSION;
- `https://fonts.googleapis.com/css2?family=...`: the same fonts' @font-face rules from the npm package
  @fontsource/<family> (FONT_PACKAGES pins which), their font files addressed on jsDelivr, so the line above.

Any other address gets None: the test fails on it rather than let a request leave the machine.
`python tools/cdn.py _docs` fetches every package that the site's HTML, CSS and JS name, and lists them.
"""
import json, mimetypes, re, subprocess, sys, tarfile, tempfile, threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CACHE = Path(__file__).resolve().parent.parent/'.cache'/'cdn'
JSDELIVR = re.compile(r'https://cdn\.jsdelivr\.net/npm/((?:@[\w.-]+/)?[\w.-]+)@([\w.+-]+)/([^\s"\'()?#]*)')
GOOGLE_FONTS = re.compile(r'https://fonts\.googleapis\.com/css2?\?[^\s"\'()]+')
# Google Fonts family -> the npm package with the same font files (fontsource); pinned for a repeatable test.
FONT_PACKAGES = {'Source Sans Pro': ('@fontsource/source-sans-pro', '5.3.0')}
CORS = {'Access-Control-Allow-Origin': '*'}  # fonts from another origin need it, as the real CDNs send it
mimetypes.add_type('font/woff2', '.woff2'); mimetypes.add_type('font/woff', '.woff'); mimetypes.add_type('font/ttf', '.ttf')
_lock = threading.Lock()


def package_dir(pkg: str, version: str) -> Path:
    "The unpacked npm package `pkg@version` under .cache/cdn/, fetched with `npm pack` if not there yet."
    dest = CACHE/f"{pkg.replace('/', '+')}@{version}"
    with _lock:
        if not (dest/'package').is_dir():
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run(['npm', 'pack', f'{pkg}@{version}', '--json', '--pack-destination', tmp],
                                     check=True, capture_output=True, text=True).stdout
                tgz = Path(tmp)/json.loads(out)[0]['filename']
                part = dest.with_name(dest.name + '.part')
                with tarfile.open(tgz) as t: t.extractall(part, filter='data')
                part.rename(dest)
    return dest/'package'


def _google_fonts_css(url: str) -> str:
    "The @font-face rules a Google Fonts css2 request asks for, from fontsource, font files addressed on jsDelivr."
    rules = []
    for fam in parse_qs(urlsplit(url).query).get('family', []):
        name, _, axes = fam.partition(':')
        pkg, version = FONT_PACKAGES[name]  # KeyError: a font to add to FONT_PACKAGES
        weights = re.findall(r'\d{3}', axes.partition('@')[2]) or ['400']
        base = f'https://cdn.jsdelivr.net/npm/{pkg}@{version}/'
        for w in weights:
            css = (package_dir(pkg, version)/f'{w}.css').read_text()
            rules.append(re.sub(r'url\(\./', f'url({base}', css))
    return '\n'.join(rules)


def local_response(url: str):
    "(body bytes, content type) for a CDN `url`, from the local copies; None for any other address."
    if m := JSDELIVR.match(url):
        pkg, version, path = m.groups()
        root = package_dir(pkg, version)
        f = (root/path).resolve()
        if not f.is_relative_to(root.resolve()) or not f.is_file(): return None
        return f.read_bytes(), mimetypes.guess_type(f.name)[0] or 'application/octet-stream'
    if GOOGLE_FONTS.match(url):
        try: return _google_fonts_css(url).encode(), 'text/css'
        except KeyError: return None
    return None


def prefetch(site: Path) -> list[str]:
    "Fetch every npm package that a CDN address in the site's .html/.css/.js names; return the package@versions."
    names = set()
    for f in site.rglob('*'):
        if f.suffix not in ('.html', '.css', '.js'): continue
        text = f.read_text(errors='ignore')
        names |= {(m.group(1), m.group(2)) for m in JSDELIVR.finditer(text)}
        for u in GOOGLE_FONTS.findall(text):
            names |= {FONT_PACKAGES[fam.partition(':')[0]] for fam in parse_qs(urlsplit(u).query).get('family', [])
                      if fam.partition(':')[0] in FONT_PACKAGES}
    for pkg, version in sorted(names): package_dir(pkg, version)
    return sorted(f'{p}@{v}' for p, v in names)


if __name__ == '__main__':
    print('\n'.join(prefetch(Path(sys.argv[1] if len(sys.argv) > 1 else '_docs'))))
