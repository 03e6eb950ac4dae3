#!/usr/bin/env bash
# report_test.sh DIR DPTRAIN DATA MPIEXEC...: dptrain report as users run it, checked in a real
# browser. Trains two tiny runs with --metrics on DATA (3 epochs on 1 rank and on 2 ranks, batches
# of 8), scores the first one's checkpoint with `eval --json`, writes the report of both with the
# evaluation, and opens it in headless Chromium (Debian's `chromium`, launch/install-deps.sh):
#   - the page loads with no console message at all (it has no script, so any message is an
#     error: a blocked load, a policy violation), and it makes no network request;
#   - its screenshot is not blank: enough non-white pixels, and each run's colour drawn;
#   - in the DOM after load, each run's curve of each series holds one point per epoch (3), and
#     the heat map a cell per label and prediction, whose counts add up to the test rows.
# Without chromium (or $DPTRAIN_CHROMIUM) the test fails, saying so, unless DPTRAIN_SKIP_BROWSER=1: then it checks all
# but the browser and exits 77, which CTest reports as skipped (as gpus.sh does without a GPU).
set -euo pipefail
dir=$1 dptrain=$2 data=$3
shift 3
epochs=3
one="1 rank" two='2 ranks <&">'  # the second label must survive the page's escaping
rm -rf "$dir" && mkdir -p "$dir" && dir=$(cd "$dir" && pwd)  # absolute, for file:// URLs
fail() { echo "FAIL: $*"; exit 1; }

mpiexec=("$@")
"${mpiexec[@]}" -np 1 "$dptrain" train --data "$data" --epochs $epochs --batch-size 8 \
  --metrics "$dir/one.jsonl" --checkpoint-dir "$dir/ckpt" --progress off >"$dir/one.log" 2>&1 ||
  { cat "$dir/one.log"; fail "training on 1 rank failed"; }
"${mpiexec[@]}" -np 2 "$dptrain" train --data "$data" --epochs $epochs --batch-size 8 \
  --metrics "$dir/two.jsonl" --progress off >"$dir/two.log" 2>&1 ||
  { cat "$dir/two.log"; fail "training on 2 ranks failed"; }

# The evaluation on 2 ranks (rank 0 writes the file), then refused a second time.
checkpoint=$(ls -d "$dir"/ckpt/ckpt-* | tail -n 1)
"${mpiexec[@]}" -np 2 "$dptrain" eval --data "$data" --checkpoint "$checkpoint" \
  --json "$dir/eval.json" >"$dir/eval.log" 2>&1 || { cat "$dir/eval.log"; fail "eval --json failed"; }
before=$(sha256sum "$dir/eval.json")
status=0
"$dptrain" eval --data "$data" --checkpoint "$checkpoint" --json "$dir/eval.json" \
  >"$dir/eval-again.log" 2>&1 || status=$?
[ "$status" -eq 2 ] && grep -q "already exists; pass --overwrite" "$dir/eval-again.log" &&
  [ "$(sha256sum "$dir/eval.json")" = "$before" ] ||
  { cat "$dir/eval-again.log"; fail "eval --json replaced an existing file (status $status)"; }

page=$dir/report.html
"$dptrain" report --metrics "$dir/one.jsonl" --metrics "$dir/two.jsonl" --label "$one" \
  --label "$two" --eval "$dir/eval.json" --out "$page" | tee "$dir/report.log"
grep -q "^dptrain: wrote $page: 2 run(s) and a confusion matrix" "$dir/report.log" ||
  fail "dptrain report did not say what it wrote"

# Self-contained: no URL anywhere (so no src or href to follow), no script, nothing linked.
if grep -Eno "https?://|//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|<img|<iframe|@import|url\(| (src|href)=" "$page"; then
  fail "the page refers to something outside itself (above)"
fi
echo "page: $(wc -c <"$page") bytes, no URL, script or link"

