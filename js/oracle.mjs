// The TypeScript client (npm `openai`) as an oracle of the conformance suite.
//
// One process per run: it reads one JSON request a line on stdin and writes one JSON answer a line
// on stdout. A request names what user code would do (`kind`) and gives the recorded response
// (status, headers, body chunks in base64, in order); the SDK is handed those bytes through its
// `fetch` option, so nothing goes over the network, and the answer says what user code would have
// got: the value it reads, or the error class and message it would catch.
//
// Bundled with esbuild into conformance/ts_oracle.mjs (see js/package.json: `npm ci && npm run build`).

import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { createInterface } from 'node:readline';
import { VERSION } from 'openai/version';

// the zod twin of the pydantic model the Python oracle parses with (conformance.checks.structured_output.Forecast)
const Forecast = z.object({ city: z.enum(['Paris', 'Rome', 'Oslo']), sunny: z.boolean() });

// the SDK would decode these itself; the recorded body is already decoded
const TRANSPORT_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding']);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const MAX_DETAIL = 300;

function replayed(request) {
  return async () => {
    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (!TRANSPORT_HEADERS.has(name.toLowerCase())) {
        try {
          headers.append(name, value);
        } catch {
          // a header the Fetch API refuses is one no Node app would see either
        }
      }
    }
    const chunks = request.chunks.map((chunk) => Buffer.from(chunk, 'base64'));
    const body = NULL_BODY.has(request.status)
      ? null
      : new ReadableStream({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
            controller.close();
          },
        });
    return new Response(body, { status: request.status, headers });
  };
}

// one client for the process: requests are judged one at a time, and each call reads the response
// of the request being judged (building a client is a fifth of the SDK's time per answer)
let current = null;
const shared = new OpenAI({
  apiKey: 'sk-oracle',
  baseURL: 'http://sdk-oracle.invalid/v1',
  fetch: (...args) => replayed(current)(...args),
  maxRetries: 0,
  timeout: 10_000,
});

function client(request) {
  current = request;
  return shared;
}

function oneLine(text) {
  const line = String(text ?? '').split(/\s+/).join(' ').trim();
  return line.length <= MAX_DETAIL ? line : `${line.slice(0, MAX_DETAIL - 1)}…`;
}

function thrown(error) {
  const name = error?.constructor?.name ?? typeof error;
  const answer = { ok: false, raised: name, detail: oneLine(error?.message ?? error) };
  if (error instanceof OpenAI.APIError) {
    answer.status = error.status ?? null;
    answer.error = error.error ?? null;
    answer.code = error.code ?? null;
    answer.code_type = error.code === undefined || error.code === null ? null : typeof error.code;
  }
  return answer;
}

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

// what user code reads first from each kind of answer: a value without it makes that code throw
function readable(kind, value) {
  if (kind === 'model') return isObject(value) && typeof value.id === 'string' ? null : 'no model id to read';
  if (kind === 'model-list') return Array.isArray(value) ? null : 'no list of models to iterate';
  if (kind === 'moderation') return isObject(value) && Array.isArray(value.results) ? null : 'no results to read';
  if (kind === 'chat-completion') {
    if (!isObject(value) || !Array.isArray(value.choices)) return 'no choices to read';
    if (value.choices.length === 0) return 'no choice to read (choices is empty): choices[0] is undefined';
    if (!value.choices.every((choice) => isObject(choice) && isObject(choice.message))) return 'a choice without a message';
    return null;
  }
  // a Responses app reads response.output (and the output_text convenience the SDK adds from it)
  if (kind === 'response') {
    if (!isObject(value) || !Array.isArray(value.output)) return 'no output items to read';
    if (typeof value.output_text !== 'string') return 'no output_text (the SDK could not join the message text)';
    return null;
  }
  return null;
}

function summary(completion) {
  const choice = completion?.choices?.[0];
  const message = choice?.message ?? {};
  return {
    // what `completion.choices[0].message` finds: a Node app's first read of the final completion
    first_choice: isObject(choice) && isObject(choice.message),
    content: message.content ?? null,
    role: message.role ?? null,
    finish_reason: choice?.finish_reason ?? null,
    tool_calls: (message.tool_calls ?? []).map((call) => ({
      id: call.id ?? null,
      type: call.type ?? null,
      name: call.function?.name ?? null,
      arguments: call.function?.arguments ?? null,
    })),
    usage: completion?.usage ?? null,
    // the thinking fields the final message holds (the helper keeps fields it does not know as it merges deltas)
    thinking: Object.fromEntries(
      ['reasoning_content', 'reasoning'].filter((name) => typeof message[name] === 'string').map((name) => [name, message[name]]),
    ),
  };
}

