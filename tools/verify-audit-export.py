#!/usr/bin/env python3
"""Verify an Enate platform audit export (NDJSON from GET /api/v1/audit/export) offline.

Usage: python3 tools/verify-audit-export.py export.ndjson [--expect-head HEXHASH]

Recomputes every event's hash from its fields and the previous hash, as docs/audit.md defines,
and checks that each tenant's chain is unbroken. Exit code 0 when everything verifies, 1 with the
first mismatch otherwise. Standard library only.
"""
import hashlib
import json
import sys


class Number(str):
    """A JSON number kept exactly as written (PostgreSQL renders numerics with their scale)."""


def quote(text):
    # PostgreSQL's escape_json: short escapes, other control characters as \\u00xx, everything else raw.
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\b':
            out.append('\\b')
        elif ch == '\f':
            out.append('\\f')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ord(ch) < 0x20:
            out.append('\\u%04x' % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def render(value):
    """A JSON value as PostgreSQL renders jsonb as text: keys by byte length then bytes, ', ' and ': '."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: (len(kv[0].encode('utf-8')), kv[0].encode('utf-8')))
        return '{' + ', '.join(quote(k) + ': ' + render(v) for k, v in items) + '}'
    if isinstance(value, list):
        return '[' + ', '.join(render(v) for v in value) + ']'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if value is None:
        return 'null'
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    raise ValueError('unexpected JSON value %r' % (value,))


def canonical(event):
    return '\n'.join([str(event['seq']), event['tenant'], event['streamId'], str(event['version']),
                      event['type'], event['timestamp'], render(event['data'])])


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip())
        return 2
    expect_head = argv[argv.index('--expect-head') + 1] if '--expect-head' in argv else None
    last_hash = {}
    count = 0
    last_seq = None
    with open(argv[1], encoding='utf-8') as export:
        for number, line in enumerate(export, start=1):
            if not line.strip():
                continue
            event = json.loads(line, parse_float=Number, parse_int=Number)
            seq = int(event['seq'])
            if last_seq is not None and seq <= last_seq:
                print('line %d, seq %d: out of order after seq %d' % (number, seq, last_seq))
                return 1
            last_seq = seq
            tenant = event['tenant']
            previous = event['previousHash']
            if tenant in last_hash and last_hash[tenant] != previous:
                print('line %d, seq %d: chain broken: previousHash %s, but the previous event of tenant %s hashed to %s'
                      % (number, seq, previous, tenant, last_hash[tenant]))
                return 1
            digest = hashlib.sha256(bytes.fromhex(previous) + canonical(event).encode('utf-8')).hexdigest()
            if digest != event['hash']:
                print('line %d, seq %d (stream %s, version %s): altered: its fields hash to %s, the chain says %s'
                      % (number, seq, event['streamId'], event['version'], digest, event['hash']))
                return 1
            last_hash[tenant] = digest
            count += 1
    for tenant, head in sorted(last_hash.items()):
        print('tenant %s: head %s' % (tenant, head))
    if expect_head is not None and expect_head not in last_hash.values():
        print('the chain does not end at the expected head %s' % expect_head)
        return 1
    print('verified %d events' % count)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
