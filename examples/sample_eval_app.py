"""A small evaluation harness, as lm-evaluation-harness scores a model through the legacy completions endpoint:
it asks for the log probability of each answer's tokens after a question (``echo`` with ``logprobs`` and
``max_tokens`` 1), picks the likeliest answer, and writes a few greedy completions for two prompts at once. The
suite's tests capture its traffic through ``conformance capture`` and migrate it.

    OPENAI_BASE_URL=http://127.0.0.1:8090/v1 OPENAI_API_KEY=... python examples/sample_eval_app.py --model MODEL
"""

from __future__ import annotations

import argparse

from openai import OpenAI

QUESTION = "Question: What is the capital of Norway?\nAnswer:"
ANSWERS = [" Oslo", " Rome"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    options = parser.parse_args()
    client = OpenAI(max_retries=0, timeout=60)

    scores = []
    for answer in ANSWERS:
        scored = client.completions.create(
            model=options.model, prompt=QUESTION + answer, echo=True, logprobs=1, max_tokens=1, temperature=0
        )
        logprobs = scored.choices[0].logprobs
        offsets, values = logprobs.text_offset or [], logprobs.token_logprobs or []
        # the answer's tokens: those that start at or after the question's end
        scores.append(sum(v for o, v in zip(offsets, values, strict=False) if o >= len(QUESTION) and v is not None))
    print("likeliest:", ANSWERS[scores.index(max(scores))].strip())

    written = client.completions.create(
        model=options.model, prompt=["Once upon a time", "The weather today"], n=2, max_tokens=12, temperature=0
    )
    for choice in sorted(written.choices, key=lambda choice: choice.index):
        print(choice.index, choice.text)


if __name__ == "__main__":
    main()
