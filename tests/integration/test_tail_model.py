#!/usr/bin/env python3
"""Model-based test of the tail source: random operations on a followed
file, checked against an oracle of what must appear.

    test_tail_model.py LOGSEAL_BINARY SOURCE_ROOT

Each seed (LSL_MODEL_SEEDS: "1-20" or "3,7,9"; LSL_MODEL_STEPS per seed,
default 200) drives `logseal run` tailing logs/access.log through a
reproducible sequence of: appends (also by a late writer to the rotated
file), rename-and-create and copytruncate rotations (with lines written
between the copy and the truncation) with or without compress and
delaycompress (a seed picks one), truncation in place, deletion, a new file
with the same first KiB on the reused inode, stalls (SIGSTOP/SIGCONT) with
rotations meanwhile, kill -9 with restarts at once or after steps while
down, SIGTERM and restart, and waits for the daemon to catch up.

The oracle keeps every line written and, per physical file, which lines
it holds. A line is required exactly once unless an operation destroyed
every file holding it (truncation, deletion, compression, rotations past
the count) before the daemon had committed it (finished segments plus the
checkpointed part of the open one), or it was written where it is lost by
design (copytruncate's window, a late write to a rotated file): then it
may be missing, but never repeated. At the end (SIGTERM) the output must
hold every required line exactly once, every other at most once, nothing
else, and no .part. A failure names the seed and how to replay it;
tests/tools/tail-model runs thousands of steps (not in CI).
"""

import collections
import gzip
import os
import random
import shutil
import signal
import time

import lslib
from lslib import check

ROTATE_KEEP = 6


class File:
    """A physical file (an inode) and the line instances it holds."""

    def __init__(self):
        self.lines = []  # instance ids, in file order