browser=${DPTRAIN_CHROMIUM:-chromium}  # another name or path for it, e.g. chromium-browser
if ! command -v "$browser" >/dev/null; then
  if [ "${DPTRAIN_SKIP_BROWSER:-0}" = 1 ]; then
    echo "skipped: $browser is not installed and DPTRAIN_SKIP_BROWSER=1; the page was written and"
    echo "checked without a browser (launch/install-deps.sh installs chromium)"
    exit 77
  fi
  fail "$browser is not installed: run launch/install-deps.sh (it installs Debian's chromium for" \
    "this test), or set DPTRAIN_SKIP_BROWSER=1 to skip the browser's checks"
fi

# Headless Chromium (156 on Debian 12): --no-sandbox, as root has no sandbox; a profile of its
# own; nothing resolved by name, so neither the page nor the browser's own background requests
# (update checks, which --disable-background-networking does not stop) leave the machine.
# How each check reads the browser, found reliable with this Chromium:
#   console: --enable-logging=stderr --v=0 logs every console message of the page as a line
#     with ":CONSOLE" (console.error and uncaught exceptions alike, CSP violations too);
#   requests: --log-net-log writes every network request; the page's carry its file:// origin
#     in network_isolation_key, the browser's own "null" or Google's;
#   DOM: --dump-dom prints the document after the load event;
#   pixels: --screenshot writes a PNG of the window.
# A control page with an error and a request proves that the first two checks see them.
profile=$(mktemp -d "$dir/chromium-profile.XXXXXX")
browse() {  # browse NAME URL ARGS...: stdout to NAME.out, stderr to NAME.err, net log NAME.netlog
  local name=$1 url=$2
  shift 2
  timeout --kill-after=5 60 "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --disable-default-apps --hide-scrollbars \
    "--host-resolver-rules=MAP * ~NOTFOUND" --user-data-dir="$profile/$name" \
    --enable-logging=stderr --v=0 --log-net-log="$dir/$name.netlog" "$@" "$url" \
    >"$dir/$name.out" 2>"$dir/$name.err" || { cat "$dir/$name.err"; fail "chromium failed on $url"; }
}
cat >"$dir/control.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>control</title></head><body>
<p>A page that errs and calls out, so that the checks are seen to catch both.</p>
<img src="http://example.invalid/control.png" alt="">
<script>console.error("control: a deliberate error"); notDefined();</script></body></html>
EOF
browse control "file://$dir/control.html" --dump-dom
browse page "file://$page" --dump-dom
browse shot "file://$page" --screenshot="$dir/shot.png" --window-size=1200,3600

python3 - "$dir" "$one" "$two" "$epochs" <<'EOF'
import json, re, struct, sys, zlib
from html.parser import HTMLParser

d, labels, epochs = sys.argv[1], sys.argv[2:4], int(sys.argv[4])
failures = []

def check(ok, what):
    if not ok:
        failures.append(what)

def console(name):
    return [l for l in open(f"{d}/{name}.err", errors="replace") if ":CONSOLE" in l]

def page_requests(name):
    """The network requests made from a file:// page (the browser's own have other origins)."""
    log = json.load(open(f"{d}/{name}.netlog"))
    kind = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = set()
    for e in log["events"]:
        p = e.get("params", {})
        if kind[e["type"]] == "URL_REQUEST_START_JOB" and "url" in p and \
           "file://" in p.get("network_isolation_key", "") + p.get("site_for_cookies", ""):
            urls.add(p["url"])
    return sorted(urls)

# The control page: its error and its request must be seen, or the checks are blind.
control_console, control_requests = console("control"), page_requests("control")
check(any("deliberate error" in l for l in control_console) and
      any("Uncaught ReferenceError" in l for l in control_console),
      "the console check misses the control page's errors: " + repr(control_console))
check(control_requests == ["http://example.invalid/control.png"],
      "the request check misses the control page's request: " + repr(control_requests))
for name in ("page", "shot"):
    messages = console(name)
    check(not messages, f"the report logged to the console ({name}): " + "".join(messages))
    requests = page_requests(name)
    check(not requests, f"the report made requests ({name}): {requests}")
print(f"browser: console and network quiet (the control page: {len(control_console)} console "
      f"lines, {len(control_requests)} request seen)")

# The DOM after load.
class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements = []
        self.texts = []
    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
    def handle_data(self, data):
        self.texts.append(data.strip())
