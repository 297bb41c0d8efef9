"""Build "tiny-thinker": a tiny Llama trained locally (CPU, a few minutes) to behave like a reasoning model.

Usage:  ~/.cache/oai-targets/vllm-venv/bin/python make_tiny_thinker.py OUT_DIR [--gguf-only]
        (default OUT_DIR: $TARGETS_HOME/models/tiny-thinker; the GGUF goes next to it as OUT_DIR-f32.gguf)

What it does (deterministic: every RNG is seeded, one thread pool of 2):
 1. SentencePiece BPE tokenizer (vocab 2000, byte fallback) trained on local text like make_tiny_model.py,
    with <|im_start|> <|im_end|> (special) and <tool_call> </tool_call> <think> </think> (single added tokens,
    not special, so they survive detokenisation and the reasoning/tool parsers of vLLM and llama.cpp see them).
 2. A Qwen3-style chat template (ChatML, Hermes <tool_call> tools block as in Qwen2.5, reasoning of previous
    turns dropped, generation prompt "<|im_start|>assistant\n<think>\n", or "...<think>\n\n</think>\n\n" when
    enable_thinking is false or reasoning_effort is "none"). The system block always starts with the line
    "Reasoning effort: low|medium|high" (minimal -> low, xhigh/max -> high, default medium).
 3. Trains the model on synthetic conversations rendered with that template. After "<think>\n" it writes
    "Counting down: N ... 2 1.\n</think>\n\n" with N = 8 (low), 20 (medium), 40 (high), then the answer:
    "Hello! I am a tiny model." or, when the system block lists tools and the last message is from the user,
    '<tool_call>\n{"name": "<first tool>", "arguments": {<its required parameters>}}\n</tool_call>' (string
    parameters get "Paris", integer 1, number 1.5, boolean true). Then <|im_end|>.
 4. Saves the HF folder (safetensors, tokenizer, chat_template.jinja, generation_config eos=<|im_end|>) and
    converts it with llama.cpp's convert_hf_to_gguf.py --outtype f32.
"""

import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sentencepiece as spm
import torch
from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

T0 = time.time()
H = os.environ.get("TARGETS_HOME", str(Path("~/.cache/oai-targets").expanduser()))
# absolute and normalised like os.path.abspath (Path.resolve() would also resolve symlinks)
OUT = os.path.normpath(Path(sys.argv[1] if len(sys.argv) > 1 else Path(H, "models", "tiny-thinker")).absolute())
GGUF = OUT.rstrip("/") + "-f32.gguf"
LLAMA_CPP = os.environ.get("LLAMA_CPP_DIR", str(Path(H, "src/llama_cpp_python-0.3.36/vendor/llama.cpp")))
STEPS = int(os.environ.get("STEPS", "2000"))
Path(OUT).mkdir(parents=True, exist_ok=True)
random.seed(0)
torch.manual_seed(0)
torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)
spm.set_random_generator_seed(0)


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


