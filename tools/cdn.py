"""Copy the CDN files that the rendered site names into the site itself, so that it needs no network.

smalldocs' pages load KaTeX from jsDelivr, and the theme's CSS imports a Google Fonts stylesheet. `vendor(site)`
(run by tools/docs.py after rendering) makes the site self-contained:

- `https://cdn.jsdelivr.net/npm/PKG@VERSION/PATH`: jsDelivr serves npm packages file by file, so PATH is a file of
  the npm package PKG@VERSION. It is copied to `site_libs/npm/PKG@VERSION/PATH`, with every file that a copied CSS
  file names by a relative `url(...)` (KaTeX's fonts), and the address is replaced by a relative one.
- `https://fonts.googleapis.com/css2?family=...`: the same faces' @font-face rules come from the npm package
  @fontsource/<family> (FONT_PACKAGES pins which); they are written to `site_libs/fonts/<family>.css`, the font
  files beside it, and the `@import` points there.

`npm pack PKG@VERSION` (npm's own registry) brings each package once into .cache/cdn/ (gitignored); later builds
are offline. An address of any other kind is left alone and fails the browser test, which blocks every request that
leaves 127.0.0.1. `python tools/cdn.py _docs` vendors a built site and lists the packages.
"""
import json, os, re, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

CACHE = Path(__file__).resolve().parent.parent/'.cache'/'cdn'
JSDELIVR = re.compile(r'https://cdn\.jsdelivr\.net/npm/((?:@[\w.-]+/)?[\w.-]+)@([\w.+-]+)/([^\s"\'()?#]*)')
GOOGLE_FONTS = re.compile(r'https://fonts\.googleapis\.com/css2?\?[^\s"\'()]+')
CSS_URL = re.compile(r'url\(\s*["\']?(?!data:|https?:|/)([^"\')?#]+)[^)]*\)')
# Google Fonts family -> the npm package with the same font files (fontsource); pinned for a repeatable build.
FONT_PACKAGES = {'Source Sans Pro': ('@fontsource/source-sans-pro', '5.3.0')}
TEXT = ('.html', '.css', '.js')


def package_dir(pkg: str, version: str) -> Path:
    "The unpacked npm package `pkg@version` under .cache/cdn/, fetched with `npm pack` if not there yet."
    dest = CACHE/f"{pkg.replace('/', '+')}@{version}"
    if not (dest/'package').is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(['npm', 'pack', f'{pkg}@{version}', '--json', '--pack-destination', tmp],
                                 check=True, capture_output=True, text=True).stdout
            tgz = Path(tmp)/json.loads(out)[0]['filename']
            part = dest.with_name(dest.name + '.part')
            shutil.rmtree(part, ignore_errors=True)
            with tarfile.open(tgz) as t: t.extractall(part, filter='data')
            part.rename(dest)
    return dest/'package'


def _copy_with_css_deps(src_root: Path, rel: str, dst_root: Path) -> None:
    "Copy `src_root/rel` to `dst_root/rel`; for a CSS file, also every file it names by a relative url()."
    todo, done = [rel], set()
    while todo:
        r = todo.pop()
        if r in done: continue
        done.add(r)
        src = (src_root/r).resolve()
        if not src.is_relative_to(src_root.resolve()) or not src.is_file(): raise FileNotFoundError(f'{src_root.name}: no {r}')
        (dst_root/r).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst_root/r)
        if src.suffix == '.css':
            base = PurePosixPath(r).parent
            todo += [os.path.normpath(str(base/u)) for u in CSS_URL.findall(src.read_text(errors='ignore'))]


def _font_css(url: str, out: Path) -> Path:
    "Write the @font-face rules a Google Fonts css2 `url` asks for (from fontsource) and their font files under `out`."
    rules = []
    for fam in parse_qs(urlsplit(url).query).get('family', []):
        name, _, axes = fam.partition(':')
        pkg, version = FONT_PACKAGES[name]  # KeyError: a font to add to FONT_PACKAGES
        root = package_dir(pkg, version)
        for w in re.findall(r'\d{3}', axes.partition('@')[2]) or ['400']:
            css = (root/f'{w}.css').read_text()
            for u in CSS_URL.findall(css): _copy_with_css_deps(root, os.path.normpath(u), out)
            rules.append(css)
    f = out/(re.sub(r'\W+', '-', urlsplit(url).query).strip('-')[:80] + '.css')
    f.write_text('\n'.join(rules))
    return f


def vendor(site: Path) -> list[str]:
    "Copy every CDN file that the site's .html/.css/.js name into `site/site_libs`, point the names there; the packages."
    libs, used, fonts = site/'site_libs', set(), {}
    for f in sorted(p for p in site.rglob('*') if p.suffix in TEXT and p.is_file()):
        text = f.read_text(errors='ignore')
        def local(target: Path) -> str: return os.path.relpath(target, f.parent).replace(os.sep, '/')
        def npm(m):
            pkg, version, path = m.groups()
            dst = libs/'npm'/f"{pkg.replace('/', '+')}@{version}"
            _copy_with_css_deps(package_dir(pkg, version), path, dst)
            used.add(f'{pkg}@{version}')
            return local(dst/path)
        def font(m):
            if m[0] not in fonts:
                fonts[m[0]] = _font_css(m[0], libs/'fonts')
                used.update(f'{p}@{v}' for p, v in FONT_PACKAGES.values())
            return local(fonts[m[0]])
        new = GOOGLE_FONTS.sub(font, JSDELIVR.sub(npm, text))
        if new != text: f.write_text(new)
    return sorted(used)


if __name__ == '__main__':
    print('\n'.join(vendor(Path(sys.argv[1] if len(sys.argv) > 1 else '_docs'))))
