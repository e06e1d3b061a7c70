#!/usr/bin/env python3
"""Writes README.md's `swift` blocks as one Swift file (after the prelude): each block becomes the body of a
function, `async` when it awaits at its top level. A block whose first line is `// Package.swift` is a
manifest fragment and is skipped (it needs PackageDescription, not this module)."""
import re
import sys

readme, prelude = sys.argv[1], sys.argv[2]
text = open(readme).read()
out = [open(prelude).read()]
for index, block in enumerate(re.findall(r"```swift\n(.*?)```", text, re.S)):
    if block.startswith("// Package.swift"):
        continue
    body = "\n".join(l for l in block.splitlines() if not l.startswith("import "))
    depth, is_async = 0, False
    for l in body.splitlines():
        if depth == 0 and re.search(r"\bawait\b", l.split("{")[0]):
            is_async = True
        depth += l.count("{") - l.count("}")
    effects = "async throws" if is_async else "throws"
    out.append(f"func readmeSnippet{index}() {effects} {{\n{body}\n}}\n")
print("\n".join(out))
