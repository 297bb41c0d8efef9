"""Summarise the answers probe.sh kept: python3 summarize.py OUTDIR  (plain python3, no dependencies)."""

import json
import sys
from pathlib import Path

D = sys.argv[1]


def short(v, n=90):
    s = json.dumps(v)
    return s if len(s) <= n else s[: n - 15] + "..." + s[-12:]


def sse(text):
    events = []
    name = None
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            d = line[5:].strip()
            events.append((name, None if d == "[DONE]" else json.loads(d)))
            name = None
    return events


def runs(seq):
    out = []
    for x in seq:
        if out and out[-1][0] == x:
            out[-1][1] += 1
        else:
            out.append([x, 1])
    return " ".join(f"{k}x{n}" if n > 1 else k for k, n in out)


for f in sorted(p.name for p in Path(D).iterdir()):
    if not f.endswith(".out"):
        continue
    name = f[:-4]
    status = Path(D, name + ".status").read_text().strip()
    text = Path(D, f).read_text()
    print(f"== {name}  HTTP {status}")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if body is not None:
        if "choices" in body:
            c = body["choices"][0]
            m = c["message"]
            print("  finish_reason:", c["finish_reason"], "| message keys:", list(m))
            for k in ("reasoning", "reasoning_content", "thinking_blocks", "content", "tool_calls"):
                if k in m:
                    print(f"  {k}: {short(m[k], 160)}")
            for k in m:
                if k not in (
                    "role",
                    "reasoning",
                    "reasoning_content",
                    "thinking_blocks",
                    "content",
                    "tool_calls",
                ) and m[k] not in (None, [], {}):
                    print(f"  {k}: {short(m[k], 120)}")
            print("  usage:", json.dumps(body.get("usage")))
        elif body.get("object") == "response":
            print(
                "  status:",
                body.get("status"),
                "| incomplete_details:",
                body.get("incomplete_details"),
                "| reasoning:",
                body.get("reasoning"),
            )
            for it in body.get("output", []):
                print("  output item:", short({k: v for k, v in it.items() if k != "id"}, 260))
            print("  usage:", json.dumps(body.get("usage")))
        else:
            print("  body:", short(body, 400))
        continue
    ev = sse(text)
    if (ev and ev[0][1] is not None and "choices" in ev[0][1]) or (
        len(ev) > 1 and ev[0][1] and ev[0][1].get("object") == "chat.completion.chunk"
    ):
        seq, reas, cont, tcs, fin, usage = [], "", "", [], None, None
        for _, d in ev:
            if d is None:
                seq.append("[DONE]")
                continue
            if d.get("usage"):
                usage = d["usage"]
            if not d.get("choices"):
                seq.append("usage-chunk" if d.get("usage") else "empty")
                continue
            c = d["choices"][0]
            dl = c.get("delta", {})
            keys = [k for k, v in dl.items() if v not in (None, "", [])]
            for k in ("reasoning", "reasoning_content"):
                reas += dl.get(k) or ""
            cont += dl.get("content") or ""
            if dl.get("tool_calls"):
                tcs.append(dl["tool_calls"])
            if c.get("finish_reason"):
                fin = c["finish_reason"]
                keys.append("finish=" + fin)
            seq.append("+".join(keys) or "{}")
        print("  chunks:", runs(seq))
        print("  reasoning joined:", short(reas, 160))
        print("  content joined:", short(cont, 160))
        if tcs:
            print("  tool_call deltas:", len(tcs), "first:", short(tcs[0], 200))
        print("  finish_reason:", fin, "| usage:", json.dumps(usage))
    else:
        types = [(n or (d or {}).get("type") or "[DONE]") for n, d in ev]
        print("  events:", runs(types))
        for _n, d in ev:
            if d and d.get("type") in ("response.completed", "response.incomplete"):
                r = d["response"]
                print(
                    "  final:",
                    r.get("status"),
                    [short({k: v for k, v in it.items() if k != "id"}, 200) for it in r.get("output", [])],
                )
                print("  usage:", json.dumps(r.get("usage")))
            if (
                d
                and d.get("type") in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta")
                and types.count(d["type"])
                and not hasattr(sys, "_shown")
            ):
                sys._shown = True
                print("  first reasoning delta:", short(d, 200))
    if hasattr(sys, "_shown"):
        del sys._shown
