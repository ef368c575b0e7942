#!/usr/bin/env python3
"""The HTML report as a person sees it.

Runs real studies with `sysopt tune` (a shell-script objective that sometimes fails), a real
memory sweep and plan with `sysopt remat`, writes reports with `sysopt report`, and renders them
in headless Chromium. It checks, against figures taken from `sysopt export` / `sysopt best` and
the sweep's own JSON (never from the report code):

  * the plot elements, counted through the DOM: one circle per trial (failures marked), one
    importance bar per parameter, one parallel-coordinates line per complete trial, one Pareto
    point per complete trial with the front highlighted, one line per solver plus the bound;
  * that no script error happens (a window.onerror hook written into the DOM, and Chromium's
    console log), and that the page's own script works (sorting a table by a click);
  * that nothing is fetched (no src or href attributes);
  * the screenshot: a PNG of the requested size, decoded here, not one colour, with the plot
    colours on it.

Usage: browser_test.py --sysopt BIN --chromium BIN --source DIR [--screenshot-out PNG]
"""

import argparse
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

OBJECTIVE = r"""#!/bin/sh
# x in 0..20, y in [0.01, 1] (log), mode fast|slow|broken; broken fails for large x.
if [ "$3" = broken ] && [ "$1" -gt 10 ]; then
  echo "kernel crashed: <x=$1> & \"bad\"" >&2
  exit 3
fi
awk -v x="$1" -v y="$2" -v m="$3" 'BEGIN {
  t = (x - 7) ^ 2 / 10 + 3 * y + (m == "slow" ? 2 : 0) + 1
  if (ENVIRON["TWO"] == "1") printf "{\"time\": %.6f, \"energy\": %.6f}\n", t, 30 / t + x / 4
  else print t
}'
"""


def spec(name, objectives, env_two):
    command = ["sh", "obj.sh", "{x}", "{y}", "{mode}"]
    run = {"command": command}
    if env_two:
        run["command"] = ["env", "TWO=1"] + command
    return {
        "name": name,
        "parameters": [
            {"name": "x", "type": "integer", "low": 0, "high": 20},
            {"name": "y", "type": "real", "low": 0.01, "high": 1.0, "log": True},
            {"name": "mode", "type": "categorical", "values": ["fast", "slow", "broken"]},
        ],
        "objectives": [{"name": o, "goal": "minimize"} for o in objectives],
        "run": run,
    }


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(cmd, cwd, timeout=120):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"{shlex.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


# ------------------------------------------------------------------------------------------
# Chromium.

HEAD_HOOK = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
</script>"""

PROBE = """<script>(function () {
  var selectors = %s;
  var out = {counts: {}, errors: window.__errors};
  selectors.forEach(function (s) { out.counts[s] = document.querySelectorAll(s).length; });
  var table = document.querySelector('table.top-configs');
  if (table) {
    var trials = function () {
      return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
        return parseInt(r.cells[1].textContent.replace('#', ''), 10); });
    };
    out.trial_order_before = trials();
    table.tHead.rows[0].cells[1].click();
    out.trial_order_after = trials();
  }
  var pre = document.createElement('pre');
  pre.id = 'sysopt-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();</script>"""


def chromium_flags(chromium, profile):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]


def probe(chromium, page, selectors, work):
    """Loads `page` with an error hook and a counting script added; returns what they saw."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    check("<head>" in text and "</body>" in text, f"{page}: no <head> or </body>")
    text = text.replace("<head>", "<head>\n" + HEAD_HOOK, 1)
    text = text.replace("</body>", PROBE % json.dumps(selectors) + "\n</body>", 1)
    probed = os.path.join(work, "probed-" + os.path.basename(page))
    with open(probed, "w", encoding="utf-8") as f:
        f.write(text)
    p = subprocess.run(chromium_flags(chromium, os.path.join(work, "profile")) +
                       ["--dump-dom", "file://" + probed],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"chromium --dump-dom exited {p.returncode}\n{p.stderr[-3000:]}")
    m = re.search(r'<pre id="sysopt-probe">(.*?)</pre>', p.stdout, re.S)
    check(m is not None, "the probe did not run: no result in the DOM\n" + p.stdout[-2000:])
    result = json.loads(m.group(1).replace("&quot;", '"').replace("&lt;", "<")
                        .replace("&gt;", ">").replace("&amp;", "&"))
    result["console"] = [line for line in p.stderr.splitlines()
                         if "CONSOLE" in line or "Uncaught" in line]
    return result


def screenshot(chromium, page, png, width, height, work):
    p = subprocess.run(chromium_flags(chromium, os.path.join(work, "profile")) +
                       [f"--screenshot={png}", f"--window-size={width},{height}",
                        "--force-device-scale-factor=1", "file://" + page],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and os.path.exists(png),
          f"chromium --screenshot exited {p.returncode}\n{p.stderr[-3000:]}")


def decode_png(path):
    """Width, height and RGB pixel rows of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG")
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, color = header[:4]
    check(depth == 8 and color in (2, 6), f"{path}: unexpected PNG format {depth}/{color}")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    pixels = [[tuple(r[i:i + 3]) for i in range(0, stride, channels)] for r in rows]
    return width, height, pixels


