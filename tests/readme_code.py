"""README.md's Python code as one script, block after block as the page shows them (`python tests/readme_code.py`
prints it). `make test-wheel` runs it in a fresh venv that holds only the wheel and its requirements (no extras)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent/'README.md'


def blocks(text: str) -> list[str]:
    "The ```python blocks of a Markdown text, in order."
    return re.findall(r'^```python\n(.*?)^```', text, re.S | re.M)


def script(text: str) -> str:
    "The blocks as one script; before each, a line on stderr says which block runs (and so which one failed)."
    bs = blocks(text)
    head = 'import sys\n'
    # The message as one Python literal: a block's first line may hold quotes of either kind.
    parts = [f'print({f"README block {i}/{len(bs)}: {b.splitlines()[0][:80]}"!r}, file=sys.stderr, flush=True)\n{b}'
             for i, b in enumerate(bs, 1)]
    return head + '\n'.join(parts) + f'print("README: all {len(bs)} Python blocks ran", file=sys.stderr)\n'


if __name__ == '__main__': print(script(README.read_text(encoding='utf-8')))