const CALLS = {
  model: (sdk) => sdk.models.retrieve('model'),
  'model-list': async (sdk) => (await sdk.models.list()).data,
  moderation: (sdk) => sdk.moderations.create({ input: 'text' }),
  'chat-completion': (sdk) => sdk.chat.completions.create({ model: 'model', messages: [] }),
  response: (sdk) => sdk.responses.create({ model: 'model', input: 'text' }),
};

async function judge(request) {
  const { kind } = request;
  if (kind === 'error') {
    try {
      await client(request).models.retrieve('model');
    } catch (error) {
      // user code finds the server's reason in err.error.message (the SDK unwraps the body's `error`)
      const reason = error instanceof OpenAI.APIError && !(error instanceof OpenAI.APIConnectionError) ? error.error : null;
      const ok = isObject(reason) && typeof reason.message === 'string' && reason.message.length > 0;
      const answer = thrown(error);
      if (!ok && answer.raised !== null && error instanceof OpenAI.APIError) {
        answer.detail = `${answer.detail}; no error message where the SDK looks (err.error.message)`;
      }
      return { ...answer, ok };
    }
    return { ok: false, raised: null, detail: 'raises no error: the response reads as a success' };
  }
  if (kind === 'chat-completion-stream') return judgeStream(request);
  if (kind === 'response-stream') return judgeResponseStream(request);
  if (kind === 'embedding') return judgeEmbedding(request);
  if (kind === 'completion' || kind === 'completion-stream') return judgeCompletion(request);
  if (kind === 'parse') {
    try {
      const completion = await client(request).chat.completions.parse({
        model: 'model',
        messages: [],
        response_format: zodResponseFormat(Forecast, 'forecast'),
      });
      const parsed = completion.choices?.[0]?.message?.parsed ?? null;
      if (parsed === null) return { ok: false, raised: null, detail: 'returns no parsed object (message.parsed is null)' };
      return { ok: true, raised: null, detail: 'parsed', value: parsed };
    } catch (error) {
      return thrown(error);
    }
  }
  const call = CALLS[kind];
  if (call === undefined) return { ok: false, raised: 'UnknownKind', detail: `no call for ${kind}` };
  try {
    const value = await call(client(request));
    const problem = readable(kind, value);
    if (problem !== null) return { ok: false, raised: 'TypeError', detail: `the SDK returns ${oneLine(JSON.stringify(value))}: ${problem}` };
    return { ok: true, raised: null, detail: 'parsed' };
  } catch (error) {
    return thrown(error);
  }
}

// the numbers of one vector handed back (at most this many each, and in all): enough to compare with the float answer
const MAX_NUMBERS = 4096;
const MAX_ALL_NUMBERS = 32768;

function vectorOf(item, room) {
  const value = isObject(item) ? item.embedding : undefined;
  if (!Array.isArray(value)) return { index: item?.index ?? null, type: typeof value, length: null, values: [] };
  const shown = value.slice(0, Math.max(0, Math.min(MAX_NUMBERS, room)));
  // NaN and the infinities have no JSON form: they come back as strings
  const values = shown.map((number) => (typeof number === 'number' && Number.isFinite(number) ? number : String(number)));
  return { index: item.index ?? null, type: 'array', length: value.length, values };
}

// embeddings.create() as an app calls it: with no encoding_format where the request asked for base64 (the SDK's
// default, which it then decodes), with the request's own otherwise; the vectors it hands the app come back
async function judgeEmbedding(request) {
  const body = { model: 'model', input: 'text' };
  if (request.encoding_format !== 'base64') body.encoding_format = request.encoding_format ?? 'float';
  try {
    const value = await client(request).embeddings.create(body);
    if (!isObject(value) || !Array.isArray(value.data)) {
      return { ok: false, raised: 'TypeError', detail: `the SDK returns ${oneLine(JSON.stringify(value))}: no data to read` };
    }
    let room = MAX_ALL_NUMBERS;
    const vectors = value.data.map((item) => {
      const vector = vectorOf(item, room);
      room -= vector.values.length;
      return vector;
    });
    return { ok: true, raised: null, detail: 'parsed', vectors };
  } catch (error) {
    return thrown(error);
  }
}

// the text of each choice, joined by index the way a Node app joins them: a text that is not a string is
// concatenated as JavaScript does (undefined becomes the text "undefined"), which is what the app gets
function addTexts(texts, value) {
  const choices = isObject(value) && Array.isArray(value.choices) ? value.choices : null;
  if (choices === null) return `no choices to read: ${oneLine(JSON.stringify(value))}`;
  for (const choice of choices) {
    if (!isObject(choice)) return `a choice that is not an object: ${oneLine(JSON.stringify(choice))}`;
    const key = String(choice.index);
    texts[key] = (texts[key] ?? '') + choice.text;
  }
  return null;
}