def check_screenshot(png, width, height):
    w, h, pixels = decode_png(png)
    check((w, h) == (width, height), f"{png}: {w}x{h}, asked for {width}x{height}")
    colours = {}
    for row in pixels[::2]:
        for p in row[::2]:
            colours[p] = colours.get(p, 0) + 1
    total = sum(colours.values())
    background = max(colours.values())
    check(len(colours) > 50, f"{png}: only {len(colours)} colours: a blank page?")
    check(background < 0.97 * total, f"{png}: {background / total:.1%} of it is one colour")
    # The trial dots' blue (#4e79a7), blended or not, appears where the plots are drawn.
    blue = sum(n for (r, g, b), n in colours.items()
               if abs(r - 0x4e) < 40 and abs(g - 0x79) < 40 and abs(b - 0xa7) < 40 and b > r + 40)
    check(blue > 50, f"{png}: no plot colour on the page ({blue} blue pixels)")
    return len(colours), background / total


# ------------------------------------------------------------------------------------------


def check_bad_input(sysopt, work, db, graph):
    """Bad input: exit 2 with a message naming the file, field or value; nothing written."""
    with open(os.path.join(work, "bad-sweep.json"), "w") as f:
        json.dump({"graph": "g", "sweep": [{"fraction": 0.5, "budget_bytes": 10,
                                            "keep_all_cost": "ten", "lower_bound": 1,
                                            "plans": []}]}, f)
    cases = [
        (["--storage", "missing.db"], 2, "missing.db"),
        (["--storage", db, "--study", "no-such-study"], 2, "no-such-study"),
        (["--graph", graph], 2, "--schedule"),
        (["--sweep", "bad-sweep.json"], 2, "bad-sweep.json: sweep[0].keep_all_cost"),
        (["--sweep", "nothing-here.json"], 2, "nothing-here.json"),
        (["--storage", db, "--study", "pareto", "--out", os.path.join(work, "no", "dir.html")],
         1, "cannot write"),
    ]
    for extra, code, needle in cases:
        out = [] if "--out" in extra else ["--out", "bad.html"]
        p = subprocess.run([sysopt, "report"] + extra + out, cwd=work, capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == code and needle in p.stderr,
              f"sysopt report {shlex.join(extra)}: exit {p.returncode} (expected {code}), "
              f"stderr {p.stderr!r} should name {needle!r}")
        check(not os.path.exists(os.path.join(work, "bad.html")), "a failed report left a file")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sysopt", required=True)
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--screenshot-out", help="also keep page A's screenshot here (for docs/)")
    ap.add_argument("--keep", help="keep the work folder here")
    args = ap.parse_args()
    chromium = shutil.which(args.chromium)
    check(chromium is not None,
          f"'{args.chromium}' not found: the report test needs Chromium (scripts/setup.sh "
          "installs the Debian package 'chromium')")
    sysopt = os.path.abspath(args.sysopt)
    work = args.keep or tempfile.mkdtemp(prefix="sysopt-report-")
    os.makedirs(work, exist_ok=True)
    start = time.time()
    try:
        with open(os.path.join(work, "obj.sh"), "w") as f:
            f.write(OBJECTIVE)
        for name, objectives, two in (("one", ["time"], False), ("two", ["time", "energy"], True)):
            with open(os.path.join(work, name + ".json"), "w") as f:
                json.dump(spec(name, objectives, two), f)
        db = "studies.db"
        tune = run([sysopt, "tune", "one.json", "--budget", "30", "--storage", db, "--study",
                    "random-30", "--sampler", "random", "--seed", "3", "--quiet"], work)
        run([sysopt, "tune", "one.json", "--budget", "30", "--storage", db, "--study", "auto-30",
             "--sampler", "auto", "--seed", "3", "--quiet"], work)
        run([sysopt, "tune", "two.json", "--budget", "24", "--storage", db, "--study", "pareto",
             "--sampler", "random", "--seed", "5", "--quiet"], work)

        # The hint tune ends with is a command that works as printed.
        hint = tune.stdout.strip().splitlines()[-1]
        check(hint == f"Report: sysopt report --storage {db} --study random-30 --out report.html",
              f"tune's last line is not the report hint: {hint!r}")
        hinted = shlex.split(hint[len("Report: "):])
        run([sysopt] + hinted[1:], work)
        check(os.path.getsize(os.path.join(work, "report.html")) > 1000, "hinted report empty")

        graph = os.path.join(os.path.abspath(args.source), "data", "graphs",
                             "synthetic_chain16.json")
        sweep = run([sysopt, "remat", "sweep", graph, "--solver",
                     "keep-all,sqrtn-linear,greedy-linear,checkpoint-search,lp-bound",
                     "--fractions", "0.4,0.6,0.8,1.0", "--time-limit", "1", "--json", "--quiet"],
                    work)
        with open(os.path.join(work, "sweep.json"), "w") as f:
            f.write(sweep.stdout)
        sweep_json = json.loads(sweep.stdout)
        run([sysopt, "remat", "plan", graph, "--budget", "50%", "--solver",
             "greedy-linear,checkpoint-search", "--out", "plan.json", "--quiet"], work)

        check_bad_input(sysopt, work, db, graph)

        # Page A: two studies compared, and a memory plan.
        run([sysopt, "report", "--storage", db, "--study", "auto-30", "--study", "random-30",
             "--sweep", "sweep.json", "--graph", graph, "--schedule", "plan.json", "--budget",
             "50%", "--out", "a.html"], work)
        # Page B: two objectives.
        run([sysopt, "report", "--storage", db, "--study", "pareto", "--out", "b.html"], work)
        for page in ("a.html", "b.html"):
            with open(os.path.join(work, page), encoding="utf-8") as f:
                html = f.read()
            check(not re.search(r"\s(src|href)\s*=", html), f"{page} links to something")
            check("<x=" not in html, f"{page}: the stderr of failed trials is not escaped")
            if page == "a.html":
                check("kernel crashed: &lt;x=" in html, "a.html: no stderr of failed trials")

        def exported(study):
            p = run([sysopt, "export", "--storage", db, "--study", study, "--format", "json"],
                    work)
            trials = json.loads(p.stdout)["trials"]
            complete = [t for t in trials if t["state"] == "COMPLETE"]
            distinct = {json.dumps(t["config"], sort_keys=True) for t in complete}
            return len(trials), len(complete), len(distinct)

        selectors = []
        expected = {}
        for index, study in enumerate(("auto-30", "random-30")):
            total, complete, distinct = exported(study)
            check(total - complete > 0, f"{study}: the objective should have failed sometimes")
            s = f"#study-{index} "
            expected.update({
                s + "circle.trial": total,
                s + "circle.trial.failed": total - complete,
                s + "circle.trial.complete": complete,
                s + "polyline.best-so-far": 1,
                s + "rect.importance-bar": 3,
                s + "polyline.pc-line:not(.top)": complete,
                s + "polyline.pc-line.top": min(10, distinct),
                s + "table.top-configs tbody tr": min(10, distinct),
            })
        expected.update({
            ".comparison polyline.study-line": 2,
            # One line per solver with a plan at some budget (lp-bound gives only bounds).
            "svg.sweep polyline.solver-line": len({p["solver"] for b in sweep_json["sweep"]
                                                   for p in b["plans"] if p["feasible"]}),
            "svg.sweep polyline.bound-line": 1,
            "svg.memory-profile polyline.profile-line": 1,
            "svg.memory-profile polyline.keep-all-line": 1,
            "svg.memory-profile polyline.budget-line": 1,
            "svg": 1 + 2 * 3 + 2,
        })
        selectors = list(expected)
        seen = probe(chromium, os.path.join(work, "a.html"), selectors, work)
        check(not seen["errors"], f"a.html: script errors {seen['errors']}")
        check(not seen["console"], f"a.html: console messages {seen['console']}")
        for sel, n in expected.items():
            check(seen["counts"][sel] == n, f"a.html: {sel}: {seen['counts'][sel]}, expected {n}")
        check(seen["trial_order_after"] == sorted(seen["trial_order_before"]),
              f"sorting by trial did not sort: {seen['trial_order_after']}")

        total, complete, _ = exported("pareto")
        front = len(json.loads(run([sysopt, "best", "--storage", db, "--study", "pareto",
                                    "--json"], work).stdout)["pareto_front"])
        expected_b = {
            "circle.trial": total,
            "circle.pareto-point": complete,
            "circle.pareto-point.front": front,
            "table.top-configs tbody tr": front,
        }
        seen = probe(chromium, os.path.join(work, "b.html"), list(expected_b), work)
        check(not seen["errors"] and not seen["console"],
              f"b.html: errors {seen['errors']} {seen['console']}")
        for sel, n in expected_b.items():
            check(seen["counts"][sel] == n, f"b.html: {sel}: {seen['counts'][sel]}, expected {n}")

        # The error checks themselves catch an error.
        with open(os.path.join(work, "broken.html"), "w") as f:
            f.write("<!DOCTYPE html><html><head></head><body><p>x</p>"
                    "<script>undefinedFunction();</script></body></html>")
        seen = probe(chromium, os.path.join(work, "broken.html"), [], work)
        check(seen["errors"] and seen["console"],
              f"a deliberate script error went unnoticed: {seen}")

        png = os.path.join(work, "a.png")
        screenshot(chromium, os.path.join(work, "a.html"), png, 960, 1500, work)
        colours, background = check_screenshot(png, 960, 1500)
        if args.screenshot_out:
            shutil.copyfile(png, args.screenshot_out)
        print(f"report browser test passed in {time.time() - start:.1f} s: "
              f"{len(expected) + len(expected_b)} element counts, screenshot {colours} colours, "
              f"{background:.0%} background")
        return 0
    except Failure as e:
        print(f"FAILED: {e}\n(work folder: {work})", file=sys.stderr)
        return 1
    finally:
        if not args.keep and not os.environ.get("SYSOPT_KEEP_TEST_FILES"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
