#!/usr/bin/env python3
"""Verify an Enate platform audit export (NDJSON from GET /api/v1/audit/export) offline.

Usage: python3 tools/verify-audit-export.py export.ndjson --public-key BASE64 [--public-key BASE64 ...]
                                            [--expect-head HEXHASH] [--unsigned]

Recomputes every event's hash from its fields and the previous hash, as docs/audit.md defines, checks that each
tenant's chain is unbroken, and checks every checkpoint line: signed (Ed25519) by one of the given public keys
(GET /api/v1/audit/keys), following the tenant's previous checkpoint, and naming a head the recomputed chain passes
through. An export whose events were changed and whose hashes were all recomputed agrees with itself, but not with
the signed checkpoints. Exit code 0 when everything verifies, 1 at the first mismatch (naming its line).
Without --public-key the checkpoints cannot be checked: the script refuses unless --unsigned says the chain alone
is enough. Standard library only (Ed25519 verification is written out below, after RFC 8032).
"""
import base64
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


# --- Ed25519 signature verification (RFC 8032, section 5.1.7), on the curve's extended coordinates ---

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e = (y1 - x1) * (y2 - x2) % P
    f = (y1 + x1) * (y2 + x2) % P
    g = 2 * t1 * t2 * D % P
    h = 2 * z1 * z2 % P
    b_, c_, d_, a_ = f - e, h - g, h + g, f + e
    return (b_ * c_ % P, d_ * a_ % P, c_ * d_ % P, b_ * a_ % P)


def _multiply(scalar, point):
    result = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _same(a, b):
    x1, y1, z1, _ = a
    x2, y2, z2, _ = b
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _decompress(encoded):
    if len(encoded) != 32:
        return None
    y = int.from_bytes(encoded, 'little')
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign:
            return None
        return (0, y, 1, 0)
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
BASE = _decompress(_GY.to_bytes(32, 'little'))


def ed25519_verify(public_key, message, signature):
    if len(signature) != 64:
        return False
    a = _decompress(public_key)
    r = _decompress(signature[:32])
    s = int.from_bytes(signature[32:], 'little')
    if a is None or r is None or s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), 'little') % L
    return _same(_multiply(s, BASE), _add(r, _multiply(h, a)))


# --- Checkpoints ---

ZERO_HASH = '0' * 64


def checkpoint_canonical(c):
    return '\n'.join(['enate-audit-checkpoint/v1', c['tenant'], str(c['number']), str(c['seq']), c['headHash'],
                      c['time'], c['previous']])


def key_id(public_key):
    return hashlib.sha256(public_key).hexdigest()[:16]


def main(argv):
    if len(argv) < 2 or argv[1].startswith('--'):
        print(__doc__.strip())
        return 2
    options = argv[2:]
    keys = {}
    for index, option in enumerate(options):
        if option == '--public-key':
            raw = base64.b64decode(options[index + 1])
            keys[key_id(raw)] = raw
    expect_head = options[options.index('--expect-head') + 1] if '--expect-head' in options else None
    unsigned = '--unsigned' in options
    if not keys and not unsigned:
        print('no --public-key given: the checkpoints cannot be checked (pass --unsigned to verify the chain alone)')
        return 2

    last_hash = {}
    hashes_at = {}          # tenant -> {seq: hash} of the events seen, to check each checkpoint's head
    last_checkpoint = {}    # tenant -> (number, hash)
    events = checkpoints = 0
    last_seq = None
    with open(argv[1], encoding='utf-8') as export:
        for number, line in enumerate(export, start=1):
            if not line.strip():
                continue
            record = json.loads(line, parse_float=Number, parse_int=Number)
            if 'checkpoint' in record:
                c = record['checkpoint']
                tenant, seq = c['tenant'], int(c['seq'])
                text = checkpoint_canonical(c)
                if not unsigned:
                    key = keys.get(c['keyId'])
                    if key is None or not ed25519_verify(key, text.encode('utf-8'), base64.b64decode(c['signature'])):
                        print('line %d: checkpoint %s of tenant %s is not signed by any given key (key %s)'
                              % (number, c['number'], tenant, c['keyId']))
                        return 1
                previous = last_checkpoint.get(tenant)
                if previous is not None and int(c['number']) == previous[0] and hashlib.sha256(text.encode('utf-8')).hexdigest() == previous[1]:
                    continue    # the same checkpoint handed to the witness twice in a row counts once
                if previous is not None and (int(c['number']) != previous[0] + 1 or c['previous'] != previous[1]):
                    print('line %d: checkpoint %s of tenant %s does not follow checkpoint %d: one is missing'
                          % (number, c['number'], tenant, previous[0]))
                    return 1
                if previous is None and int(c['number']) == 1 and c['previous'] != ZERO_HASH:
                    print('line %d: checkpoint 1 of tenant %s names a previous checkpoint' % (number, tenant))
                    return 1
                if hashes_at.get(tenant, {}).get(seq) != c['headHash']:
                    print('line %d: checkpoint %s of tenant %s signs head %s at seq %d, but the chain here hashes to %s: '
                          'the record was rewritten after it was signed'
                          % (number, c['number'], tenant, c['headHash'], seq, hashes_at.get(tenant, {}).get(seq)))
                    return 1
                last_checkpoint[tenant] = (int(c['number']), hashlib.sha256(text.encode('utf-8')).hexdigest())
                hashes_at[tenant] = {}
                checkpoints += 1
                continue

            event = record
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
            hashes_at.setdefault(tenant, {})[seq] = digest
            events += 1
    for tenant, head in sorted(last_hash.items()):
        witnessed = last_checkpoint.get(tenant)
        print('tenant %s: head %s; %s' % (tenant, head,
              'last checkpoint %d' % witnessed[0] if witnessed else 'no checkpoint in the export'))
    if expect_head is not None and expect_head not in last_hash.values():
        print('the chain does not end at the expected head %s' % expect_head)
        return 1
    print('verified %d events and %d checkpoints%s' % (events, checkpoints, '' if not unsigned else ' (signatures not checked)'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
