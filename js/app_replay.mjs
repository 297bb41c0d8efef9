// The tests' own replay of recorded answers through the npm `openai` client, the way a Node app calls it.
//
// Independent of the suite's oracle (conformance/ts_oracle.mjs): it imports the package installed in
// js/node_modules (argv[2] names it: `openai`, or an alias of another release), builds the client an app
// builds, makes the plain SDK call, and makes the first read an app makes of what came back. Reads one JSON
// job a line on stdin (tests/app_replay.py writes them); writes the SDK's version, then one outcome a line.

import { createInterface } from 'node:readline';

const packageName = process.argv[2] ?? 'openai';
const { default: OpenAI } = await import(packageName);
const { VERSION } = await import(`${packageName}/version`);
const { zodResponseFormat } = await import(`${packageName}/helpers/zod`);
const { z } = await import('zod');

const Forecast = z.object({ city: z.enum(['Paris', 'Rome', 'Oslo']), sunny: z.boolean() });
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function clientFor(job) {
  const fetch = async () => {
    const headers = new Headers();
    for (const [name, value] of job.headers) {
      try {
        headers.append(name, value);
      } catch {
        // a header the Fetch API refuses is one no Node app sees
      }
    }
    const chunks = job.chunks.map((chunk) => new Uint8Array(Buffer.from(chunk, 'base64')));
    const body = NULL_BODY.has(job.status)
      ? null
      : new ReadableStream({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(chunk);
            controller.close();
          },
        });
    return new Response(body, { status: job.status, headers });
  };
  return new OpenAI({ apiKey: 'sk-app', baseURL: 'http://app.invalid/v1', fetch, maxRetries: 0, timeout: 10_000 });
}

const chatRead = (completion) => {
  const choice = completion.choices[0];
  const message = choice.message;
  const calls = (message.tool_calls ?? []).map((call) => [call.function.name, call.function.arguments]);
  return { content: message.content, finish_reason: choice.finish_reason, tool_calls: calls };
};

function texts(items) {
  const found = {};
  for (const item of items) {
    for (const choice of item.choices) found[String(choice.index)] = (found[String(choice.index)] ?? '') + choice.text;
  }
  return { texts: found };
}

const CALLS = {
  'models.list': async (c) => {
    const ids = [];
    for await (const model of c.models.list()) ids.push(model.id);
    return { ids };
  },
  'models.retrieve': async (c) => ({ id: (await c.models.retrieve('m')).id }),
  'chat.create': async (c) => chatRead(await c.chat.completions.create({ model: 'm', messages: [] })),
  'chat.parse': async (c) => {
    const completion = await c.chat.completions.parse({ model: 'm', messages: [], response_format: zodResponseFormat(Forecast, 'forecast') });
    return { parsed: completion.choices[0].message.parsed };
  },
  'chat.iterate': async (c) => {
    let chunks = 0;
    let content = '';
    for await (const chunk of await c.chat.completions.create({ model: 'm', messages: [], stream: true })) {
      chunks += 1;
      for (const choice of chunk.choices) if (choice.index === 0 && choice.delta.content) content += choice.delta.content;
    }
    return { chunks, content };
  },
  'chat.stream_helper': async (c) => chatRead(await c.chat.completions.stream({ model: 'm', messages: [] }).finalChatCompletion()),
  'responses.create': async (c) => {
    const response = await c.responses.create({ model: 'm', input: 'text' });
    return { status: response.status, output_text: response.output_text };
  },
  'responses.iterate': async (c) => {
    let events = 0;
    for await (const event of await c.responses.create({ model: 'm', input: 'text', stream: true })) {
      events += 1;
      void event.type;
    }
    return { events };
  },
  'responses.stream_helper': async (c) => {
    const final = await c.responses.stream({ model: 'm', input: 'text' }).finalResponse();
    return { status: final.status, output_text: final.output_text };
  },
  'moderations.create': async (c) => ({ flagged: (await c.moderations.create({ input: 'text' })).results[0].flagged }),
  'embeddings.create': async (c, job) => {
    const body = { model: 'm', input: 'text' };
    if (job.encoding_format !== 'base64') body.encoding_format = job.encoding_format ?? 'float';
    const result = await c.embeddings.create(body);
    return { vectors: result.data.length, length: result.data.length ? result.data[0].embedding.length : null };
  },
  'completions.create': async (c) => texts([await c.completions.create({ model: 'm', prompt: 'text' })]),
  'completions.iterate': async (c) => {
    const items = [];
    for await (const chunk of await c.completions.create({ model: 'm', prompt: 'text', stream: true })) items.push(chunk);
    return texts(items);
  },
};

// the message carries one of the server's words (the first hundred characters, spaces squeezed)
function says(message, words) {
  const flat = message.split(/\s+/).filter(Boolean).join(' ');
  return words.some((word) => flat.includes(word.split(/\s+/).filter(Boolean).join(' ').slice(0, 100)));
}

async function outcome(job) {
  try {
    const value = await CALLS[job.call](clientFor(job), job);
    return { returns: JSON.parse(JSON.stringify(value ?? null)) };
  } catch (error) {
    if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
      return {
        raises: error.constructor.name,
        status: error.status,
        code: error.code ?? null,
        message_has_detail: says(String(error.message), job.words),
      };
    }
    return { raises: error?.constructor?.name ?? typeof error };
  }
}

process.stdout.write(`${JSON.stringify({ version: VERSION })}\n`);
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const job = JSON.parse(line);
  process.stdout.write(`${JSON.stringify({ key: job.key, outcome: await outcome(job) })}\n`);
}
