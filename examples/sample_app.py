"""A small application of the kind a migration is about: it uses the official openai SDK for a chat,
a stream (with usage), a tool loop (a call, its result sent back, the final answer) and a structured
output (``chat.completions.parse`` with a pydantic model). The suite's tests capture its traffic
through ``conformance capture`` and migrate it (see the README, "Migrating from OpenAI ...").

    OPENAI_BASE_URL=http://127.0.0.1:8090/v1 OPENAI_API_KEY=... python examples/sample_app.py --model gpt-4o
"""

from __future__ import annotations

import argparse
import json
from typing import Literal

from openai import OpenAI
from pydantic import BaseModel

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


class City(BaseModel):
    city: Literal["Paris", "Rome", "Oslo"]
    coastal: bool


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    model = parser.parse_args().model
    client = OpenAI(max_retries=0, timeout=60)

    chat = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hello in one short sentence."}], max_tokens=64
    )
    print("chat:", chat.choices[0].message.content)

    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Count from one to five in words."}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=64,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    print("stream:", text)

    messages: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL], max_tokens=256)
    message = first.choices[0].message
    if message.tool_calls:
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            arguments = json.loads(call.function.arguments)
            result = {"city": arguments.get("city"), "temperature": 18, "unit": "celsius"}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        final = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL], max_tokens=64)
        print("tools:", final.choices[0].message.content)

    parsed = client.chat.completions.parse(
        model=model,
        messages=[{"role": "user", "content": "Describe the city of Rome as JSON."}],
        response_format=City,
        max_tokens=512,
    )
    print("structured:", parsed.choices[0].message.parsed)


if __name__ == "__main__":
    main()
