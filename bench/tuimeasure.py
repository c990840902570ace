# Copied unchanged from ../shared/tools/tuimeasure.py (the shared pty measuring tool).
# Re-copy from there to update it; do not edit here (excluded from ruff in pyproject.toml).
#!/usr/bin/env python3
"""tuimeasure - measure what a terminal UI program costs, inside a pseudo-terminal.

Stdlib only, Python >= 3.8, Linux (/proc).  One file, no config: copy it anywhere.

    python3 tuimeasure.py [options] -- COMMAND [ARGS...]

Per run:
  1. Opens a pty of --cols x --rows (default 120x40) and spawns COMMAND on it in a
     new session (the pty is its controlling terminal), TERM=xterm-256color
     (--term).  Nothing is ever answered on stdin: terminal queries (DA, CPR,
     DECRQM, OSC 11 ?, ...) stay unanswered; they are counted in "queries".
  2. Startup: waits until --ready REGEX (Python re) first matches the output
     with escape sequences stripped -> ready_ms, time since spawn.  Without
     --ready, "ready" is the first visible character.  first_output_ms is the
     time to the first byte of any kind.
  3. Waits --settle s (default 2), then measures a steady window of --window s
     (default 20; 0 = startup only, use with --settle 0):
       cpu_s, cpu_pct  user+sys CPU seconds of the whole process tree over the
                       window, and as % of ONE core (100 = one core busy); from
                       /proc/PID/stat utime+stime+cutime+cstime.  cpu_user_pct,
                       cpu_sys_pct split it.
       bytes_per_s     bytes the program wrote to the terminal per second.
       updates_per_s   output bursts per second (reads separated by > 10 ms of
                       silence): roughly screen updates per second.
       chunks_per_s    read() calls per second (a pty read returns <= 4 KiB).
  4. Memory, spawn until quit:
       rss_peak_mb     max over samples (every --sample s) of the tree's summed RSS.
       hwm_sum_mb      sum of each process' VmHWM (own peak RSS) at window end;
                       the exact peak for a single-process program.
       pss_mb          tree PSS at window end (shared pages split between users).
  5. Sends --quit-key (default 'q'; '' = none) and waits --quit-timeout s
     (default 5) for the exit; else SIGTERM, then SIGKILL (--kill-grace s apart)
     to the process group and every process of the tree.  quit_method is key,
     exit (no key), exited_before_quit, sigterm or sigkill; quit_ok is true only
     for key; quit_ms is the time from the key to the exit; leftover_procs counts
     tree processes still alive after the main one exited (they are killed).
  6. Terminal restoration, from the byte stream and the pty's termios:
     alt screen (?1049/?1047/?47) entered and left; DEC private modes left
     changed (mouse ?1000/1002/1003/1006, bracketed paste ?2004, focus ?1004,
     sync output ?2026, cursor ?25 left hidden, autowrap ?7 left off, ...);
     kitty keyboard protocol pushes not popped; termios (ICANON, ECHO, ISIG,
     IEXTEN, ICRNL, IXON, OPOST) not as before.  terminal_restored is true only
     if all are clean; words_after_alt_exit counts text printed to the normal
     screen after leaving the alt screen (a traceback, a goodbye line).

Noise indicators over the window (% of one core): harness_cpu_pct (this
script), host_other_pct (everything else the machine did), host_steal_pct
(hypervisor steal, on VMs).  loadavg_start/end are in "host".

Output: one JSON object on stdout (progress on stderr with -v): settings, host,
env_runtime_vars (PYTHON*, LD_*, TERM, locale... as the program saw them),
"runs" (one object per recorded run; "ok" means the measurement completed, it
says nothing about quit_ok) and "summary" (median/min/max of every numeric
field over the ok runs; quit_ok/terminal_restored true only if true in all).
Exit status: 0 if every run was ok, 1 otherwise, 2 on usage errors.

Robustness: every phase has a deadline and a SIGALRM watchdog bounds each run;
the harness makes itself a child subreaper, so daemonised descendants stay in
the tree; on any error, or SIGINT/SIGTERM/SIGHUP to the harness, the whole tree
is SIGKILLed and the JSON is still printed, with "error" and "output_tail".

Environment: inherited, minus COLUMNS, LINES, COLORTERM, TERM_PROGRAM(_VERSION),
TMUX and STY, so the program sees a plain xterm-256color of the given size;
LANG=C.UTF-8 if no locale variable is set.  --unset NAME drops more,
--env NAME=VALUE adds or overrides (e.g. --env COLORTERM=truecolor, --env HOME=DIR
to keep a tool's config files out of your home).

Keys (--send DELAY:KEYS, --quit-key) take Python escapes: '\\x1b[A' (up), '\\t',
'\\r' (enter), '\\x03' (ctrl-c), '\\x11' (ctrl-q, Textual's default quit).  DELAY
is seconds after ready; keys are sent during settle and window.

Examples:
  tuimeasure.py --ready Credits -- python app.py                # 120x40, 20 s window
  tuimeasure.py --ready Command --repeat 3 --warmup 1 --label htop -- htop -d 10
  tuimeasure.py --window 0 --settle 0 --ready Command --repeat 7 -- htop  # startup
  tuimeasure.py --send '3:\\t' --send '4:j' --quit-key '\\x11' -- python app.py
  tuimeasure.py --log out/run -- python app.py    # also dump raw bytes + timeline

Caveats: the ready regex sees a heuristic text view (SGR codes removed, other
cursor motions turned into a space or newline), not a rendered screen: prefer a
single word as the marker.  CPU resolution is 1/CLK_TCK (usually 10 ms) per
process, i.e. 0.05 % of a core over a 20 s window.  A process that leaves the
tree through a parent outside it (e.g. started via a daemon or setuid helper)
is not counted.
"""

