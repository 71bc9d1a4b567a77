"""tools/install.py, `make setup`'s installer: uv given pip's own configuration, pip where uv is missing or fails."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import install  # noqa: E402


def test_pip_settings_become_uv_options(monkeypatch):
    monkeypatch.setattr(install.shutil, 'which', lambda name, path=None: '/venv/bin/uv')
    conf = {'find-links': '/opt/wheels', 'extra-index-url': 'file:///a/simple file:///b/simple',
            'constraint': '/etc/pip/c.txt', 'cert': '/etc/ca.crt', 'default-timeout': '180'}
    monkeypatch.delenv('SSL_CERT_FILE', raising=False); monkeypatch.delenv('UV_HTTP_TIMEOUT', raising=False)
    cmd, env = install.uv_command(conf, ['-e', '.[dev]'])
    assert cmd[:3] == ['/venv/bin/uv', 'pip', 'install'] and cmd[-4:] == ['-c', 'constraints.txt', '-e', '.[dev]']
    pairs = list(zip(cmd, cmd[1:]))
    for pair in [('--find-links', '/opt/wheels'), ('--extra-index-url', 'file:///a/simple'),
                 ('--extra-index-url', 'file:///b/simple'), ('--constraint', '/etc/pip/c.txt'),
                 ('--python', sys.executable), ('--index-strategy', 'unsafe-best-match')]:
        assert pair in pairs, (pair, cmd)
    assert env['SSL_CERT_FILE'] == '/etc/ca.crt' and env['UV_HTTP_TIMEOUT'] == '180'


def test_pip_config_list_is_read(monkeypatch):
    out = ":env:.find-links='/opt/wheels'\nglobal.extra-index-url='file:///a/simple'\nglobal.find-links='/x'\n"
    monkeypatch.setattr(install.subprocess, 'run', lambda *a, **k: subprocess.CompletedProcess(a, 0, out, ''))
    assert install.pip_config() == {'find-links': '/opt/wheels', 'extra-index-url': 'file:///a/simple'}


def test_pip_installs_where_uv_is_missing_or_fails(monkeypatch):
    calls = []
    def run(cmd, **kw):
        calls.append(cmd[0]); return subprocess.CompletedProcess(cmd, 1 if cmd[0].endswith('uv') else 0)
    monkeypatch.setattr(install, 'pip_config', lambda: {})
    monkeypatch.setattr(install.subprocess, 'run', run)
    monkeypatch.setattr(install.shutil, 'which', lambda name, path=None: '/venv/bin/uv')
    assert install.main(['-e', '.']) == 0 and calls == ['/venv/bin/uv', sys.executable]     # uv failed: then pip
    calls.clear()
    monkeypatch.setattr(install.shutil, 'which', lambda name, path=None: None)
    assert install.main(['-e', '.']) == 0 and calls == [sys.executable]                      # no uv: pip alone
