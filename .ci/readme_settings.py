#!/usr/bin/env python3
"""Regenerates the README's configuration table from SETTINGS in src/config/mod.rs.

Usage: python3 .ci/readme_settings.py   (rewrites README.md in place)
The unit test config::tests::readme_lists_every_setting checks the result.
"""
import re
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
config = (root / "src/config/mod.rs").read_text()
rows = []
pattern = re.compile(r'Setting \{ key: "([a-z0-9_]+)", default: (r#"(.*?)"#|"(.*?)"), help: "(.*?)" \},')
for m in pattern.finditer(config):
    key = m.group(1)
    default = m.group(3) if m.group(3) is not None else m.group(4)
    default = default.replace('\\"', '"')
    help_text = m.group(5).replace('\\"', '"')
    shown = f"`{default}`" if default else "unset"
    rows.append(f"| `HUDDLE_{key.upper()}` | {shown} | {help_text} |")
readme = (root / "README.md").read_text().splitlines()
start = next(i for i, l in enumerate(readme) if l.startswith("| `HUDDLE_"))
end = start
while end < len(readme) and readme[end].startswith("| `HUDDLE_"):
    end += 1
readme[start:end] = rows
(root / "README.md").write_text("\n".join(readme) + "\n")
print(f"{len(rows)} settings written")
