#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A strict reader of the Prometheus text exposition format (0.0.4), for
tests of xenbackctl metrics (no promtool here).

  prom-check.py check TEXT [JSON]   parse TEXT strictly; with JSON (the
                                    output of xenbackctl --json metrics),
                                    check that both say the same; exit 1
                                    with every problem on stderr
  prom-check.py sum TEXT NAME [LABEL=VALUE]...
                                    the sum of NAME's samples whose labels
                                    match (an integer when they all are)

What check refuses: a line that is neither a sample nor a HELP or TYPE
comment; a bad metric or label name; a label value with an escape other
than \\\\, \\" and \\n, or unterminated; a label given twice; a value that
is not a float; HELP or TYPE given twice for a family, or after its
samples; a family's samples not together; an unknown TYPE; a sample with
no TYPE; a duplicate series; a counter not named *_total, or negative;
a histogram whose buckets are not cumulative (le increasing, counts not
decreasing), lack +Inf, or whose +Inf bucket differs from _count; a
series without _sum or _count; no newline at the end.
"""
import json
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')

errors = []


def err(lineno, msg):
    errors.append('line %d: %s' % (lineno, msg))


def parse_labels(s, i, lineno):
    """Labels from s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ValueError('bad label name at column %d' % i)
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError('label %s: no =" after the name' % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ValueError('label %s: unterminated value' % name)
            c = s[i]
            if c == '\\':
                nxt = s[i + 1:i + 2]
                if nxt == '\\':
                    val.append('\\')
                elif nxt == '"':
                    val.append('"')
                elif nxt == 'n':
                    val.append('\n')
                else:
                    raise ValueError('label %s: bad escape \\%s' % (name, nxt))
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ValueError('label %s: newline in value' % name)
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise ValueError('label %s given twice' % name)
        labels[name] = ''.join(val)
        if i < len(s) and s[i] == ',':
            i += 1
        elif i < len(s) and s[i] == '}':
            pass
        else:
            raise ValueError('no , or } after label %s' % name)


def parse_value(v):
    if v in ('+Inf', 'Inf'):
        return math.inf
    if v == '-Inf':
        return -math.inf
    if v == 'NaN':
        return math.nan
    if not re.fullmatch(r'[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?', v):
        raise ValueError('value %r is not a float' % v)
    return float(v)


def family_of(name, types):
    """The family a sample belongs to (histogram suffixes stripped)."""
    for suf in ('_bucket', '_sum', '_count'):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ('histogram', 'summary'):
            return name[:-len(suf)]
    return name


def parse(text):
    """[(name, labels, value)], {family: type}; problems into errors."""
    samples, types, helps = [], {}, {}
    seen_series = set()
    done_families = set()
    current = None
    if text and not text.endswith('\n'):
        err(0, 'no newline at the end')
    for lineno, line in enumerate(text.split('\n')[:-1] if text.endswith('\n') else text.split('\n'), 1):
        if line == '':
            err(lineno, 'empty line')
            continue
        if line.startswith('#'):
            m = re.fullmatch(r'# (HELP|TYPE) (\S+)(?: (.*))?', line)
            if not m:
                err(lineno, 'a comment that is not HELP or TYPE: %r' % line)
                continue
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ''
            if not NAME.fullmatch(name):
                err(lineno, 'bad metric name %r' % name)
            if name in done_families or (current and current != name and name in types):
                err(lineno, '%s for %s after its samples' % (kind, name))
            table = helps if kind == 'HELP' else types
            if name in table:
                err(lineno, '%s given twice for %s' % (kind, name))
            if kind == 'TYPE':
                if rest not in TYPES:
                    err(lineno, 'unknown TYPE %r' % rest)
                types[name] = rest
            else:
                if re.search(r'\\[^\\n]', rest.replace('\\\\', '')):
                    err(lineno, 'bad escape in HELP')
                helps[name] = rest
            if current and current != name:
                done_families.add(current)
            current = name
            continue
        m = NAME.match(line)
        if not m:
            err(lineno, 'bad metric name in %r' % line)
            continue
        name = m.group(0)
        i = m.end()
        labels = {}
        try:
            if i < len(line) and line[i] == '{':
                labels, i = parse_labels(line, i, lineno)
            if line[i:i + 1] != ' ':
                raise ValueError('no space before the value')
            parts = line[i + 1:].split(' ')
            if len(parts) > 2:
                raise ValueError('more than a value and a timestamp')
            value = parse_value(parts[0])
        except (ValueError, IndexError) as e:
            err(lineno, '%s: %r' % (e, line))
            continue
        fam = family_of(name, types)
        if fam not in types:
            err(lineno, 'sample %s with no TYPE' % name)
        if fam in done_families:
            err(lineno, 'family %s not together' % fam)
        if current != fam:
            if current:
                done_families.add(current)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            err(lineno, 'duplicate series %s%s' % (name, labels))
        seen_series.add(key)
        t = types.get(fam)
        if t == 'counter':
            if not name.endswith('_total'):
                err(lineno, 'counter %s not named *_total' % name)
            if value < 0:
                err(lineno, 'negative counter %s' % name)
        samples.append((name, labels, value))
    for fam, t in types.items():
        if fam not in helps:
            err(0, 'no HELP for %s' % fam)
        if t == 'histogram':
            check_histogram(fam, samples)
    return samples, types


def check_histogram(fam, samples):
    series = {}
    for name, labels, value in samples:
        if name == fam + '_bucket':
            if 'le' not in labels:
                err(0, '%s_bucket without le' % fam)
                continue
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
            series.setdefault(rest, {'buckets': []})['buckets'].append(
                (parse_value(labels['le']), value))
        elif name in (fam + '_sum', fam + '_count'):
            rest = tuple(sorted(labels.items()))
            series.setdefault(rest, {'buckets': []})[name[len(fam) + 1:]] = value
    for rest, s in series.items():
        b = s['buckets']
        if not b or b[-1][0] != math.inf:
            err(0, '%s%s: no +Inf bucket last' % (fam, dict(rest)))
            continue
        for (le0, c0), (le1, c1) in zip(b, b[1:]):
            if not le1 > le0:
                err(0, '%s%s: le %s after %s' % (fam, dict(rest), le1, le0))
            if c1 < c0:
                err(0, '%s%s: bucket le=%s has %s < %s' % (fam, dict(rest), le1, c1, c0))
        if 'count' not in s or 'sum' not in s:
            err(0, '%s%s: no _sum or _count' % (fam, dict(rest)))
        elif s['count'] != b[-1][1]:
            err(0, '%s%s: _count %s != +Inf bucket %s' % (fam, dict(rest), s['count'], b[-1][1]))


def get(samples, name, **want):
    return [v for n, l, v in samples
            if n == name and all(l.get(k) == str(x) for k, x in want.items())]


def one(samples, name, **want):
    v = get(samples, name, **want)
    if len(v) != 1:
        errors.append('json: %d series of %s%s in the text, not 1' % (len(v), name, want))
        return None
    return v[0]


def agree(what, a, b):
    if a != b:
        errors.append('json and text differ: %s: %r != %r' % (what, a, b))


def check_json(samples, js):
    agree('start time', round(js['start-time'], 3),
          round(one(samples, 'xenbackd_start_time_seconds') or 0, 3))
    bounds = js['latency-bounds-us']
    ndev = 0
    for d in js['devices']:
        ndev += 1
        lab = dict(device=d['name'], **{'class': d['class']},
                   domid=d['frontend-id'], devid=d['devid'])
        agree(d['name'] + ' connected', 1 if d['connected'] else 0,
              one(samples, 'xenbackd_device_connected', **lab))
        agree(d['name'] + ' workers', d['workers-started'],
              one(samples, 'xenbackd_device_workers_started_total', **lab))
        agree(d['name'] + ' worker restarts', d['worker-restarts'],
              one(samples, 'xenbackd_device_worker_restarts_total', **lab))
        for r in d['rings']:
            rl = dict(lab, ring=r['ring'])
            for key, name in (('requests', 'xenbackd_ring_requests_total'),
                              ('errors', 'xenbackd_ring_errors_total'),
                              ('in-flight', 'xenbackd_ring_in_flight'),
                              ('resource-waits', 'xenbackd_ring_resource_waits_total')):
                agree('%s ring %s %s' % (d['name'], r['ring'], key), r[key], one(samples, name, **rl))
            for c, v in r['counters'].items():
                agree('counter ' + c, v, one(samples, 'xenbackd_ring_class_counter_total', counter=c, **rl))
            errs = 0
            for o in r['ops']:
                ol = dict(rl, op=o['op'])
                what = '%s ring %s op %s' % (d['name'], r['ring'], o['op'])
                agree(what + ' requests', o['requests'], one(samples, 'xenbackd_op_requests_total', **ol))
                agree(what + ' bytes', o['bytes'], one(samples, 'xenbackd_op_bytes_total', **ol))
                for k, v in o['errors'].items():
                    agree(what + ' errors ' + k, v, one(samples, 'xenbackd_op_errors_total', kind=k, **ol))
                    errs += v
                lb = o['latency-buckets']
                if len(lb) != len(bounds) + 1:
                    errors.append('%s: %d buckets for %d bounds' % (what, len(lb), len(bounds)))
                for k, c in enumerate(lb):
                    le = '+Inf' if k == len(bounds) else '%d.%06d' % divmod(bounds[k], 1000000)
                    agree(what + ' bucket ' + le, c,
                          one(samples, 'xenbackd_op_latency_seconds_bucket', le=le, **ol))
                agree(what + ' count', o['requests'], lb[-1])
                agree(what + ' sum', o['latency-sum-ns'] / 1e9,
                      one(samples, 'xenbackd_op_latency_seconds_sum', **ol))
            if r['ops']:
                agree('%s ring %s errors = the sum of its ops\'' % (d['name'], r['ring']), r['errors'], errs)
    agree('devices', ndev, len(get(samples, 'xenbackd_device_connected')))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == 'check':
        text = open(sys.argv[2], encoding='utf-8').read()
        samples, _ = parse(text)
        if len(sys.argv) > 3:
            with open(sys.argv[3]) as f:
                check_json(samples, json.load(f))
        for e in errors:
            print('prom-check: ' + e, file=sys.stderr)
        if errors:
            sys.exit(1)
        print('prom-check: %d samples ok' % len(samples))
    elif len(sys.argv) >= 4 and sys.argv[1] == 'sum':
        samples, _ = parse(open(sys.argv[2], encoding='utf-8').read())
        want = dict(a.split('=', 1) for a in sys.argv[4:])
        vals = get(samples, sys.argv[3], **want)
        total = sum(vals)
        print(int(total) if all(float(v).is_integer() for v in vals) else total)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


main()