import argparse
import codecs
import ctypes
import fcntl
import json
import os
import re
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

VERSION = 1
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024.0 * 1024.0
BURST_GAP = 0.010      # s of silence that separates two output bursts ("updates")

# --------------------------------------------------------------------------
# terminal byte stream: escape-sequence tokenizer, text view, mode tracking
# --------------------------------------------------------------------------

ESC_RE = re.compile(
    r"""
      \x1b\[ (?P<cp>[0-?]*) (?P<ci>[ -/]*) (?P<cf>[@-~])     # CSI
    | \x1b\] (?P<osc>[^\x07\x1b]*) (?:\x07|\x1b\\)          # OSC ... BEL/ST
    | \x1b(?P<sk>[P^_X]) (?P<str>.*?) \x1b\\                # DCS/PM/APC/SOS ... ST
    | \x1b[()*+\-./] .                                     # charset designation
    | \x1b[ -/]* [0-OQ-WYZ\\`-~]                            # other ESC sequences
    """,
    re.X | re.S,
)
CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# DEC private modes whose power-on state is "set"; all others default to reset.
DEFAULT_ON = {7, 25}
# not checked for restoration: terminal-dependent default (12), an action (1048)
NOT_CHECKED = {12, 1048}
MODE_NAMES = {
    1: "app_cursor_keys", 7: "autowrap", 12: "cursor_blink", 25: "cursor_visible",
    47: "alt_screen_47", 66: "app_keypad", 1000: "mouse_click", 1002: "mouse_drag",
    1003: "mouse_any", 1004: "focus_events", 1005: "mouse_utf8", 1006: "mouse_sgr",
    1015: "mouse_urxvt", 1016: "mouse_pixels", 1047: "alt_screen_1047",
    1048: "save_cursor", 1049: "alt_screen", 2004: "bracketed_paste",
    2026: "sync_output", 2027: "grapheme_clusters", 2048: "in_band_resize",
}
ALT_MODES = (1049, 1047, 47)


