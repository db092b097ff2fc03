#!/usr/bin/env python3
"""Parsing and arithmetic for tests/bench/run.sh (`make bench`).

run.sh drives the processes; this file turns what they leave behind into numbers:

  bench.py sipp STAT_CSV COUNTS_CSV RATE      one raw SIP load step (sipp -trace_stat/-trace_counts)
  bench.py wrk FILE                           wrk --latency output
  bench.py pace FILE                          the key=value line of tests/bench/pace
  bench.py db DB AFTER_SEQ START_MS END_MS    the gateway's store after a run
  bench.py result STEP REP wrk|pace LOAD_FILE DB AFTER_SEQ START_MS END_MS CPU_LOAD CPU_ALL
           RSS_MB READY_S                     one gateway run: the above, combined
  bench.py report RESULTS OUTDIR              the table, results.csv and results.json

Each but the last prints one JSON object. RESULTS is a file of JSON lines, one per
measurement, {"step": ..., "rep": N, ...} (run.sh appends them), plus one {"step": "machine"}.
"""
import csv
import json
import math
import os
import re
import sqlite3
import statistics
import sys


def percentile(values, q):
    """Nearest-rank percentile of a list (0 for an empty list)."""
    if not values:
        return 0.0
    s = sorted(values)
    rank = max(1, math.ceil(q * len(s)))
    return float(s[rank - 1])


def sipp_time(field):
    """sipp writes times as 'date<TAB>time<TAB>epoch.micro'; returns the epoch seconds."""
    return float(field.split("\t")[-1])


