"""Install the package with its extras from the lock (constraints.txt) into the virtualenv that runs this script.

`make setup` calls it. uv installs in about half pip's time (it unpacks and compiles in parallel, where pip takes a
minute on torch and TensorFlow alone); it is given pip's own configuration (`pip config list`: indexes, find-links,
constraints, certificate, timeout), so both read the same sources and the lock pins the same versions. Where uv is
missing or fails, pip installs instead, as before.

    python tools/install.py [requirement ...]      (default: -e '.[compare,dev]')
"""
import os, shutil, subprocess, sys
from pathlib import Path

PY = sys.executable
LOCK = ['-c', 'constraints.txt']
OPTIONS = {'index-url': '--index-url', 'extra-index-url': '--extra-index-url', 'find-links': '--find-links',
           'constraint': '--constraint'}   # pip's setting -> uv's option (a value may list several, space-separated)


def pip_config() -> dict:
    "pip's settings as `pip config list` shows them (files and PIP_* variables): name -> value."
    out = subprocess.run([PY, '-m', 'pip', 'config', 'list'], capture_output=True, text=True).stdout
    conf = {}
    for line in out.splitlines():
        key, sep, value = line.partition('=')
        if sep: conf.setdefault(key.split('.', 1)[-1], value.strip().strip('\'"'))   # 'global.x' or ':env:.x'
    return conf


def uv_command(conf:dict, requirements:list) -> tuple:
    "uv's command line and environment for the same install as pip's with `conf`."
    uv = shutil.which('uv', path=str(Path(PY).parent))
    if uv is None: return None, None
    cmd = [uv, 'pip', 'install', '--quiet', '--python', PY, '--compile-bytecode',
           '--index-strategy', 'unsafe-best-match']   # pip's rule: the best version from any index
    for name, option in OPTIONS.items():
        for value in conf.get(name, '').split(): cmd += [option, value]
    env = dict(os.environ)
    if 'cert' in conf: env.setdefault('SSL_CERT_FILE', conf['cert'])
    if 'default-timeout' in conf or 'timeout' in conf:
        env.setdefault('UV_HTTP_TIMEOUT', conf.get('default-timeout') or conf['timeout'])
    return cmd + LOCK + requirements, env


def main(requirements:list) -> int:
    cmd, env = uv_command(pip_config(), requirements)
    if cmd is not None:
        if subprocess.run(cmd, env=env).returncode == 0: return 0
        print('install: uv failed (above); installing with pip instead', file=sys.stderr)
    return subprocess.run([PY, '-m', 'pip', 'install', '-q', *LOCK, *requirements]).returncode


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:] or ['-e', '.[compare,dev]']))