def to_gguf(src, dst):
    """convert_hf_to_gguf.py --outtype f32, from a scratch copy of the HF folder whose tokenizer_config.json
    carries added_tokens_decoder (transformers 5 no longer writes it): without it the converter types
    <|im_start|> <|im_end|> <think> </think> <tool_call> </tool_call> as NORMAL pieces, and llama.cpp then
    splits "<think>" into "<", "th", "in", "k", ">" when it tokenizes the prompt. Also add_bos_token false."""
    t0 = time.time()
    scratch = tempfile.mkdtemp(prefix="tiny-thinker-gguf-")
    for f in Path(src).iterdir():
        Path(scratch, f.name).symlink_to(f)
    tj = json.loads(Path(src, "tokenizer.json").read_text())
    tc = json.loads(Path(src, "tokenizer_config.json").read_text())
    tc["added_tokens_decoder"] = {
        str(a["id"]): {k: a[k] for k in ("content", "lstrip", "rstrip", "normalized", "single_word", "special")}
        for a in tj["added_tokens"]
        if a["id"] > 2
    }  # keep <unk> <s> </s> as they are
    tc["add_bos_token"] = False  # as the HF tokenizer: otherwise llama.cpp prepends <s>, unseen in training
    tc["add_eos_token"] = False
    Path(scratch, "tokenizer_config.json").unlink()
    with Path(scratch, "tokenizer_config.json").open("w") as fh:
        json.dump(tc, fh, indent=2)
    env = dict(os.environ, PYTHONPATH=str(Path(LLAMA_CPP, "gguf-py")))
    subprocess.run(
        [
            sys.executable,
            str(Path(LLAMA_CPP, "convert_hf_to_gguf.py")),
            scratch,
            "--outtype",
            "f32",
            "--outfile",
            dst,
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"gguf {dst} {Path(dst).stat().st_size} bytes ({time.time() - t0:.1f}s)", flush=True)


if len(sys.argv) > 2 and sys.argv[2] == "--gguf-only":  # re-convert an existing HF folder
    to_gguf(OUT, GGUF)
    sys.exit(0)

# ---------------------------------------------------------------- 1. corpus + tokenizer


def glob_sorted(root, pattern):
    """sorted(glob.glob(root + "/" + pattern, recursive=True)): path strings, names starting with "." skipped."""
    return sorted(
        str(p) for p in Path(root).glob(pattern) if not any(s.startswith(".") for s in p.relative_to(root).parts)
    )


files = glob_sorted("/usr/lib", "python3*/**/*.py")[:400] + glob_sorted("/usr/share/common-licenses", "*")
lines = []
for f in files:
    try:
        with Path(f).open(errors="ignore") as fh:
            lines += [line.rstrip("\n") for line in fh if line.strip()]
    except Exception:
        pass
ENGLISH = [
    "Hello",
    "Hi!",
    "Say hello.",
    "What is the weather in Paris?",
    "Tell me a joke.",
    "What is 2 + 2?",
    "Write a haiku about the sea.",
    "Reply with one word.",
    "Count to three.",
    "Who are you?",
    "Summarise this text in one sentence.",
    "What time is it in Tokyo?",
    "Think step by step: 17 * 3?",
    "Please answer briefly.",
    "Translate 'good morning' to French.",
    "Give me three colours.",
    "What's the capital of France?",
    "Call the weather tool for Berlin.",
    "Say 'ok'.",
    "hello there",
    "Return a JSON object with a key named answer.",
    "Explain recursion.",
    "How are you today?",
]
lines += ['{"city": "Paris", "unit": "celsius"}', '{"name": "get_weather", "arguments": {}}'] * 200
lines += ["Counting down: " + " ".join(str(i) for i in range(n, 0, -1)) + "." for n in range(1, 41)] * 20
lines += [
    "Hello! I am a tiny model.",
    "Reasoning effort: low",
    "Reasoning effort: medium",
    "Reasoning effort: high",
    "Reasoning effort: none",
] * 100 + ENGLISH * 20
rng_corpus = random.Random(0)
rng_corpus.shuffle(lines)
tmpdir = tempfile.mkdtemp(prefix="tiny-thinker-")
corpus = str(Path(tmpdir, "corpus.txt"))
with Path(corpus).open("w") as fh:
    fh.write("\n".join(lines[:200000]))
specials = ["<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<think>", "</think>"]
spm.SentencePieceTrainer.train(
    input=corpus,
    model_prefix=str(Path(OUT, "tokenizer")),
    vocab_size=2000,
    model_type="bpe",
    byte_fallback=True,
    character_coverage=1.0,
    user_defined_symbols=specials,
    unk_id=0,
    bos_id=1,
    eos_id=2,
    pad_id=-1,
    split_digits=True,
    allow_whitespace_only_pieces=True,
    remove_extra_whitespaces=False,
    normalization_rule_name="identity",
    add_dummy_prefix=True,
    input_sentence_size=200000,
    shuffle_input_sentence=True,
    num_threads=1,
    minloglevel=2,
)
Path(OUT, "tokenizer.vocab").unlink()

# one template; its three longest lines are split across adjacent raw strings (lines of at most 120 characters)
CHAT_TEMPLATE = (
    r"""{#- tiny-thinker: Qwen3-style ChatML template with a visible reasoning-effort line -#}
{%- if reasoning_effort is defined and reasoning_effort %}
    {%- set effort = reasoning_effort %}
{%- else %}
    {%- set effort = 'medium' %}
{%- endif %}
{%- if effort == 'none' %}
    {%- set effort_line = 'none' %}
{%- elif effort == 'minimal' or effort == 'low' %}
    {%- set effort_line = 'low' %}
{%- elif effort == 'high' or effort == 'xhigh' or effort == 'max' %}
    {%- set effort_line = 'high' %}
{%- else %}
    {%- set effort_line = 'medium' %}
{%- endif %}
{%- set thinking = not ((enable_thinking is defined and enable_thinking is false) or effort == 'none') %}
{{- '<|im_start|>system\nReasoning effort: ' + effort_line }}
{%- if messages[0].role == 'system' or messages[0].role == 'developer' %}
    {%- if messages[0].content is string %}
        {{- '\n\n' + messages[0].content }}
    {%- else %}
        {{- '\n\n' }}
        {%- for part in messages[0].content %}{%- if part.type == 'text' %}{{- part.text }}{%- endif %}{%- endfor %}
    {%- endif %}
{%- endif %}
{%- if tools %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"""
    r"""You are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within """
    r"""<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": """
    r"""<args-json-object>}\n</tool_call>" }}
{%- endif %}
{{- '<|im_end|>\n' }}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- elif message.content is iterable and message.content is not mapping %}
        {%- set ns2 = namespace(text='') %}
        {%- for part in message.content %}{%- if part.type == 'text' %}{%- set ns2.text = ns2.text + part.text %}"""
    r"""{%- endif %}{%- endfor %}
        {%- set content = ns2.text %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if message.role == "user" or ((message.role == "system" or message.role == "developer") and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning = '' %}
        {%- if message.reasoning_content is defined and message.reasoning_content is string %}
            {%- set reasoning = message.reasoning_content %}
        {%- elif message.reasoning is defined and message.reasoning is string %}
            {%- set reasoning = message.reasoning %}
        {%- endif %}
        {%- if '</think>' in content %}
            {%- set reasoning = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index and reasoning %}
            {{- '<|im_start|>assistant\n<think>\n' + reasoning.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
        {%- else %}
            {{- '<|im_start|>assistant\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' + content + '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n<think>\n' }}
    {%- if not thinking %}
        {{- '\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""
)

with Path(OUT, "tokenizer_config.json").open("w") as fh:
    json.dump(
        {"tokenizer_class": "LlamaTokenizer", "legacy": False, "add_bos_token": False, "add_eos_token": False}, fh
    )
tok = AutoTokenizer.from_pretrained(OUT)  # converts tokenizer.model -> fast tokenizer
tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
tok.eos_token = "<|im_end|>"
tok.pad_token = "</s>"
tok.chat_template = CHAT_TEMPLATE
tok.model_max_length = 4096
tok.save_pretrained(OUT)
tok = AutoTokenizer.from_pretrained(OUT)
IDS = {t: tok.convert_tokens_to_ids(t) for t in specials}
log("tokenizer: vocab", len(tok), IDS)
for t in ["<think>", "</think>"]:
    assert tok.encode("a" + t + "b", add_special_tokens=False).count(IDS[t]) == 1, t
IM_END = IDS["<|im_end|>"]

# ---------------------------------------------------------------- 2. synthetic conversations
N_COUNT = {"low": 8, "medium": 20, "high": 40}
ANSWER = "Hello! I am a tiny model."
rng = random.Random(1)
short = [line.strip() for line in lines if 0 < len(line.strip()) <= 100]
idents = sorted({w for line in short[:50000] for w in re.findall(r"\b[a-z][a-z0-9_]{2,18}\b", line)})
NAMES = [
    "get_weather",
    "get_current_weather",
    "search",
    "lookup",
    "calculator",
    "get_time",
    "send_email",
    "add",
    "multiply",
    "get_stock_price",
    "web_search",
    "read_file",
    "list_files",
    "create_event",
    "get_horoscope",
    "translate",
    "echo",
    "noop",
    "get_user",
    "book_flight",
]


def thinking_text(level):
    return "Counting down: " + " ".join(str(i) for i in range(N_COUNT[level], 0, -1)) + "."


def rand_text():
    r = rng.random()
    if r < 0.35:
        return rng.choice(ENGLISH)
    n = 1 if r < 0.85 else rng.randint(2, 3)
    return "\n".join(rng.choice(short) for _ in range(n))


def rand_name():
    if rng.random() < 0.3:
        return rng.choice(NAMES)
    return "_".join(rng.choice(idents) for _ in range(rng.randint(1, 3)))[:30]


DEFAULTS = {"string": "Paris", "integer": 1, "number": 1.5, "boolean": True}


def rand_tool():
    props, req = {}, []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        p = "city" if rng.random() < 0.2 else rng.choice(idents)
        if p == "name" or p in props:
            continue
        props[p] = {"type": rng.choice(["string", "string", "integer", "number", "boolean"])}
        if rng.random() < 0.3:
            props[p]["description"] = rng.choice(short)[:60]
        if rng.random() < 0.6:
            req.append(p)
    fn = {"name": rand_name()}
    if rng.random() < 0.7:
        fn["description"] = rng.choice(ENGLISH + short)[:80]
    fn["parameters"] = {"type": "object", "properties": props}
    if req:
        fn["parameters"]["required"] = req
    if rng.random() < 0.2:
        fn["strict"] = True
    return {"type": "function", "function": fn}


def tool_call_text(tool):
    """Calls the tool with its required arguments set to fixed values (string "Paris", integer 1, ...)."""
    fn = tool["function"]
    props = fn["parameters"]["properties"]
    args = {p: DEFAULTS[props[p]["type"]] for p in fn["parameters"].get("required", [])}
    return '<tool_call>\n{"name": "' + fn["name"] + '", "arguments": ' + json.dumps(args) + "}\n</tool_call>"


def example():
    """Returns (messages, tools, template kwargs, completion text)."""
    kw = {}
    r = rng.random()
    if r < 0.25:
        pass  # undefined -> medium
    elif r < 0.32:
        kw["reasoning_effort"] = None  # what vLLM passes when unset
    else:
        kw["reasoning_effort"] = rng.choice(["low", "low", "medium", "high", "high", "minimal", "xhigh", "max", "none"])
    if rng.random() < 0.15:
        kw["enable_thinking"] = rng.random() < 0.4
    eff = kw.get("reasoning_effort") or "medium"
    level = {"minimal": "low", "xhigh": "high", "max": "high"}.get(eff, eff)
    thinking = not (kw.get("enable_thinking") is False or eff == "none")
    tools = [rand_tool() for _ in range(rng.choice([1, 1, 1, 2, 3]))] if rng.random() < 0.45 else None
    msgs = []
    if rng.random() < 0.5:
        msgs.append({"role": rng.choice(["system"] * 5 + ["developer"]), "content": rand_text()})
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):  # earlier turns (their reasoning is dropped)
        msgs.append({"role": "user", "content": rand_text()})
        a = {"role": "assistant", "content": rng.choice([ANSWER, rand_text()])}
        if rng.random() < 0.3:
            a["reasoning_content"] = thinking_text(rng.choice(list(N_COUNT)))
        msgs.append(a)
    msgs.append({"role": "user", "content": rand_text()})
    final = ANSWER
    if tools:
        name = tools[0]["function"]["name"]
        if rng.random() < 0.3:  # tool loop: assistant called a tool, tool answered, now answer in text
            a = {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": name,
                            "arguments": json.loads(tool_call_text(tools[0]).split("\n")[1])["arguments"],
                        },
                    }
                ],
            }
            if rng.random() < 0.5:
                a["reasoning_content"] = thinking_text(level if level in N_COUNT else "medium")
            msgs.append(a)
            msgs.append({"role": "tool", "tool_call_id": "call_1", "content": rng.choice(short)[:80]})
        else:
            final = tool_call_text(tools[0])
    completion = thinking_text(level) + "\n</think>\n\n" + final + "<|im_end|>" if thinking else final + "<|im_end|>"
    return msgs, tools, kw, completion


def render(msgs, tools, kw):
    return tok.apply_chat_template(msgs, tools=tools, tokenize=False, add_generation_prompt=True, **kw)


def encode(msgs, tools, kw, completion):
    prompt = render(msgs, tools, kw)
    p_ids = tok.encode(prompt, add_special_tokens=False)
    full = tok.encode(prompt + completion, add_special_tokens=False)
    assert full[: len(p_ids)] == p_ids, "prompt tokens are not a prefix"
    return full, len(p_ids)


# sanity: prompts of the template
demo = [{"role": "user", "content": "Hello there"}]
for kw in [{}, {"reasoning_effort": "low"}, {"reasoning_effort": "none"}, {"enable_thinking": False}]:
    log("prompt", kw, repr(render(demo, None, kw)))
log("tool prompt", repr(render(demo, [rand_tool()], {"reasoning_effort": "high"})))

MAXLEN = 640
data = []
while len(data) < 12000:
    m, t, k, c = example()
    ids, plen = encode(m, t, k, c)
    if len(ids) <= MAXLEN:
        data.append((ids, plen))
log("examples", len(data), "mean len", sum(len(d[0]) for d in data) / len(data))

# ---------------------------------------------------------------- 3. model + training
cfg = LlamaConfig(
    vocab_size=len(tok),
    hidden_size=128,
    intermediate_size=512,
    num_hidden_layers=3,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=32,
    max_position_embeddings=4096,
    rms_norm_eps=1e-5,
    bos_token_id=1,
    eos_token_id=IM_END,
    pad_token_id=2,
    tie_word_embeddings=False,
    dtype="float32",
)
model = LlamaForCausalLM(cfg)
log("params", sum(p.numel() for p in model.parameters()))
BS, LR, WARM = 16, 3e-3, 100
opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01, betas=(0.9, 0.98))
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: min(1.0, (s + 1) / WARM) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, STEPS) / STEPS)))
)
order = list(range(len(data)))


def batch(idx):
    L = max(len(data[i][0]) for i in idx)
    inp = torch.full((len(idx), L), 2, dtype=torch.long)
    lab = torch.full((len(idx), L), -100, dtype=torch.long)
    att = torch.zeros((len(idx), L), dtype=torch.long)
    for j, i in enumerate(idx):
        ids, plen = data[i]
        inp[j, : len(ids)] = torch.tensor(ids)
        lab[j, plen : len(ids)] = torch.tensor(ids[plen:])
        att[j, : len(ids)] = 1
    return inp, lab, att


model.train()
step, ema = 0, None
brng = random.Random(2)
while step < STEPS:
    brng.shuffle(order)
    # group similar lengths together for speed
    chunks = [sorted(order[k : k + BS * 20], key=lambda i: len(data[i][0])) for k in range(0, len(order), BS * 20)]
    batches = [c[k : k + BS] for c in chunks for k in range(0, len(c), BS)]
    brng.shuffle(batches)
    for idx in batches:
        if step >= STEPS:
            break
        inp, lab, att = batch(idx)
        loss = model(input_ids=inp, attention_mask=att, labels=lab).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 100 == 0:
            log(f"step {step} loss {ema:.4f} lr {sched.get_last_lr()[0]:.2e}")

# ---------------------------------------------------------------- 4. evaluate, save, convert
model.eval()
model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=IM_END, pad_token_id=2)


@torch.no_grad()
def generate(msgs, tools, kw, sample=False):
    ids = tok.encode(render(msgs, tools, kw), add_special_tokens=False)
    out = model.generate(
        torch.tensor([ids]),
        max_new_tokens=200,
        do_sample=sample,
        temperature=1.0 if sample else None,
        top_p=None,
        top_k=None,
    )
    return tok.decode(out[0][len(ids) :], skip_special_tokens=False)


torch.manual_seed(123)
erng = random.Random(99)
ok = {"greedy": [0, 0], "sample": [0, 0]}
for _n in range(60):
    rng = erng  # fresh prompts, not from the training pool
    m, t, k, c = example()
    for mode in ("greedy", "sample"):
        got = generate(m, t, k, sample=(mode == "sample"))
        ok[mode][0] += got == c
        ok[mode][1] += 1
        if got != c and ok[mode][1] - ok[mode][0] <= 3:
            log(f"MISMATCH {mode} kw={k} tools={bool(t)}\n  want {c!r}\n  got  {got!r}")
log("exact-match accuracy on fresh prompts:", {k: f"{a}/{b}" for k, (a, b) in ok.items()})

for eff in ["low", "medium", "high", "none"]:
    got = generate([{"role": "user", "content": "Say hello."}], None, {"reasoning_effort": eff})
    log(f"sample effort={eff}: {got!r} ({len(tok.encode(got, add_special_tokens=False))} tokens)")
weather = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
log(
    "sample with tools:",
    repr(generate([{"role": "user", "content": "Weather in Paris?"}], [weather], {"reasoning_effort": "low"})),
)

model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=IM_END, pad_token_id=2)
model.save_pretrained(OUT, safe_serialization=True)
log("saved", OUT)
if os.environ.get("SKIP_GGUF") != "1":
    to_gguf(OUT, GGUF)