// legacy completions.create() as an app calls it, with stream: true where the request streamed; a usage chunk
// (choices: []) reads as no text
async function judgeCompletion(request) {
  const texts = {};
  try {
    if (request.kind === 'completion') {
      const value = await client(request).completions.create({ model: 'model', prompt: 'text' });
      const problem = addTexts(texts, value);
      if (problem !== null) return { ok: false, raised: 'TypeError', detail: `the SDK returns ${problem}` };
      return { ok: true, raised: null, detail: 'parsed', texts };
    }
    let count = 0;
    const stream = await client(request).completions.create({ model: 'model', prompt: 'text', stream: true });
    for await (const chunk of stream) {
      count += 1;
      const problem = addTexts(texts, chunk);
      if (problem !== null) return { ok: false, raised: 'TypeError', detail: `chunk ${count} has ${problem}`, chunks: count };
    }
    return { ok: true, raised: null, detail: 'read', chunks: count, texts };
  } catch (error) {
    return thrown(error);
  }
}

// a stream, read the two ways a Node app reads one: the async iterator of create({stream: true}),
// and the stream helper (ChatCompletionStream) with finalChatCompletion()
async function judgeStream(request) {
  const answer = { ok: true, raised: null, detail: 'read', chunks: 0 };
  try {
    const stream = await client(request).chat.completions.create({ model: 'model', messages: [], stream: true });
    for await (const chunk of stream) {
      answer.chunks += 1;
      if (!isObject(chunk)) {
        Object.assign(answer, { ok: false, raised: 'TypeError', detail: `a chunk that is not an object: ${oneLine(JSON.stringify(chunk))}` });
        break;
      }
    }
  } catch (error) {
    Object.assign(answer, thrown(error), { chunks: answer.chunks });
  }
  try {
    const helper = client(request).chat.completions.stream({ model: 'model', messages: [] });
    const completion = await helper.finalChatCompletion();
    answer.helper = { ok: true, raised: null, detail: 'final chat completion', final: summary(completion) };
  } catch (error) {
    answer.helper = thrown(error);
  }
  return answer;
}

// a Responses stream, read as a Node app reads one: the async iterator of create({stream: true}), and
// the ResponseStream helper, whose finalResponse() assembles the events (and throws on events that do
// not fit: a delta for an item never added, a stream without response.completed)
async function judgeResponseStream(request) {
  const answer = { ok: true, raised: null, detail: 'read', chunks: 0 };
  try {
    const stream = await client(request).responses.create({ model: 'model', input: 'text', stream: true });
    for await (const event of stream) {
      answer.chunks += 1;
      if (!isObject(event) || typeof event.type !== 'string') {
        Object.assign(answer, { ok: false, raised: 'TypeError', detail: `an event without a type: ${oneLine(JSON.stringify(event))}` });
        break;
      }
    }
  } catch (error) {
    Object.assign(answer, thrown(error), { chunks: answer.chunks });
  }
  try {
    const final = await client(request).responses.stream({ model: 'model', input: 'text' }).finalResponse();
    answer.helper = { ok: true, raised: null, detail: 'final response', final: { status: final?.status ?? null, output_text: final?.output_text ?? null } };
  } catch (error) {
    answer.helper = thrown(error);
  }
  return answer;
}

function describe() {
  return { version: VERSION, node: process.versions.node, parse_format: zodResponseFormat(Forecast, 'forecast') };
}

// Requests marked `later` are a backlog, judged while the caller has nothing to ask; any other
// request is judged first, and takes its backlog twin (same `key`) out of the queue.
const urgent = [];
const backlog = [];
let closed = false;
let wake = null;

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ id: null, ok: false, raised: 'BadRequest', detail: oneLine(error.message) })}\n`);
    return;
  }
  if (request.later) {
    backlog.push(request);
  } else {
    const twin = request.key === undefined ? -1 : backlog.findIndex((queued) => queued.key === request.key);
    if (twin >= 0) backlog.splice(twin, 1);
    urgent.push(request);
  }
  wake?.();
});
lines.on('close', () => {
  closed = true;
  wake?.();
});

for (;;) {
  const request = urgent.shift() ?? backlog.shift();
  if (request === undefined) {
    if (closed) break;
    await new Promise((resolve) => {
      wake = resolve;
    });
    wake = null;
    continue;
  }
  let answer;
  try {
    answer = request.kind === 'describe' ? describe() : await judge(request);
  } catch (error) {
    answer = { ok: false, raised: 'OracleError', detail: oneLine(error?.stack ?? error) };
  }
  process.stdout.write(`${JSON.stringify({ id: request.id, key: request.key ?? null, ...answer })}\n`);
}