class Model:
    def __init__(self, ctx, seed, steps):
        self.rnd = random.Random(seed)
        self.seed, self.steps = seed, steps
        self.d = lslib.Daemon(ctx, base=ctx.path('seed-%d' % seed))
        self.logs = os.path.join(self.d.tmp, 'logs')
        os.makedirs(self.logs)
        self.path = os.path.join(self.logs, 'access.log')
        self.d.config([('web', {'type': 'tail', 'path': self.path,
                                'start': 'beginning',
                                'rotate_wait': '100ms'})],
                      extra='segment_size = %dK' % self.rnd.choice((16, 64,
                                                                    1024)))
        self.compress = self.rnd.choice(('none', 'compress', 'delay'))
        self.text = []          # instance id -> line text (bytes)
        self.maybe = set()      # instance ids that may be missing
        self.files = {}         # name -> File (uncompressed, existing)
        self.late = None        # (fd, File) of a writer not yet reopened
        self.state = 'down'     # up | stopped (SIGSTOP) | down
        self.down_steps = 0
        self.log = []           # the operations, for a failure message

    # ---- files and lines ----

    def p(self, name):
        return os.path.join(self.logs, name)

    def new_lines(self, k):
        ids = []
        for _ in range(k):
            i = len(self.text)
            fill = 'x' * self.rnd.randrange(0, 120)
            self.text.append(('L %06d s%d %s' % (i, self.seed, fill))
                             .encode())
            ids.append(i)
        return ids

    def write(self, name, ids, fd=None):
        data = b''.join(self.text[i] + b'\n' for i in ids)
        if fd is not None:
            os.write(fd, data)
        else:
            with open(self.p(name), 'ab') as f:
                f.write(data)
        self.files.setdefault(name, File()).lines.extend(ids)

    def committed(self):
        """Counts of texts committed: finished segments and the
        checkpointed length of the open one."""
        got = collections.Counter()
        ckpt = {}
        try:
            with open(os.path.join(self.d.state, 'web.ckpt')) as f:
                for ln in f:
                    k, _, v = ln.rstrip('\n').partition(' ')
                    ckpt[k] = v
        except FileNotFoundError:
            pass
        part, plen = ckpt.get('segment', ''), int(ckpt.get('segment_len', 0))
        data = b''
        if part:
            try:
                with open(part, 'rb') as f:
                    data = f.read(plen)
            except FileNotFoundError:
                pass  # finished since: listed below
        for seg in lslib.segments(self.d.output, 'web'):
            got.update(lslib.read_gz(seg).splitlines())
        got.update(lslib.gunzip_members(data).splitlines())
        return got

    def destroyed(self, ids):
        """Lines `ids` left a file for good: may be missing unless another
        file still holds them or the daemon committed them."""
        alive = set()
        for f in self.files.values():
            alive.update(f.lines)
        lost = [i for i in ids if i not in alive]
        if not lost:
            return
        got = self.committed()
        seen = collections.Counter()
        for i in range(len(self.text)):
            seen[self.text[i]] += 1
            if i in lost and seen[self.text[i]] > got[self.text[i]]:
                self.maybe.add(i)

    def remove(self, name):
        f = self.files.pop(name, None)
        os.unlink(self.p(name))
        if f:
            self.destroyed(f.lines)

    def gzip(self, name):
        with open(self.p(name), 'rb') as src, \
                gzip.open(self.p(name + '.gz'), 'wb') as dst:
            shutil.copyfileobj(src, dst)
        st = os.stat(self.p(name))
        os.utime(self.p(name + '.gz'), ns=(st.st_atime_ns, st.st_mtime_ns))
        self.remove(name)

    # ---- operations ----

    def op_append(self):
        self.write('access.log', self.new_lines(self.rnd.randrange(1, 40)))

    def op_late(self):
        if self.late:
            fd, f = self.late
            ids = self.new_lines(self.rnd.randrange(1, 5))
            os.write(fd, b''.join(self.text[i] + b'\n' for i in ids))
            f.lines.extend(ids)
            # Read only if it comes within the rotate wait.
            self.maybe.update(ids)

    def shift(self):
        """Rotation names move up by one; past ROTATE_KEEP they go."""
        for n in range(ROTATE_KEEP, 0, -1):
            for ext in ('', '.gz'):
                old = 'access.log.%d%s' % (n, ext)
                if not os.path.exists(self.p(old)):
                    continue
                if n == ROTATE_KEEP:
                    if ext:
                        os.unlink(self.p(old))
                    else:
                        self.remove(old)
                    continue
                new = 'access.log.%d%s' % (n + 1, ext)
                os.rename(self.p(old), self.p(new))
                if not ext:
                    self.files[new] = self.files.pop(old)

    def compress_rotated(self):
        if self.compress == 'compress' and 'access.log.1' in self.files:
            self.gzip('access.log.1')
        if self.compress == 'delay' and 'access.log.2' in self.files:
            self.gzip('access.log.2')

    def op_rotate_create(self):
        if 'access.log' not in self.files:
            return
        self.drop_late()
        self.shift()
        os.rename(self.path, self.p('access.log.1'))
        self.files['access.log.1'] = self.files.pop('access.log')
        if self.rnd.random() < 0.5:
            # The writer has not reopened yet.
            self.late = (os.open(self.p('access.log.1'),
                                 os.O_WRONLY | os.O_APPEND),
                         self.files['access.log.1'])
        open(self.path, 'ab').close()
        self.files['access.log'] = File()
        self.compress_rotated()

    def op_rotate_copytruncate(self):
        if 'access.log' not in self.files:
            return
        self.drop_late()
        self.shift()
        shutil.copyfile(self.path, self.p('access.log.1'))
        cur = self.files['access.log']
        self.files['access.log.1'] = File()
        self.files['access.log.1'].lines = list(cur.lines)
        if self.rnd.random() < 0.3:
            # Written between the copy and the truncation: in no file.
            ids = self.new_lines(self.rnd.randrange(1, 5))
            self.write('access.log', ids)
            self.maybe.update(ids)
        os.truncate(self.path, 0)
        gone, cur.lines = cur.lines, []
        self.destroyed(gone)
        self.compress_rotated()

    def op_truncate(self):
        if 'access.log' in self.files:
            os.truncate(self.path, 0)
            f = self.files['access.log']
            gone, f.lines = f.lines, []
            self.destroyed(gone)

    def op_delete(self):
        if 'access.log' in self.files:
            self.drop_late()
            self.remove('access.log')

    def op_same_head(self):
        """A new file on (likely) the reused inode, with the same first
        KiB as the deleted one."""
        f = self.files.get('access.log')
        if not f or sum(len(self.text[i]) + 1 for i in f.lines) < 1100:
            return
        head, n = [], 0
        for i in f.lines:
            if n >= 1100:
                break
            head.append(i)
            n += len(self.text[i]) + 1
        self.op_delete()
        ids = []
        for i in head:
            self.text.append(self.text[i])
            ids.append(len(self.text) - 1)
        self.write('access.log', ids + self.new_lines(5))

    def drop_late(self):
        if self.late:
            os.close(self.late[0])
            self.late = None

    def op_stall(self):
        if self.state == 'up':
            self.d.proc.send_signal(signal.SIGSTOP)
            self.state = 'stopped'
        elif self.state == 'stopped':
            self.d.proc.send_signal(signal.SIGCONT)
            self.state = 'up'

    def op_kill(self):
        if self.state == 'down':
            return
        self.d.kill()
        self.state = 'down'
        self.down_steps = self.rnd.choice((0, 0, 0, 1, 2, 5))

    def op_term(self):
        if self.state == 'stopped':
            self.op_stall()
        if self.state == 'up':
            rc = self.d.stop()
            check(rc == 0, 'seed %d: exit %s after SIGTERM:\n%s'
                  % (self.seed, rc, self.d.log_tail()))
            self.state = 'down'
            self.down_steps = self.rnd.choice((0, 2))

    def start(self):
        """Start and wait for the signal handlers (the 'started' line):
        a signal before them would just kill the process."""
        n = self.d.log().count('started: config')
        self.d.start()
        lslib.wait_for(lambda: self.d.log().count('started: config') > n,
                       30, 'seed %d: the daemon to start' % self.seed,
                       [self.d])
        self.state = 'up'

    def op_sync(self):
        if self.state == 'stopped':
            self.op_stall()
        if self.state == 'down':
            self.start()
        self.wait_caught_up(60)

    def keep(self):
        """LSL_MODEL_KEEP=DIR: leave a copy of the seed's files there."""
        where = os.environ.get('LSL_MODEL_KEEP')
        if where:
            dst = os.path.join(where, 'seed-%d' % self.seed)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(self.d.tmp, dst)
            with open(os.path.join(dst, 'operations'), 'w') as f:
                f.write('\n'.join(self.log) + '\n')

    def diagnosis(self, ids):
        """What a failure report needs beyond the operations: the log
        directory (inode, size, mtime, which of `ids` each file holds), the
        checkpoint, and the daemon log's end with the directory cut off."""
        out = ['files:']
        for name in sorted(os.listdir(self.logs)):
            st = os.stat(self.p(name))
            held = [i for i in self.files.get(name, File()).lines if i in ids]
            out.append('  %-18s ino %d size %d mtime %d.%09d%s' % (
                name, st.st_ino, st.st_size, st.st_mtime_ns // 10**9,
                st.st_mtime_ns % 10**9,
                ' holds %d of them (%d-%d)' % (len(held), held[0], held[-1])
                if held else ''))
        try:
            with open(os.path.join(self.d.state, 'web.ckpt')) as f:
                out.append('checkpoint: ' + ' | '.join(f.read().split('\n')))
        except FileNotFoundError:
            out.append('checkpoint: none')
        log = self.d.log().replace(self.logs + '/', '')
        out.append('log (end):\n' + lslib.redact(log, len(log))[-8000:])
        return '\n'.join(out)

    def missing(self):
        """Required lines not in the output yet (any segment, .part too)."""
        got = collections.Counter(lslib.segment_lines(self.d.output, 'web'))
        need = collections.Counter(self.text[i] for i in range(len(self.text))
                                   if i not in self.maybe)
        return need - got

    def wait_caught_up(self, timeout):
        end = time.monotonic() + timeout
        while self.missing():
            check(self.d.alive(), 'seed %d: the daemon exited:\n%s'
                  % (self.seed, self.d.log_tail()))
            if time.monotonic() > end:
                self.keep()
                gone = sorted(int(t.split()[1]) for t in self.missing())
                lslib.fail('seed %d: after %d s %d required lines are not in '
                           'the output (e.g. %s); operations: %s\n%s'
                           % (self.seed, timeout, len(gone), gone[:10],
                              ' '.join(self.log[-50:]),
                              self.diagnosis(set(gone))))
            time.sleep(0.05)

    # ---- the run ----

    OPS = (('append', 40), ('late', 3), ('rotate_create', 8),
           ('rotate_copytruncate', 6), ('truncate', 1), ('delete', 1),
           ('same_head', 1), ('stall', 5), ('kill', 3), ('term', 3),
           ('sync', 6))

    def run(self):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        # The source follows the file before anything happens to it: on a
        # first run, rotations older than the file it starts with are not
        # its business.
        self.op_append()
        self.op_sync()
        for step in range(self.steps):
            if self.state == 'down':
                if self.down_steps == 0:
                    self.start()
                else:
                    self.down_steps -= 1
            op = self.rnd.choices(names, weights)[0]
            self.log.append('%d:%s' % (step, op))
            getattr(self, 'op_' + op)()
            self.log[-1] += '>%d@%d' % (len(self.text), self.d.log().count('\n'))
            if self.state == 'up':
                check(self.d.alive(), 'seed %d: the daemon exited at step %d'
                      ':\n%s' % (self.seed, step, self.d.log_tail()))
        self.drop_late()
        self.op_sync()
        return self.finish()

    def finish(self):
        # Files left behind are closed: a leak of one descriptor per file
        # switch would pass every other check until EMFILE.
        fds = len(os.listdir('/proc/%d/fd' % self.d.proc.pid))
        check(fds < 64, 'seed %d: the daemon holds %d descriptors'
              % (self.seed, fds))
        rc = self.d.stop()
        check(rc == 0, 'seed %d: exit %s after SIGTERM:\n%s'
              % (self.seed, rc, self.d.log_tail()))
        parts = [p for p in lslib.segments(self.d.output, 'web', False)
                 if p.endswith('.part')]
        check(not parts, 'seed %d: .part left after SIGTERM' % self.seed)
        got = collections.Counter()
        for seg in lslib.segments(self.d.output, 'web'):
            got.update(lslib.read_gz(seg).splitlines())
        must, may = collections.Counter(), collections.Counter()
        for i, t in enumerate(self.text):
            (may if i in self.maybe else must)[t] += 1
        bad = []
        for t in set(got) | set(must) | set(may):
            if not must[t] <= got[t] <= must[t] + may[t]:
                bad.append((t[:9].decode(), got[t], must[t], may[t]))
        self.keep()
        check(not bad, 'seed %d: %d lines out of bounds (line: got, '
              'required, may be missing): %s; operations: %s\n%s'
              % (self.seed, len(bad), sorted(bad)[:8],
                 ' '.join(self.log[-60:]),
                 self.diagnosis({int(b[0].split()[1]) for b in bad})))
        lost = sum(must.values()) + sum(may.values()) - sum(got.values())
        return len(self.text), len(self.maybe), lost


