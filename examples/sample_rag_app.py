"""A small retrieval-augmented application: it embeds a few documents and a question with the official openai
SDK (``embeddings.create`` with its default encoding, which is base64), picks the document nearest the question
by dot product (as apps do with unit vectors), and asks the chat model with that document as context. The
suite's tests capture its traffic through ``conformance capture`` and migrate it.

    OPENAI_BASE_URL=http://127.0.0.1:8090/v1 OPENAI_API_KEY=... \\
        python examples/sample_rag_app.py --model gpt-4o --embedding-model text-embedding-3-small
"""

from __future__ import annotations

import argparse

from openai import OpenAI

DOCUMENTS = [
    "The Eiffel Tower is in Paris and was finished in 1889.",
    "The Colosseum in Rome held gladiator fights.",
    "Oslo is the capital of Norway and lies at the head of a fjord.",
]
QUESTION = "When was the Eiffel Tower finished?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--embedding-model", required=True)
    options = parser.parse_args()
    client = OpenAI(max_retries=0, timeout=60)

    stored = client.embeddings.create(model=options.embedding_model, input=DOCUMENTS)
    vectors = [item.embedding for item in sorted(stored.data, key=lambda item: item.index)]
    query = client.embeddings.create(model=options.embedding_model, input=QUESTION).data[0].embedding
    scores = [sum(a * b for a, b in zip(query, vector, strict=True)) for vector in vectors]
    context = DOCUMENTS[scores.index(max(scores))]
    print("retrieved:", context)

    answer = client.chat.completions.create(
        model=options.model,
        messages=[
            {"role": "system", "content": f"Answer from this context only: {context}"},
            {"role": "user", "content": QUESTION},
        ],
        max_tokens=64,
    )
    print("answer:", answer.choices[0].message.content)


if __name__ == "__main__":
    main()
