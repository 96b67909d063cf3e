#!/usr/bin/env python3
"""Validates `riftgate status --json` output (stdin) against docs/status.schema.json.
Usage: check-status-schema.py SCHEMA [JQ-LIKE CHECKS are done by the caller]. Exit 0 = valid."""
import json
import sys

import jsonschema

with open(sys.argv[1]) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
try:
    doc = json.load(sys.stdin)
except json.JSONDecodeError as e:
    print(f"not JSON: {e}")
    sys.exit(1)
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: e.path)
for e in errors:
    print(f"schema: {'/'.join(str(p) for p in e.path)}: {e.message}")
sys.exit(1 if errors else 0)
