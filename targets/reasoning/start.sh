#!/usr/bin/env bash
# Start one real server for the tiny-thinker reasoning model on 127.0.0.1 in the background and print its PID
# (stop it with: kill PID). Build the model first: make_tiny_thinker.py (see README.md).
# Usage: start.sh vllm|llamaserver|litellm [PORT]
#   vllm        key sk-test-vllm,        default port 8010, ready after 50-90 s (GET /health)
#               REASONING_PARSER=qwen3 (default) or deepseek_r1; extra vLLM flags in VLLM_EXTRA_ARGS
#   llamaserver key sk-test-llamaserver, default port 8014, ready at once
#               REASONING_FORMAT=deepseek (default) | auto | none | deepseek-legacy; extra flags in LLAMA_EXTRA_ARGS
#   litellm     key sk-test-master-key,  default port 4011, ~12 s; needs the vLLM above on 8010 (litellm-vllm.yaml)
set -euo pipefail
H=${TARGETS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/oai-targets}; HERE=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: start.sh vllm|llamaserver|litellm [PORT]}
case "$name" in
  vllm)
    P=${2:-8010}
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 VLLM_TARGET_DEVICE=cpu \
    VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_OMP_THREADS_BIND=nobind VLLM_ENABLE_RESPONSES_API_STORE=1 \
    nohup "$H/vllm-venv/bin/python" -m vllm.entrypoints.openai.api_server --model "$H/models/tiny-thinker" \
      --served-model-name tiny-thinker --host 127.0.0.1 --port "$P" --api-key sk-test-vllm --dtype float32 \
      --max-model-len 2048 --enable-auto-tool-choice --tool-call-parser hermes \
      --reasoning-parser "${REASONING_PARSER:-qwen3}" ${VLLM_EXTRA_ARGS:-} >"$H/vllm-thinker-$P.log" 2>&1 </dev/null &
    echo $! ;;
  llamaserver)
    P=${2:-8014}
    # without the add_space_prefix override every grammar-constrained request fails with this tokenizer
    nohup "$H/llamacpp-build/bin/llama-server" -m "$H/models/tiny-thinker-f32.gguf" --alias tiny-thinker \
      --host 127.0.0.1 --port "$P" --api-key sk-test-llamaserver --jinja --no-webui -c 2048 -t 2 -np 2 \
      --reasoning-format "${REASONING_FORMAT:-deepseek}" \
      --override-kv tokenizer.ggml.add_space_prefix=bool:false ${LLAMA_EXTRA_ARGS:-} \
      >"$H/llamaserver-thinker-$P.log" 2>&1 </dev/null &
    echo $! ;;
  litellm)
    P=${2:-4011}
    cd "$H"
    LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False DISABLE_ADMIN_UI=True \
    nohup "$H/litellm-venv/bin/litellm" --config "$HERE/litellm-vllm.yaml" --host 127.0.0.1 --port "$P" \
      --num_workers 1 >"$H/litellm-thinker-$P.log" 2>&1 </dev/null &
    echo $! ;;
  *) echo "usage: start.sh vllm|llamaserver|litellm [PORT]" >&2; exit 2 ;;
esac
