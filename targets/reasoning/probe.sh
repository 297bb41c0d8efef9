#!/usr/bin/env bash
# Send the requests behind README.md's FINDINGS to one server and keep every answer (raw) in OUTDIR.
# Usage: probe.sh BASE_URL KEY OUTDIR     e.g. probe.sh http://127.0.0.1:8010 sk-test-vllm /tmp/probe-vllm
set -uo pipefail
B=${1:?base url}; K=${2:?key}; O=${3:?outdir}; M=${MODEL:-tiny-thinker}; mkdir -p "$O"
WEATHER='{"type":"function","function":{"name":"get_weather","description":"Get the weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}'
req() {  # name path json
  curl -sS -o "$O/$1.out" -w '%{http_code}\n' -X POST "$B$2" -H "Authorization: Bearer $K" \
    -H 'Content-Type: application/json' -d "$3" > "$O/$1.status"
  echo "$1 -> HTTP $(cat "$O/$1.status")"
}
U='"messages":[{"role":"user","content":"Say hello."}]'
req chat            /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":300,\"temperature\":0}"
req chat_stream     /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":300,\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
for e in none minimal low medium high xhigh max bogus; do
  req "effort_$e"   /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":300,\"temperature\":0,\"reasoning_effort\":\"$e\"}"
done
req kwargs_nothink  /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":300,\"temperature\":0,\"chat_template_kwargs\":{\"enable_thinking\":false}}"
req kwargs_effort   /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":300,\"temperature\":0,\"chat_template_kwargs\":{\"reasoning_effort\":\"high\"}}"
req small_max       /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":10,\"temperature\":0}"
req small_max_stream /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":10,\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
req sample_t1       /v1/chat/completions "{\"model\":\"$M\",$U,\"max_tokens\":300,\"temperature\":1,\"seed\":7}"
req tools_auto      /v1/chat/completions "{\"model\":\"$M\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"tools\":[$WEATHER],\"tool_choice\":\"auto\",\"max_tokens\":300,\"temperature\":0,\"reasoning_effort\":\"low\"}"
req tools_required  /v1/chat/completions "{\"model\":\"$M\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"tools\":[$WEATHER],\"tool_choice\":\"required\",\"max_tokens\":300,\"temperature\":0,\"reasoning_effort\":\"low\"}"
req tools_required_stream /v1/chat/completions "{\"model\":\"$M\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"tools\":[$WEATHER],\"tool_choice\":\"required\",\"max_tokens\":300,\"temperature\":0,\"reasoning_effort\":\"low\",\"stream\":true}"
req multiturn       /v1/chat/completions "{\"model\":\"$M\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello! I am a tiny model.\",\"reasoning_content\":\"Counting down: 3 2 1.\"},{\"role\":\"user\",\"content\":\"Again\"}],\"max_tokens\":300,\"temperature\":0,\"reasoning_effort\":\"low\"}"
req resp            /v1/responses "{\"model\":\"$M\",\"input\":\"Say hello.\",\"max_output_tokens\":300,\"temperature\":0}"
req resp_low        /v1/responses "{\"model\":\"$M\",\"input\":\"Say hello.\",\"max_output_tokens\":300,\"temperature\":0,\"reasoning\":{\"effort\":\"low\",\"summary\":\"auto\"}}"
req resp_stream     /v1/responses "{\"model\":\"$M\",\"input\":\"Say hello.\",\"max_output_tokens\":300,\"temperature\":0,\"stream\":true,\"reasoning\":{\"effort\":\"low\"}}"
req resp_small      /v1/responses "{\"model\":\"$M\",\"input\":\"Say hello.\",\"max_output_tokens\":10,\"temperature\":0}"
req resp_tools      /v1/responses "{\"model\":\"$M\",\"input\":\"Weather in Paris?\",\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}],\"tool_choice\":\"required\",\"max_output_tokens\":300,\"temperature\":0,\"reasoning\":{\"effort\":\"low\"}}"