class TermStream:
    """Incremental parser of what a program writes to its terminal."""

    MAX_CARRY = 65536

    def __init__(self):
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._carry = ""
        self.modes = {}          # DEC private mode -> True (set) / False (reset)
        self.alt_entered = False
        self.kitty_depth = 0     # kitty keyboard protocol pushes - pops
        self.queries = {}
        self.visible_since_alt_exit = 0

    def _query(self, name):
        self.queries[name] = self.queries.get(name, 0) + 1

    def _csi(self, params, inter, final):
        if params.startswith("?") and final in "hl" and not inter:
            on = final == "h"
            for p in params[1:].split(";"):
                if p.isdigit():
                    n = int(p)
                    self.modes[n] = on
                    if n in ALT_MODES:
                        if on:
                            self.alt_entered = True
                        else:
                            self.visible_since_alt_exit = 0
            return
        if final == "u" and not inter:
            if params.startswith(">"):
                self.kitty_depth += 1
            elif params.startswith("<"):
                n = params[1:]
                self.kitty_depth = max(0, self.kitty_depth - (int(n) if n.isdigit() else 1))
            elif params == "?":
                self._query("kitty_keyboard")
            return
        if final == "c" and not inter and params in ("", "0"):
            self._query("DA1")
        elif final == "c" and params.startswith(">"):
            self._query("DA2")
        elif final == "n" and params in ("6", "?6"):
            self._query("CPR")
        elif final == "n" and params == "5":
            self._query("DSR")
        elif final == "p" and inter == "$":
            self._query("DECRQM")
        elif final == "q" and params.startswith(">"):
            self._query("XTVERSION")
        elif final == "t" and params in ("14", "16", "18"):
            self._query("window_size")

    def feed(self, data):
        """Feed raw bytes; return the text view of the complete part."""
        s = self._carry + self._dec.decode(data)
        out = []
        pos = 0
        for m in ESC_RE.finditer(s):
            if m.start() > pos:
                seg = s[pos:m.start()]
                out.append(seg)
                self.visible_since_alt_exit += len(CTRL_RE.sub("", seg).split())
            pos = m.end()
            cf = m.group("cf")
            if cf is not None:
                self._csi(m.group("cp"), m.group("ci"), cf)
                if cf == "m":
                    pass                      # colours: nothing visible
                elif cf in "Hf":
                    out.append("\n")
                else:
                    out.append(" ")
            elif m.group("osc") is not None:
                if m.group("osc").endswith("?"):
                    self._query("OSC_" + m.group("osc").split(";", 1)[0])
            elif m.group("sk") == "P" and m.group("str").startswith("+q"):
                self._query("XTGETTCAP")
        rest = s[pos:]
        i = rest.rfind("\x1b")
        if i >= 0 and len(rest) - i < self.MAX_CARRY:
            self._carry = rest[i:]
            rest = rest[:i]
        else:
            self._carry = ""
        out.append(rest)
        self.visible_since_alt_exit += len(CTRL_RE.sub("", rest).split())
        return CTRL_RE.sub("", "".join(out).replace("\r", "\n"))

    def not_restored(self):
        bad = []
        for n, on in sorted(self.modes.items()):
            if n in ALT_MODES or n in NOT_CHECKED:
                continue
            if on != (n in DEFAULT_ON):
                name = MODE_NAMES.get(n, "mode")
                bad.append("?%d %s left %s" % (n, name, "on" if on else "off"))
        if self.kitty_depth:
            bad.append("kitty keyboard pushed %d time(s), not popped" % self.kitty_depth)
        return bad

    def alt_state(self):
        """(entered, exited): exited is True if the last alt-screen op was a reset."""
        if not self.alt_entered:
            return False, None
        return True, not any(self.modes.get(n) for n in ALT_MODES)


# --------------------------------------------------------------------------
# process tree accounting from /proc
# --------------------------------------------------------------------------

SELF = os.getpid()
HAVE_CHILDREN_FILE = os.path.exists("/proc/%d/task/%d/children" % (SELF, SELF))


def _children(pid):
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return kids


def _scan_children():
    m = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                m.setdefault(st["ppid"], []).append(int(d))
    return m


def tree_pids(root):
    """All live (or zombie) descendants of the harness: the root and orphans
    reparented to us as subreaper, plus their descendants."""
    if HAVE_CHILDREN_FILE:
        todo = set(_children(SELF)) | {root}
        get = _children
    else:
        cmap = _scan_children()
        todo = set(cmap.get(SELF, [])) | {root}
        get = lambda p: cmap.get(p, [])  # noqa: E731
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.update(get(p))
    return seen


