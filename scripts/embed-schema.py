#!/usr/bin/env python3
"""Writes Sources/TrackerStore/Schema.swift from schema.sql (run `make schema` after editing it)."""
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
schema = (root / "schema.sql").read_text()
assert '"""' not in schema and "\\" not in schema, "schema.sql must not contain triple quotes or backslashes"
# The blank line before the closing quotes keeps schema.sql's final newline in the literal.
(root / "Sources/TrackerStore/Schema.swift").write_text(
    "/// The text of `schema.sql`, applied on every open. A test keeps it byte-equal to the file;\n"
    "/// regenerate with `make schema`.\n"
    "enum Schema {\n"
    '    static let sql = """\n' + schema + '\n"""\n'
    "}\n"
)
