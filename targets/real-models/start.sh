#!/usr/bin/env bash
# Start one real server with a real instruct model, SmolLM2-135M-Instruct, on 127.0.0.1 in the background and print
# its PID (stop it with: kill PID). The GGUF comes from a PyPI package (../shared/targets/real_models.sh, into
# $TARGETS_HOME/models); vLLM reads the Hugging Face folder hf_from_gguf.py makes of it (`start.sh convert` first).
# Usage: start.sh llamaserver|llamacpp-python|convert|vllm [PORT]
#   llamaserver      key sk-test-llamaserver,     default port 8030, --jinja, two slots, ready at once
#   llamacpp-python  key sk-test-llamacpp-python, default port 8032, one request at a time, ready in seconds
#                    (its venv: python3 -m venv $H/llamacpp-python-venv, then pip install 'llama-cpp-python[server]')
#   convert          $H/models/smollm2-hf from the GGUF, with vLLM's venv (setup.sh vllm), gguf and accelerate
#   vllm             key sk-test-vllm,            default port 8033, ready after 1-4 min
set -euo pipefail
H=${TARGETS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/oai-targets}; HERE=$(cd "$(dirname "$0")" && pwd)
GGUF="$H/models/smollm2-135m-instruct.gguf"
name=${1:?usage: start.sh llamaserver|llamacpp-python|convert|vllm [PORT]}
case "$name" in
  llamaserver)
    P=${2:-8030}
    nohup "$H/llamacpp-build/bin/llama-server" -m "$GGUF" --alias smollm2 --host 127.0.0.1 --port "$P" \
      --api-key sk-test-llamaserver --jinja --no-webui -c 4096 -t 2 -np 2 >"$H/smollm2-llamaserver-$P.log" 2>&1 </dev/null &
    echo $! ;;
  llamacpp-python)
    P=${2:-8032}
    nohup "$H/llamacpp-python-venv/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias smollm2 \
      --host 127.0.0.1 --port "$P" --api_key sk-test-llamacpp-python --n_ctx 4096 --n_threads 2 \
      >"$H/smollm2-llamacpp-python-$P.log" 2>&1 </dev/null &
    echo $! ;;
  convert)
    "$H/vllm-venv/bin/pip" install -q gguf accelerate
    "$H/vllm-venv/bin/python" "$HERE/hf_from_gguf.py" "$GGUF" "$H/models/smollm2-hf" ;;
  vllm)
    P=${2:-8033}
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 VLLM_TARGET_DEVICE=cpu \
    VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_OMP_THREADS_BIND=nobind VLLM_ENABLE_RESPONSES_API_STORE=1 \
    nohup "$H/vllm-venv/bin/python" -m vllm.entrypoints.openai.api_server --model "$H/models/smollm2-hf" \
      --served-model-name smollm2 --host 127.0.0.1 --port "$P" --api-key sk-test-vllm --dtype float32 \
      --max-model-len 4096 --enable-auto-tool-choice --tool-call-parser hermes \
      >"$H/smollm2-vllm-$P.log" 2>&1 </dev/null &
    echo $! ;;
  *) echo "usage: start.sh llamaserver|llamacpp-python|convert|vllm [PORT]" >&2; exit 2 ;;
esac