def _stat(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    try:
        return {
            "state": rest[0], "ppid": int(rest[1]),
            "cpu": sum(int(x) for x in rest[11:15]),          # utime stime cutime cstime
            "utime": int(rest[11]) + int(rest[13]), "stime": int(rest[12]) + int(rest[14]),
            "threads": int(rest[17]), "rss": int(rest[21]) * PAGE,
        }
    except (IndexError, ValueError):
        return None


def tree_sample(root):
    tot = {"utime": 0, "stime": 0, "rss": 0, "procs": 0, "threads": 0, "pids": set()}
    for p in tree_pids(root):
        st = _stat(p)
        if not st:
            continue
        tot["utime"] += st["utime"]
        tot["stime"] += st["stime"]
        tot["pids"].add(p)
        if st["state"] != "Z":
            tot["rss"] += st["rss"]
            tot["procs"] += 1
            tot["threads"] += st["threads"]
    return tot


def _kb_field(path, field):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(pids):
    hwm = pss = 0
    for p in pids:
        hwm += _kb_field("/proc/%d/status" % p, "VmHWM:")
        pss += _kb_field("/proc/%d/smaps_rollup" % p, "Pss:")
    return hwm, pss


def host_cpu():
    """(busy, steal) jiffies of the whole machine, from /proc/stat: busy is
    user+nice+system+irq+softirq (guest time is already in user); steal is time
    the hypervisor gave this VM's vCPUs to someone else."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    except (OSError, ValueError):
        return None
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7]


def kill_tree(proc, pids, sig):
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass
    for p in set(pids) | {proc.pid}:
        try:
            os.kill(p, sig)
        except OSError:
            pass


def alive(pids):
    n = 0
    for p in pids:
        st = _stat(p)
        if st and st["state"] not in ("Z", "X"):
            n += 1
    return n


# --------------------------------------------------------------------------
# one measured run
# --------------------------------------------------------------------------


class Watchdog(Exception):
    pass


class Interrupted(Exception):
    pass


def _on_alarm(signum, frame):
    raise Watchdog("watchdog: run exceeded its time bound")


def _on_signal(signum, frame):
    raise Interrupted("harness got signal %d" % signum)


WAKE = (None, None)   # self-pipe written on SIGCHLD, so that child exit wakes select()


def _setup_wakeup():
    global WAKE
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    WAKE = (r, w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)


def _drain_wake():
    try:
        while os.read(WAKE[0], 4096):
            pass
    except OSError:
        pass


def _make_ctty():
    # runs in the child after setsid(): make the pty (fd 0) our controlling tty
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def decode_keys(s):
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("utf-8")


def build_env(args):
    env = dict(os.environ)
    for k in ("COLUMNS", "LINES", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
              "TMUX", "STY"):
        env.pop(k, None)
    env["TERM"] = args.term
    if not any(env.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")):
        env["LANG"] = "C.UTF-8"
    for k in args.unset:
        env.pop(k, None)
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


TERMIOS_CHECKS = [
    (0, "ICRNL", termios.ICRNL), (0, "IXON", termios.IXON),
    (1, "OPOST", termios.OPOST),
    (3, "ICANON", termios.ICANON), (3, "ECHO", termios.ECHO),
    (3, "ISIG", termios.ISIG), (3, "IEXTEN", termios.IEXTEN),
]


def termios_diff(a, b):
    diff = []
    for idx, name, bit in TERMIOS_CHECKS:
        if (a[idx] & bit) != (b[idx] & bit):
            diff.append("%s %s" % (name, "on" if b[idx] & bit else "off"))
    return diff


def log(args, msg):
    if args.verbose:
        sys.stderr.write("[tuimeasure] %s\n" % msg)
        sys.stderr.flush()


def run_once(args, cmd, ready_re, sends, quit_key, run_index=0):
    r = {"ok": False, "error": None}
    rawlog = timeline = None
    if args.log:
        suffix = "" if args.repeat + args.warmup == 1 else ".%d" % run_index
        if os.path.dirname(args.log):
            os.makedirs(os.path.dirname(args.log), exist_ok=True)
        rawlog = open(args.log + suffix + ".raw", "wb")
        timeline = open(args.log + suffix + ".timeline", "w")
    bound = (args.ready_timeout + args.settle + args.window + args.quit_timeout
             + 2 * args.kill_grace + 10)
    master = slave = None
    proc = None
    known_pids = set()
    tail = []            # recent visible text, for diagnostics
    tail_len = 0
    stream = TermStream()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(bound) + 1)
    try:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", args.rows, args.cols, 0, 0))
        tio0 = termios.tcgetattr(slave)
        os.set_blocking(master, False)
        env = build_env(args)

        t0 = time.monotonic()
        proc = subprocess.Popen(
            cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=args.cwd,
            start_new_session=True, preexec_fn=_make_ctty, close_fds=True)
        known_pids.add(proc.pid)
        r["pid"] = proc.pid
        log(args, "spawned pid %d: %s" % (proc.pid, " ".join(cmd)))

        total = 0
        chunks = 0
        bursts = 0             # output bursts: reads separated by > BURST_GAP of silence
        last_read = -1e9
        phase = "startup"
        t_first = t_ready = None
        search_buf = ""
        deadline = t0 + args.ready_timeout
        next_sample = t0
        rss_peak = procs_peak = threads_peak = 0
        win = {}
        pending = []           # (abs time, bytes)
        t_quit = None
        quit_method = None
        exited_before_quit = False
        self_cpu0 = None

        def sample(now):
            nonlocal rss_peak, procs_peak, threads_peak
            s = tree_sample(proc.pid)
            known_pids.update(s["pids"])
            rss_peak = max(rss_peak, s["rss"])
            procs_peak = max(procs_peak, s["procs"])
            threads_peak = max(threads_peak, s["threads"])
            return s

        def read_all(now):
            nonlocal total, chunks, bursts, last_read, t_first, t_ready, search_buf, tail_len
            while True:
                try:
                    data = os.read(master, 65536)
                except BlockingIOError:
                    return
                except OSError:
                    return          # EIO: slave side gone
                if not data:
                    return
                if t_first is None:
                    t_first = now
                    r["first_output_ms"] = round((t_first - t0) * 1e3, 1)
                if rawlog is not None:
                    rawlog.write(data)
                if timeline is not None:
                    timeline.write("%.4f %s %d\n" % (now - t0, phase, len(data)))
                total += len(data)
                chunks += 1
                if now - last_read > BURST_GAP:
                    bursts += 1
                last_read = now
                text = stream.feed(data)
                if text:
                    tail.append(text)
                    tail_len += len(text)
                    while tail_len > 8192 and len(tail) > 1:
                        tail_len -= len(tail.pop(0))
                if t_ready is None and text:
                    if ready_re is None:
                        if text.strip():
                            t_ready = now
                    else:
                        search_buf = (search_buf + text)[-65536:]
                        if ready_re.search(search_buf):
                            t_ready = now

        while True:
            now = time.monotonic()
            timeout = max(0.0, min(deadline, next_sample,
                                   pending[0][0] if pending else deadline) - now)
            rl, _, _ = select.select([master, WAKE[0]], [], [], min(timeout, 0.5))
            now = time.monotonic()
            if WAKE[0] in rl:
                _drain_wake()
            if master in rl:
                read_all(now)
            if now >= next_sample:
                sample(now)
                next_sample = now + args.sample
            while pending and pending[0][0] <= now and phase in ("settle", "window"):
                try:
                    os.write(master, pending.pop(0)[1])
                except OSError:
                    pass
            rc = proc.poll()

            if phase == "startup":
                if t_ready is not None:
                    r["ready_ms"] = round((t_ready - t0) * 1e3, 1)
                    r["bytes_startup"] = total
                    phase = "settle"
                    deadline = t_ready + args.settle
                    pending = sorted((t_ready + d, k) for d, k in sends)
                    log(args, "ready after %.0f ms" % ((t_ready - t0) * 1e3))
                    continue
                if rc is not None:
                    raise RuntimeError("exited with status %s before ready" % rc)
                if now >= deadline:
                    raise RuntimeError("ready marker not seen within %.1f s" % args.ready_timeout)
            elif phase == "settle":
                if now >= deadline:
                    s = sample(now)
                    win = {"t": now, "u": s["utime"], "s": s["stime"], "bytes": total,
                           "chunks": chunks, "bursts": bursts}
                    self_cpu0 = resource.getrusage(resource.RUSAGE_SELF)
                    host0 = host_cpu()
                    phase = "window"
                    deadline = now + args.window
                    continue
                if rc is not None:
                    raise RuntimeError("exited with status %s during settle" % rc)
            elif phase == "window":
                if now >= deadline:
                    s = sample(now)
                    dt = now - win["t"]
                    sc = resource.getrusage(resource.RUSAGE_SELF)
                    du = (s["utime"] - win["u"]) / CLK_TCK
                    ds = (s["stime"] - win["s"]) / CLK_TCK
                    r["window_s"] = round(dt, 3)
                    if args.window > 0 and dt > 0:
                        r["cpu_s"] = round(du + ds, 3)
                        r["cpu_pct"] = round(100.0 * (du + ds) / dt, 3)
                        r["cpu_user_pct"] = round(100.0 * du / dt, 3)
                        r["cpu_sys_pct"] = round(100.0 * ds / dt, 3)
                        r["bytes_per_s"] = round((total - win["bytes"]) / dt, 1)
                        r["chunks_per_s"] = round((chunks - win["chunks"]) / dt, 2)
                        r["updates_per_s"] = round((bursts - win["bursts"]) / dt, 2)
                        r["harness_cpu_pct"] = round(100.0 * (
                            sc.ru_utime + sc.ru_stime - self_cpu0.ru_utime
                            - self_cpu0.ru_stime) / dt, 3)
                    host1 = host_cpu()
                    if host0 and host1 and "cpu_pct" in r:
                        # everything else the machine did meanwhile, % of one core
                        busy = (host1[0] - host0[0]) / CLK_TCK
                        r["host_busy_pct"] = round(100.0 * busy / dt, 2)
                        r["host_steal_pct"] = round(100.0 * (host1[1] - host0[1])
                                                    / CLK_TCK / dt, 2)
                        r["host_other_pct"] = round(max(0.0, r["host_busy_pct"]
                                                        - r["cpu_pct"]
                                                        - r["harness_cpu_pct"]), 2)
                    r["window_bytes"] = total - win["bytes"]
                    r["rss_window_end_mb"] = round(s["rss"] / MB, 2)
                    hwm, pss = tree_memory(s["pids"])
                    r["hwm_sum_mb"] = round(hwm / MB, 2)
                    r["pss_mb"] = round(pss / MB, 2) if pss else None
                    phase = "quit"
                    t_quit = now
                    deadline = now + args.quit_timeout
                    if rc is not None:
                        exited_before_quit = True
                        quit_method = "exited_before_quit"
                        break
                    if quit_key:
                        os.write(master, quit_key)
                    log(args, "window done, quitting")
                    continue
                if rc is not None:
                    raise RuntimeError("exited with status %s during the window" % rc)
            elif phase == "quit":
                if rc is not None:
                    quit_method = "key" if quit_key else "exit"
                    break
                if now >= deadline:
                    quit_method = "sigterm"
                    kill_tree(proc, known_pids, signal.SIGTERM)
                    phase = "term"
                    deadline = now + args.kill_grace
            elif phase == "term":
                if rc is not None:
                    break
                if now >= deadline:
                    quit_method = "sigkill"
                    kill_tree(proc, known_pids, signal.SIGKILL)
                    phase = "kill"
                    deadline = now + args.kill_grace
            elif phase == "kill":
                if rc is not None:
                    break
                if now >= deadline:
                    raise RuntimeError("process survived SIGKILL")
            else:
                raise AssertionError(phase)

        t_exit = time.monotonic()
        # drain what the program wrote on its way out
        quiet_until = t_exit + 0.15
        hard_stop = t_exit + 1.0
        while True:
            now = time.monotonic()
            if now >= quiet_until or now >= hard_stop:
                break
            rl, _, _ = select.select([master], [], [], quiet_until - now)
            if master in rl:
                read_all(time.monotonic())
                quiet_until = time.monotonic() + 0.15
        s = tree_sample(proc.pid)
        known_pids.update(s["pids"])
        left = alive(s["pids"] - {proc.pid})
        r["leftover_procs"] = left
        if left:
            kill_tree(proc, known_pids, signal.SIGKILL)

        r["rss_peak_mb"] = round(rss_peak / MB, 2)
        r["procs"] = procs_peak
        r["threads"] = threads_peak
        r["total_bytes"] = total
        r["exit_code"] = proc.returncode
        r["quit_method"] = quit_method
        r["quit_ms"] = None if exited_before_quit else round((t_exit - t_quit) * 1e3, 1)
        r["quit_ok"] = quit_method == "key" and bool(quit_key)
        entered, exited = stream.alt_state()
        tio1 = termios.tcgetattr(slave)
        tdiff = termios_diff(tio0, tio1)
        bad = stream.not_restored()
        r["terminal"] = {
            "alt_screen_entered": entered,
            "alt_screen_exited": exited,
            "modes_not_restored": bad,
            "termios_restored": not tdiff,
            "termios_diff": tdiff,
            "words_after_alt_exit": stream.visible_since_alt_exit if entered and exited else None,
        }
        r["terminal_restored"] = (exited is not False) and not bad and not tdiff
        r["queries"] = stream.queries
        r["ok"] = True
    except Exception as e:          # includes Watchdog and Interrupted
        r["error"] = "%s: %s" % (type(e).__name__, e)
        if isinstance(e, Interrupted):
            r["interrupted"] = True
    finally:
        signal.alarm(0)
        if proc is not None:
            if proc.poll() is None:
                kill_tree(proc, known_pids | tree_pids(proc.pid), signal.SIGKILL)
                try:
                    proc.wait(timeout=args.kill_grace)
                except subprocess.TimeoutExpired:
                    pass
            if r["error"]:
                r["exit_code"] = proc.returncode
        for fh in (rawlog, timeline):
            if fh is not None:
                fh.close()
        for fd in (master, slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        _reap_orphans()
    if r["error"] or args.tail:
        r["output_tail"] = "".join(tail)[-args.tail_chars:]
    return r


def _reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

SUMMARY_FIELDS = [
    "first_output_ms", "ready_ms", "cpu_pct", "cpu_user_pct", "cpu_sys_pct",
    "rss_peak_mb", "rss_window_end_mb", "hwm_sum_mb", "pss_mb", "bytes_per_s",
    "chunks_per_s", "updates_per_s", "bytes_startup", "quit_ms", "harness_cpu_pct",
    "host_busy_pct", "host_other_pct", "host_steal_pct", "procs", "threads", "cpu_s",
]


def summarize(runs):
    ok = [r for r in runs if r.get("ok")]
    out = {"runs_ok": len(ok), "runs": len(runs)}
    for f in SUMMARY_FIELDS:
        vals = [r[f] for r in ok if isinstance(r.get(f), (int, float))]
        if vals:
            out[f] = {"median": round(statistics.median(vals), 3),
                      "min": min(vals), "max": max(vals)}
    for f in ("quit_ok", "terminal_restored"):
        vals = [bool(r.get(f)) for r in ok]
        out[f] = (all(vals) if vals else None)
    return out


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def main(argv=None):
    class Fmt(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
        pass

    p = argparse.ArgumentParser(
        prog="tuimeasure.py", formatter_class=Fmt,
        description=__doc__.split("\n\n", 1)[0].split(" - ", 1)[1],
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--cols", type=int, default=120, help="terminal width")
    p.add_argument("--rows", type=int, default=40, help="terminal height")
    p.add_argument("--term", default="xterm-256color", help="TERM for the program")
    p.add_argument("--ready", metavar="REGEX", default=None,
                   help="regex marking the first paint (default: first visible text)")
    p.add_argument("--ready-timeout", type=float, default=30.0,
                   help="seconds to wait for the ready marker")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds between ready and the start of the window")
    p.add_argument("--window", type=float, default=20.0,
                   help="steady-state window in seconds (0: startup only)")
    p.add_argument("--sample", type=float, default=0.25,
                   help="RSS sampling interval in seconds")
    p.add_argument("--send", metavar="DELAY:KEYS", action="append", default=[],
                   help="send KEYS DELAY s after ready (repeatable)")
    p.add_argument("--quit-key", default="q", help="key(s) to quit; '' = signals only")
    p.add_argument("--quit-timeout", type=float, default=5.0,
                   help="seconds allowed to exit after the quit key")
    p.add_argument("--kill-grace", type=float, default=2.0,
                   help="seconds to wait after SIGTERM and after SIGKILL")
    p.add_argument("--env", metavar="NAME=VALUE", action="append", default=[],
                   help="set a variable for the program (repeatable)")
    p.add_argument("--unset", metavar="NAME", action="append", default=[],
                   help="drop NAME from the inherited environment (repeatable)")
    p.add_argument("--cwd", default=None, help="working directory for the program")
    p.add_argument("--repeat", type=int, default=1, help="recorded runs")
    p.add_argument("--warmup", type=int, default=0, help="unrecorded runs first")
    p.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    p.add_argument("--label", default=None, help="free-form name put in the JSON")
    p.add_argument("--tail", action="store_true",
                   help="always include the last output text (else only on error)")
    p.add_argument("--tail-chars", type=int, default=3000, help="size of output_tail")
    p.add_argument("--log", metavar="PREFIX", default=None,
                   help="write the raw output to PREFIX[.N].raw and a per-read "
                        "timeline (seconds since spawn, phase, bytes) to PREFIX[.N].timeline")
    p.add_argument("--compact", action="store_true", help="one-line JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = p.parse_args(argv)

    cmd = args.command
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        p.error("no command given (put it after --)")
    if args.cols < 2 or args.rows < 2 or args.repeat < 1 or args.window < 0:
        p.error("bad --cols/--rows/--repeat/--window")
    try:
        ready_re = re.compile(args.ready) if args.ready else None
    except re.error as e:
        p.error("bad --ready regex: %s" % e)
    sends = []
    for s in args.send:
        d, sep, k = s.partition(":")
        try:
            sends.append((float(d), decode_keys(k)))
        except ValueError:
            p.error("bad --send %r (want DELAY:KEYS)" % s)
        if not sep:
            p.error("bad --send %r (want DELAY:KEYS)" % s)
    if sends and max(d for d, _ in sends) > args.settle + args.window:
        p.error("--send delay beyond settle+window; it would never be sent")
    quit_key = decode_keys(args.quit_key) if args.quit_key else b""

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    _setup_wakeup()
    try:  # keep double-forked descendants in our tree
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass

    result = {
        "tool": "tuimeasure", "version": VERSION, "label": args.label, "command": cmd,
        "cols": args.cols, "rows": args.rows, "term": args.term, "ready_regex": args.ready,
        "settle_s": args.settle, "window_s": args.window, "repeat": args.repeat,
        "warmup": args.warmup, "quit_key": args.quit_key,
        "host": {"cpus": os.cpu_count(), "clk_tck": CLK_TCK, "loadavg_start": loadavg(),
                 "python": sys.version.split()[0]},
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    env = build_env(args)
    # variables that change how an interpreter behaves, so that results are comparable
    result["env_runtime_vars"] = {k: v for k, v in sorted(env.items())
                                  if k.startswith(("PYTHON", "NODE_", "LD_", "MALLOC"))
                                  or k in ("TERM", "LANG", "LC_ALL", "LC_CTYPE", "NO_COLOR",
                                           "COLORTERM")}
    runs = []
    interrupted = False
    for i in range(args.warmup + args.repeat):
        if i:
            try:
                time.sleep(args.pause)
            except Interrupted:
                interrupted = True
                break
        r = run_once(args, cmd, ready_re, sends, quit_key, i)
        log(args, "run %d: %s" % (i, "ok" if r["ok"] else r["error"]))
        if i >= args.warmup:
            runs.append(r)
        if r.get("interrupted"):
            interrupted = True
            break
    result["host"]["loadavg_end"] = loadavg()
    result["runs"] = runs
    result["summary"] = summarize(runs)
    result["ok"] = bool(runs) and all(r["ok"] for r in runs) and not interrupted
    json.dump(result, sys.stdout, indent=None if args.compact else 2)
    sys.stdout.write("\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
