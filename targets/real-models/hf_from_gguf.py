"""A Hugging Face folder from a GGUF file, for servers that read only that form (vLLM, transformers serve).

    python hf_from_gguf.py MODEL.gguf OUT_DIR

transformers reads the GGUF (the weights dequantised to float32, the tokenizer and the chat template the file
carries) and saves it as safetensors with its tokenizer files. Run it with the interpreter of vLLM's venv (it has
transformers and torch); it needs the ``gguf`` and ``accelerate`` packages too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig


def convert(gguf: Path, out: Path) -> None:
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    unpacked = GgufConfig(dequantize=True)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, quantization_config=unpacked, dtype=torch.float32
    )
    # unpacked into plain float32 weights, the model is still marked as GGUF-quantised, which save_pretrained refuses
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if not tokenizer.chat_template:
        raise SystemExit(f"{gguf} carries no chat template: a chat server would answer with a guessed one")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: hf_from_gguf.py MODEL.gguf OUT_DIR")
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
