#!/usr/bin/env bash
# Start one real embeddings server on 127.0.0.1 in the background and print its PID (stop it with: kill PID).
# The model is ../shared/targets' tiny random Llama (hidden size 128: vectors of 128 numbers), served as an
# embedding model. Usage: start.sh vllm|llamaserver|litellm [PORT]
#   vllm        key sk-test-vllm,        default port 8020, the pooling runner (--convert embed), ready after 60-90 s
#   llamaserver key sk-test-llamaserver, default port 8024, --embeddings --pooling mean, ready at once
#   litellm     key sk-test-master-key,  default port 4002, ~12 s; forwards to both above (litellm-embed.yaml)
set -euo pipefail
H=${TARGETS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/oai-targets}; HERE=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: start.sh vllm|llamaserver|litellm [PORT]}
case "$name" in
  vllm)
    P=${2:-8020}
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 VLLM_TARGET_DEVICE=cpu \
    VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_OMP_THREADS_BIND=nobind \
    nohup "$H/vllm-venv/bin/python" -m vllm.entrypoints.openai.api_server --model "$H/models/tiny-llama" \
      --served-model-name tiny-embed --host 127.0.0.1 --port "$P" --api-key sk-test-vllm --dtype float32 \
      --max-model-len 2048 --runner pooling --convert embed >"$H/vllm-embed-$P.log" 2>&1 </dev/null &
    echo $! ;;
  llamaserver)
    P=${2:-8024}
    nohup "$H/llamacpp-build/bin/llama-server" -m "$H/models/tiny-llama-f32.gguf" --alias tiny-embed \
      --host 127.0.0.1 --port "$P" --api-key sk-test-llamaserver --no-webui -c 2048 -t 2 -np 2 \
      --embeddings --pooling mean --override-kv tokenizer.ggml.add_space_prefix=bool:false \
      >"$H/llamaserver-embed-$P.log" 2>&1 </dev/null &
    echo $! ;;
  litellm)
    P=${2:-4002}
    cd "$H"
    LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False DISABLE_ADMIN_UI=True \
    nohup "$H/litellm-venv/bin/litellm" --config "$HERE/litellm-embed.yaml" --host 127.0.0.1 --port "$P" \
      --num_workers 1 >"$H/litellm-embed-$P.log" 2>&1 </dev/null &
    echo $! ;;
  *) echo "usage: start.sh vllm|llamaserver|litellm [PORT]" >&2; exit 2 ;;
esac