def cmd_sipp(stat_csv, counts_csv, rate):
    with open(stat_csv, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    head, last = rows[0], rows[-1]
    stat = dict(zip(head, last))
    with open(counts_csv, newline="") as f:
        crows = list(csv.reader(f, delimiter=";"))
    counts = dict(zip(crows[0], crows[-1]))

    def total(suffix):
        return sum(int(v or 0) for k, v in counts.items() if k.endswith(suffix))

    ok = int(stat.get("SuccessfulCall(C)", 0))
    failed = int(stat.get("FailedCall(C)", 0))
    created = int(stat.get("OutgoingCall(C)", 0))
    span = sipp_time(stat["CurrentTime"]) - sipp_time(stat["StartTime"])
    achieved = ok / span if span > 0 else 0.0
    out = {
        "target": int(rate), "calls": created, "ok": ok, "failed": failed,
        "retrans": total("_Retrans"), "timeouts": total("_Timeout"),
        "unexpected": total("_Unexp"), "span_s": round(span, 3), "achieved": round(achieved, 1),
    }
    out["clean"] = (failed == 0 and out["timeouts"] == 0 and out["unexpected"] == 0
                    and ok == created and achieved >= 0.95 * int(rate))
    return out


def ms(value, unit):
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
    return float(value) * scale[unit]


def cmd_wrk(path):
    text = open(path).read()
    out = {"requests": 0, "elapsed_s": 0.0, "non2xx": 0, "socket_errors": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", text)
    if m:
        out["requests"] = int(m.group(1))
        out["elapsed_s"] = ms(m.group(2), m.group(3)) / 1000.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(x) for x in m.groups())
    for q in ("50", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$" % q, text, re.M)
        out["p%s_ms" % q] = round(ms(m.group(1), m.group(2)), 3) if m else None
    ok = out["requests"] - out["non2xx"]
    out["accepted"] = ok
    out["accepted_per_s"] = round(ok / out["elapsed_s"], 1) if out["elapsed_s"] else 0.0
    return out


def cmd_pace(path):
    out = {}
    for line in open(path):
        if line.startswith("requests="):
            for item in line.split():
                key, _, value = item.partition("=")
                out[key] = float(value) if "." in value else int(value)
    return out


def cmd_db(path, after_seq, start_ms, end_ms):
    after_seq, start_ms, end_ms = int(after_seq), int(start_ms), int(end_ms)
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    cur = con.cursor()
    by_status = dict(cur.execute(
        "SELECT status, count(*) FROM messages WHERE seq > ? GROUP BY status", (after_seq,)))
    # status 2 is "sent" (gateway/status.h); updated_at is set when the operator's 200 came.
    rows = cur.execute("SELECT created_at, updated_at, attempts FROM messages"
                       " WHERE seq > ? AND status = 2", (after_seq,)).fetchall()
    lat = [u - c for c, u, _ in rows]
    retried = cur.execute("SELECT count(*) FROM messages WHERE seq > ? AND attempts > 1",
                          (after_seq,)).fetchone()[0]
    con.close()
    window_s = max(0.001, (end_ms - start_ms) / 1000.0)
    in_window = sum(1 for _, u, _ in rows if start_ms <= u <= end_ms)
    # The backlog left when the load stopped, sent with no HTTP work going on. Retried messages
    # wait for their retry timer, so they would measure the timer, not the sending.
    after = [u for _, u, a in rows if u > end_ms and a == 1]
    last = max(after, default=end_ms)
    drain_s = (last - end_ms) / 1000.0
    per_s = {}
    for _, u, _ in rows:
        k = (u - start_ms) // 1000
        per_s[k] = per_s.get(k, 0) + 1
    return {
        "stored": sum(by_status.values()), "sent": len(rows),
        "by_status": {str(k): v for k, v in sorted(by_status.items())},
        "retried": retried, "sent_in_window": in_window,
        "sent_per_s": round(in_window / window_s, 1),
        "drain_s": round(drain_s, 3),
        "drain_per_s": round(len(after) / drain_s, 1) if drain_s > 0.5 else None,
        "post_sent_p50_ms": percentile(lat, 0.50), "post_sent_p90_ms": percentile(lat, 0.90),
        "post_sent_p99_ms": percentile(lat, 0.99), "post_sent_max_ms": percentile(lat, 1.0),
        "sent_timeline": [per_s[k] for k in sorted(per_s) if k >= 0],
    }


def cmd_result(step, rep, kind, load_file, db, after_seq, start_ms, end_ms, cpu_load, cpu_all,
               rss_mb, ready_s):
    """One gateway run as a result line; a one-line summary goes to stderr."""
    load = cmd_wrk(load_file) if kind == "wrk" else cmd_pace(load_file)
    d = cmd_db(db, after_seq, start_ms, end_ms)
    cpu_load, cpu_all = json.loads(cpu_load), json.loads(cpu_all)
    unsent = d["stored"] - d["sent"]
    bad = (load.get("errors", 0) + load.get("unanswered", 0) + load.get("sother", 0)
           + load.get("s503", 0) + load.get("non2xx", 0) + unsent)
    r = {"step": step, "rep": int(rep), kind: load, "db": d, "rss_mb": float(rss_mb),
         "ready_s": float(ready_s), "after_seq": int(after_seq),
         "cpu_per_1k": round(cpu_all["gw_s"] / d["sent"] * 1000, 4) if d["sent"] else None,
         "bad": bad, "cpu_load": cpu_load, "cpu_all": cpu_all}
    accepted = load.get("accepted_per_s", load.get("s202"))
    sys.stderr.write("bench: %s %s: accepted %s, sent %s/s, accept p99 %s ms, POST->sent "
                     "p50/p99 %s/%s ms, unsent %d, RSS %s MB, CPU %s s per 1k messages\n"
                     % (step, rep, accepted, d["sent_per_s"], load.get("p99_ms"),
                        d["post_sent_p50_ms"], d["post_sent_p99_ms"], unsent, rss_mb,
                        r["cpu_per_1k"]))
    return r


# ---- report -------------------------------------------------------------------------------

# (key, label, format, step, path in a result, target text, target test or None).
# Formats: rate (per second), ms, s (seconds), mb, pct, int, x (a ratio).
METRICS = [
    ("raw_sip_per_s", "highest clean MESSAGE rate (/s)", "rate", "baseline", "clean_rate", "",
     None),
    ("raw_busy", "machine busy at that rate (%)", "pct", "baseline", "best.cpu.machine_busy_pct",
     "", None),
    ("raw_op_cpu", "operator CPU at that rate (% of a core)", "pct", "baseline",
     "best.op_core_pct", "", None),
    ("max_accepted_per_s", "accepted (202) (/s)", "rate", "max", "wrk.accepted_per_s", "", None),
    ("max_sent_per_s", "sent during the load (/s)", "rate", "max", "db.sent_per_s", ">= 6000",
     lambda v: v >= 6000),
    ("ratio", "ratio smsgw sent/s : raw SIP/s", "x", None, None, "", None),
    ("max_drain_per_s", "sent after the load, no HTTP (/s)", "rate", "max", "db.drain_per_s", "",
     None),
    ("max_accept_p50", "accept latency p50 (ms)", "ms", "max", "wrk.p50_ms", "", None),
    ("max_accept_p99", "accept latency p99 (ms)", "ms", "max", "wrk.p99_ms", "", None),
    ("max_sent_p50", "POST->sent p50 (ms)", "ms", "max", "db.post_sent_p50_ms", "", None),
    ("max_sent_p99", "POST->sent p99 (ms)", "ms", "max", "db.post_sent_p99_ms", "", None),
    ("max_non2xx", "answers other than 202", "int", "max", "wrk.non2xx", "", None),
    ("max_retried", "messages retried (408 from the operator)", "int", "max", "db.retried", "",
     None),
    ("max_udp_drops", "UDP datagrams dropped, whole machine", "int", "max",
     "cpu_load.udp_rcvbuf_errors", "", None),
    ("max_hs_drops", "  of which at the handset's socket", "int", "max",
     "cpu_load.handset_udp_drops", "", None),
    ("max_op_drops", "  of which at the operator's socket", "int", "max",
     "cpu_load.op_udp_drops", "", None),
    ("max_gw_cpu", "smsgw CPU during the load (% of a core)", "pct", "max", "gw_core_pct", "",
     None),
    ("max_op_cpu", "operator CPU during the load (% of a core)", "pct", "max", "op_core_pct", "",
     None),
    ("max_busy", "machine busy during the load (%)", "pct", "max", "cpu_load.machine_busy_pct",
     "", None),
    ("max_cpu", "smsgw CPU per 1,000 messages (s)", "s", "max", "cpu_per_1k", "", None),
    ("max_rss", "smsgw peak RSS (MB)", "mb", "max", "rss_mb", "", None),
    ("fixed_rate", "achieved request rate (/s)", "rate", "fixed", "pace.rate", "", None),
    ("fixed_accept_p50", "accept latency p50 (ms)", "ms", "fixed", "pace.p50_ms", "", None),
    ("fixed_accept_p99", "accept latency p99 (ms)", "ms", "fixed", "pace.p99_ms", "< 10",
     lambda v: v < 10),
    ("fixed_sent_p50", "POST->sent p50 (ms)", "ms", "fixed", "db.post_sent_p50_ms", "", None),
    ("fixed_sent_p99", "POST->sent p99 (ms)", "ms", "fixed", "db.post_sent_p99_ms", "< 50",
     lambda v: v < 50),
    ("fixed_rss", "peak RSS, VmHWM (MB)", "mb", "fixed", "rss_mb", "< 64", lambda v: v < 64),
    ("fixed_cpu", "smsgw CPU per 1,000 messages (s)", "s", "fixed", "cpu_per_1k", "", None),
    ("fixed_busy", "machine busy (%)", "pct", "fixed", "cpu_load.machine_busy_pct", "", None),
    ("fixed_errors", "errors, non-202 answers, unsent", "int", "fixed", "bad", "0",
     lambda v: v == 0),
    ("s10k_cpu", "10k rows: CPU per 1,000 messages (s)", "s", "stored_10k", "cpu_per_1k", "",
     None),
    ("s10k_accept_p99", "10k rows: accept p99 (ms)", "ms", "stored_10k", "pace.p99_ms", "",
     None),
    ("s10k_sent_p99", "10k rows: POST->sent p99 (ms)", "ms", "stored_10k",
     "db.post_sent_p99_ms", "", None),
    ("s10k_ready", "10k rows: start to ready (s)", "s", "stored_10k", "ready_s", "", None),
    ("s1m_cpu", "1M rows: CPU per 1,000 messages (s)", "s", "stored_1m", "cpu_per_1k", "", None),
    ("s1m_accept_p99", "1M rows: accept p99 (ms)", "ms", "stored_1m", "pace.p99_ms", "", None),
    ("s1m_sent_p99", "1M rows: POST->sent p99 (ms)", "ms", "stored_1m", "db.post_sent_p99_ms",
     "", None),
    ("s1m_ready", "1M rows: start to ready (s)", "s", "stored_1m", "ready_s", "", None),
    ("s1m_rss", "1M rows: peak RSS (MB)", "mb", "stored_1m", "rss_mb", "", None),
    ("cost_ratio", "CPU per message, 1M rows : 10k rows", "x", None, None, "<= 1.20",
     lambda v: v <= 1.2),
]

SECTIONS = {
    "raw_sip_per_s": "raw SIP baseline: sipp UAC as the gateway's account, 407 answered",
    "max_accepted_per_s": "smsgw at full load: wrk, closed loop",
    "fixed_rate": "smsgw at a fixed rate: tests/bench/pace, open loop",
    "s10k_cpu": "smsgw with stored data: fixed rate, store pre-filled with sent messages",
}


def dig(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj or obj[part] is None:
            return None
        obj = obj[part]
    return obj


def summarize(values):
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals), "values": vals}


def fmt(v, kind):
    if v is None:
        return "-"
    if kind in ("rate", "int", "pct"):
        return "{:,.0f}".format(v)
    if kind == "x":
        return "{:.2f}".format(v)
    if kind == "s":
        return "{:.3f}".format(v) if v < 10 else "{:.1f}".format(v)
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    return "{:.1f}".format(v) if abs(v) >= 10 else "{:.2f}".format(v)


def ratio_by_rep(by_step, step_a, path_a, step_b, path_b):
    """a / b for each repetition that has both (measured back to back, so under the same
    conditions), summarized over the repetitions."""
    b_of = {r.get("rep"): dig(r, path_b) for r in by_step.get(step_b, [])}
    values = []
    for r in by_step.get(step_a, []):
        a, b = dig(r, path_a), b_of.get(r.get("rep"))
        if a is not None and b:
            values.append(float(a) / float(b))
    return summarize(values)


def derive(r):
    """Adds per-result figures the table shows: CPU as a share of one core."""
    secs = None
    for key in ("wrk", "pace"):
        if key in r:
            secs = r[key].get("elapsed_s") or (r[key].get("requests", 0) / r[key]["rate"]
                                               if r[key].get("rate") else None)
    if secs and "cpu_load" in r:
        r["gw_core_pct"] = 100 * r["cpu_load"]["gw_s"] / secs
        r["op_core_pct"] = 100 * r["cpu_load"]["op_s"] / secs
    best = r.get("best")
    if best and best.get("span_s") and "cpu" in best:
        best["op_core_pct"] = 100 * best["cpu"]["op_s"] / best["span_s"]


def build_summary(results):
    by_step = {}
    for r in results:
        derive(r)
        by_step.setdefault(r.get("step"), []).append(r)
    summary = {}
    for key, _, _, step, path, _, _ in METRICS:
        if step is not None:
            summary[key] = summarize([dig(r, path) for r in by_step.get(step, [])])
    summary["ratio"] = ratio_by_rep(by_step, "max", "db.sent_per_s", "baseline", "clean_rate")
    summary["cost_ratio"] = ratio_by_rep(by_step, "stored_1m", "cpu_per_1k", "stored_10k",
                                         "cpu_per_1k")
    return summary


def table(summary, machine, results):
    reps = max((r.get("rep", 0) for r in results), default=0)
    lines = [
        "smsgw benchmark, %s: smsgw %s" % (machine.get("when", ""), machine.get("smsgw")),
        "machine: %s cores (%s), Linux %s, %s MB RAM; before the run: load average %s, "
        "%s%% busy" % (machine.get("cores"), machine.get("cpu"), machine.get("kernel"),
                       machine.get("mem_mb"), machine.get("loadavg"),
                       machine.get("busy_before_pct")),
        "operator: %s (digest on every MESSAGE, %s MB shm) relaying to a sipp %s handset; "
        "wrk %s; all on 127.0.0.1, UDP" % (machine.get("kamailio"), machine.get("op_shm_mb"),
                                            machine.get("sipp"), machine.get("wrk")),
        "every figure: median [min .. max] of %d runs" % reps,
        "",
    ]
    w = 48
    lines.append("%-*s %10s  %-22s %-8s %s" % (w, "", "median", "range", "target", "met"))
    for key, label, kind, _, _, target, test in METRICS:
        if key in SECTIONS:
            lines.append(SECTIONS[key])
        s = summary.get(key)
        if not s:
            lines.append("  %-*s %10s" % (w - 2, label, "-"))
            continue
        rng = "[%s .. %s]" % (fmt(s["min"], kind), fmt(s["max"], kind))
        met = ("yes" if test(s["median"]) else "NO") if test else ""
        lines.append("  %-*s %10s  %-22s %-8s %s" % (w - 2, label, fmt(s["median"], kind), rng,
                                                     target, met))
    skipped = [r.get("what") for r in results if r.get("step") == "skipped"]
    errors = ["%s %s: %s" % (r.get("step"), r.get("rep"), r["error"]) for r in results
              if r.get("error")]
    if skipped:
        lines.append("skipped (time budget): " + ", ".join(skipped))
    if errors:
        lines.append("errors: " + "; ".join(errors))
    return "\n".join(lines) + "\n"


def cmd_report(results_path, outdir):
    results, machine = [], {}
    for line in open(results_path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("step") == "machine":
            machine = r
        elif r.get("step") == "idle":
            machine["busy_before_pct"] = r.get("machine_busy_pct")
        else:
            results.append(r)
    summary = build_summary(results)
    text = table(summary, machine, results)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["metric", "label", "median", "min", "max", "n", "values", "target", "met"])
        for key, label, _, _, _, target, test in METRICS:
            s = summary.get(key)
            if not s:
                wr.writerow([key, label, "", "", "", 0, "", target, ""])
                continue
            met = ("yes" if test(s["median"]) else "no") if test else ""
            wr.writerow([key, label, round(s["median"], 4), round(s["min"], 4),
                         round(s["max"], 4), s["n"], " ".join(str(v) for v in s["values"]),
                         target, met])
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"machine": machine, "summary": summary, "runs": results}, f, indent=1)
    sys.stdout.write(text)


def main(argv):
    cmds = {"sipp": (cmd_sipp, 3), "wrk": (cmd_wrk, 1), "pace": (cmd_pace, 1), "db": (cmd_db, 4),
            "result": (cmd_result, 12)}
    if len(argv) >= 2 and argv[1] == "report" and len(argv) == 4:
        cmd_report(argv[2], argv[3])
        return 0
    if len(argv) < 2 or argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    fn, _ = cmds[argv[1]]
    print(json.dumps(fn(*argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