def seeds():
    spec = os.environ.get('LSL_MODEL_SEEDS', '1-20')
    out = []
    for part in spec.split(','):
        a, _, b = part.partition('-')
        out += range(int(a), int(b or a) + 1)
    return out


def body(ctx):
    lslib.need_daemon(ctx)
    steps = int(os.environ.get('LSL_MODEL_STEPS', '200'))
    total = [0, 0, 0]
    t0 = time.monotonic()
    for seed in seeds():
        m = Model(ctx, seed, steps)
        try:
            res = m.run()
        except lslib.Failure as e:
            m.d.kill()
            raise lslib.Failure('%s\nreplay: LSL_MODEL_SEEDS=%d '
                                'LSL_MODEL_STEPS=%d %s' % (e, seed, steps,
                                                           ' '.join(
                                                               ('python3',
                                                                __file__,
                                                                ctx.exe,
                                                                ctx.root))))
        total = [a + b for a, b in zip(total, res)]
        shutil.rmtree(m.d.tmp, ignore_errors=True)
    print('%d seeds x %d steps in %.0f s: %d lines, %d at risk by design '
          '(destroyed before commit, copytruncate window, late writes), %d '
          'of them lost' % (len(seeds()), steps, time.monotonic() - t0,
                            total[0], total[1], total[2]))


lslib.main(body)