dom = Dom()
dom.feed(open(f"{d}/page.out", encoding="utf-8").read())
check(any(t == "dptrain report" for t in dom.texts), "no heading in the DOM: did the page load?")
curves = {}
for tag, a in dom.elements:
    if tag == "polyline":
        key = (a.get("data-run"), a.get("data-series"))
        check(key not in curves, f"two curves for {key}")
        curves[key] = len(a.get("points", "").split())
series = ["train_loss", "test_loss", "test_accuracy", "lr", "samples_per_second"]
for label in labels:
    for s in series:
        check(curves.get((label, s)) == epochs,
              f"curve {s} of run {label!r}: {curves.get((label, s))} points, expected {epochs}")
check(len(curves) == len(labels) * len(series), f"unexpected curves: {sorted(curves)}")
bars = {}
for tag, a in dom.elements:
    if tag == "rect" and "data-part" in a:
        bars.setdefault(a["data-run"], set()).add(a["data-x"])
for label in labels:
    check(bars.get(label) == {str(e) for e in range(1, epochs + 1)},
          f"phase bars of run {label!r}: epochs {sorted(bars.get(label, []))}")
rows = {a.get("data-run"): a for tag, a in dom.elements if tag == "tr" and "data-run" in a}
check(set(rows) >= set(labels), f"the header's runs: {sorted(rows)}")
evaluation = json.load(open(f"{d}/eval.json"))
cells = [a for tag, a in dom.elements if tag == "rect" and "data-count" in a]
check(len(cells) == 100, f"{len(cells)} heat-map cells, expected 10 x 10")
check(sum(int(a["data-count"]) for a in cells) == evaluation["test_rows"],
      "the heat map's counts do not add up to the test rows")
check({a["data-row"] for a in cells} == set(evaluation["classes"]) ==
      {a["data-column"] for a in cells}, "the class names on the heat map's axes")
print(f"dom: {len(curves)} curves of {epochs} points ({', '.join(series)} for each run), "
      f"{len(cells)} heat-map cells adding up to {evaluation['test_rows']} test rows")

# The screenshot: a PNG decoded with zlib alone (no PIL): 8-bit RGB or RGBA, not interlaced.
png = open(f"{d}/shot.png", "rb").read()
check(png[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG")
pos, chunks = 8, {}
while pos < len(png):
    length, kind = struct.unpack(">I4s", png[pos:pos + 8])
    chunks.setdefault(kind, []).append(png[pos + 8:pos + 8 + length])
    pos += 12 + length
width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
check(depth == 8 and color in (2, 6) and interlace == 0,
      f"a PNG this decoder does not read: depth {depth}, colour type {color}")
bpp = 3 if color == 2 else 4
raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
stride = width * bpp
image, previous = bytearray(), bytearray(stride)
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        left = line[i - bpp] if i >= bpp else 0
        up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + left) & 255
        elif f == 2: line[i] = (line[i] + up) & 255
        elif f == 3: line[i] = (line[i] + (left + up) // 2) & 255
        elif f == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
    image += line
    previous = line
pixels = width * height
non_white = 0
near = {"#0072b2": 0, "#d55e00": 0, "#08306b": 0}  # run 1, run 2, the heat map's darkest
targets = [(k, tuple(int(k[i:i + 2], 16) for i in (1, 3, 5))) for k in near]
for i in range(0, len(image), bpp):
    r, g, b = image[i], image[i + 1], image[i + 2]
    if r < 250 or g < 250 or b < 250:
        non_white += 1
        for k, (tr, tg, tb) in targets:
            if abs(r - tr) <= 24 and abs(g - tg) <= 24 and abs(b - tb) <= 24:
                near[k] += 1
share = non_white / pixels
check(share > 0.02, f"the screenshot is nearly blank: {100 * share:.2f}% non-white")
for k, count in near.items():
    check(count >= 200, f"the screenshot has {count} pixels near {k}: a curve or the heat map is missing")
print(f"screenshot: {width}x{height}, {100 * share:.1f}% non-white; pixels near the colours: " +
      ", ".join(f"{k} {v}" for k, v in near.items()))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("PASS")
EOF
rm -rf "$profile"
