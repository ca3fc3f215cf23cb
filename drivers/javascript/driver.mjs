// aoai-conformance driver (protocol v2) for the openai JavaScript SDK.
//
// Reads one JSON object per line on stdin ({"type":"run"|"shutdown"}), performs each scenario
// with the SDK's public API exactly as the doc's samples do, and writes one JSON object per
// line on stdout (hello, outcome, driver_error). Logs go to stderr. See docs/driver-protocol.md.

import { AsyncLocalStorage } from "node:async_hooks";
import dns from "node:dns";
import { createInterface } from "node:readline";
import OpenAI, { AzureOpenAI } from "openai";
import { VERSION } from "openai/version";
import { getBearerTokenProvider } from "@azure/identity";
import { HttpsProxyAgent } from "https-proxy-agent";
import { ProxyAgent } from "undici";

const PROTOCOL = 2;

// Nothing leaves loopback: a host name the driver would look up (an https URL an SDK reaches
// without the runner's proxy) is refused before any query leaves the machine. Every URL a
// scenario gives is 127.0.0.1 or goes through the loopback CONNECT proxy, so nothing else
// is looked up unless a release ignores the proxy.
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1"]);
const lookup = dns.lookup;
dns.lookup = function guardedLookup(host, options, callback) {
  if (LOOPBACK_NAMES.has(String(host).toLowerCase())) return lookup.call(this, host, options, callback);
  const done = typeof options === "function" ? options : callback;
  log(`refused to look up ${host}: nothing leaves loopback`);
  const error = new Error(`the driver refuses to look up ${host}: nothing leaves loopback`);
  error.code = "EAI_FAIL";
  process.nextTick(done, error);
};

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function log(...parts) {
  process.stderr.write(`[js-driver] ${parts.join(" ")}\n`);
}

// A TokenCredential (the @azure/core-auth interface) that never leaves the process: it hands
// out the scenario's tokens in order, repeating the last, and records each call's scopes.
class FakeCredential {
  constructor(tokens, calls, expiresInS) {
    this.tokens = tokens.length ? tokens : ["fake-token"];
    this.calls = calls;
    this.expiresInS = expiresInS;
  }

  async getToken(scopes) {
    const list = Array.isArray(scopes) ? [...scopes] : [scopes];
    const token = this.tokens[Math.min(this.calls.length, this.tokens.length - 1)];
    this.calls.push({ scopes: list });
    return { token, expiresOnTimestamp: Date.now() + this.expiresInS * 1000, tokenType: "Bearer" };
  }
}

// The construction (docs/driver-protocol.md): the client the user built, with their
// arguments only. new OpenAI({baseURL, apiKey, defaultQuery}) reads OPENAI_BASE_URL and
// OPENAI_API_KEY where an argument is missing; new AzureOpenAI({endpoint | baseURL,
// apiVersion, deployment, apiKey | azureADTokenProvider}) reads AZURE_OPENAI_ENDPOINT,
// OPENAI_API_VERSION, AZURE_OPENAI_API_KEY and OPENAI_BASE_URL. The driver sets the
// construction's variables in process.env while the scenario runs (setEnvironment).
function constructedClient(construction, client, auth, tokenCalls, providerCalls) {
  const azure = construction.client === "azure";
  if (!azure && (construction.endpoint != null || construction.api_version != null
                 || construction.deployment != null)) {
    throw new DriverError("endpoint, api_version and deployment are AzureOpenAI's arguments");
  }
  const options = {};
  if (construction.base_url != null) options.baseURL = construction.base_url;
  if (construction.endpoint != null) options.endpoint = construction.endpoint;
  if (construction.api_version != null) options.apiVersion = construction.api_version;
  if (construction.deployment != null) options.deployment = construction.deployment;
  if (construction.api_version_query != null) {
    options.defaultQuery = { "api-version": construction.api_version_query };
  }
  if (auth.kind === "key") {
    options.apiKey = auth.key;
  } else if (auth.kind === "token_provider") {
    const counted = countedProvider(auth, tokenCalls, providerCalls);
    if (azure) options.azureADTokenProvider = counted;
    else options.apiKey = counted;
  } else if (auth.kind !== "none") { // none: the SDK reads its key variable, or has none
    throw new DriverError(`unknown auth kind ${JSON.stringify(auth.kind)}`);
  }
  // The network layer only: an https URL (an Azure host) goes through the runner's loopback
  // CONNECT proxy; the URL may come from an argument or from the environment.
  const proxy = process.env.HTTPS_PROXY ?? process.env.https_proxy;
  const urls = [construction.base_url, construction.endpoint, process.env.OPENAI_BASE_URL,
                process.env.AZURE_OPENAI_ENDPOINT];
  if (client.max_retries != null) options.maxRetries = client.max_retries;
  if (client.timeout_ms != null) options.timeout = client.timeout_ms;
  const make = (given) => (azure ? new AzureOpenAI(given) : new OpenAI(given));
  return urls.some((u) => String(u ?? "").startsWith("https:"))
    ? throughProxy(make, options, proxy) : make(options);
}

// The network layer only: the client's https requests go through the runner's loopback
// CONNECT proxy, as a proxy is configured for openai-node: fetchOptions.dispatcher (an undici
// ProxyAgent), or, for a release before 5.0 that takes no fetchOptions (its fetch is
// node-fetch), httpAgent (an https-proxy-agent). Without a proxy the request could only leave
// loopback: a driver error, the harness's problem.
function throughProxy(make, options, proxy) {
  if (!proxy) throw new DriverError("an https URL without the runner's HTTPS_PROXY");
  const built = make({ ...options, fetchOptions: { dispatcher: proxyAgent(proxy) } });
  if ("fetchOptions" in built) return built;
  return make({ ...options, httpAgent: new HttpsProxyAgent(proxy) });
}

// The doc's sample: getBearerTokenProvider(credential, scope), given to the client; each call
// the SDK makes to it is counted (provider_calls) with its token per call of the scenario,
// apart from the credential's.
function countedProvider(auth, tokenCalls, providerCalls) {
  const provider = getBearerTokenProvider(
    new FakeCredential(auth.tokens ?? [], tokenCalls, auth.expires_in_s ?? 3600),
    auth.scope,
  );
  return async () => {
    providerCalls.count += 1;
    const token = await provider();
    const n = currentCall.getStore() ?? 0;
    (providerCalls.byCall[n] ??= []).push(token);
    return token;
  };
}

// Sets the construction's environment variables; returns what restores the previous ones.
function setEnvironment(values) {
  const saved = {};
  for (const [name, value] of Object.entries(values ?? {})) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function clientFor(scenario, tokenCalls, providerCalls) {
  const options = { baseURL: scenario.base_url };
  const client = scenario.client ?? {};
  const auth = client.auth ?? { kind: "key", key: "conformance-key" };
  if (client.construction) {
    return constructedClient(client.construction, client, auth, tokenCalls, providerCalls);
  }
  if (auth.kind === "key") {
    options.apiKey = auth.key;
  } else if (auth.kind === "token_provider") {
    options.apiKey = countedProvider(auth, tokenCalls, providerCalls);
  } else {
    throw new DriverError(`unknown auth kind ${JSON.stringify(auth.kind)}`);
  }
  if (client.max_retries != null) options.maxRetries = client.max_retries;
  if (client.timeout_ms != null) options.timeout = client.timeout_ms;
  const forced = mutantMaxRetries();
  if (forced != null) options.maxRetries = forced;
  const make = (given) => new OpenAI(given);
  return String(scenario.base_url).startsWith("https:")
    ? throughProxy(make, options, process.env.HTTPS_PROXY ?? process.env.https_proxy)
    : make(options);
}

let agent = null;
function proxyAgent(url) {
  if (agent === null || agent.url !== url) agent = { url, dispatcher: new ProxyAgent(url) };
  return agent.dispatcher;
}

function requestOptions(operation, signal) {
  const given = operation.request_options ?? {};
  const options = { signal };
  if (given.max_retries != null) options.maxRetries = given.max_retries;
  if (given.timeout_ms != null) options.timeout = given.timeout_ms;
  return options;
}

// A misbehaving SDK build for the suite's own tests (never set in a real run):
// AOAI_CONFORMANCE_DRIVER_MUTANT=max_retries:N makes every client retry N times.
function mutantMaxRetries() {
  const found = /^max_retries:(\d+)$/.exec(process.env.AOAI_CONFORMANCE_DRIVER_MUTANT ?? "");
  return found ? Number(found[1]) : null;
}

class DriverError extends Error {}

// Which of a scenario's calls (operation.repeat) is running: the apiKey function reads it to
// note the tokens it returned for that call.
const currentCall = new AsyncLocalStorage();

// Each operation: the SDK call as the doc's sample makes it. Returns {result, read}; `read`
// holds the values the doc's samples read, through the SDK's own properties.
const OPERATIONS = {
  async "chat.completions.create"(client, params, options) {
    const { data, request_id } = await client.chat.completions.create(params, options)
      .withResponse();
    return {
      result: data,
      read: { content: data.choices?.[0]?.message?.content ?? null, usage: readChatUsage(data.usage),
              request_id: data._request_id ?? null, response_request_id: request_id ?? null },
    };
  },
  async "chat.completions.stream"(client, params, options, events, obtained) {
    const { data: stream, request_id } = await client.chat.completions
      .create({ ...params, stream: true }, options).withResponse();
    obtained();
    const deltas = [];
    for await (const chunk of stream) {
      events.push(chunk);
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) deltas.push(delta); // what the sample writes out
    }
    return { result: null, read: { deltas, text: deltas.join(""), request_id: null,
                                   response_request_id: request_id ?? null } };
  },
  // The async doc loop: openai-node has one client and every call is async already, so the
  // doc's loop is the same `for await` as chat.completions.stream (no other client to judge).
  async "chat.completions.stream_async"(client, params, options, events, obtained) {
    return OPERATIONS["chat.completions.stream"](client, params, options, events, obtained);
  },
  // The SDK's stream helper, client.chat.completions.stream(params): its events (content.delta,
  // content.done, tool_calls.function.arguments.done, chunk) and finalChatCompletion().
  async "chat.completions.stream_helper"(client, params, options, events, obtained) {
    const stream = client.chat.completions.stream(params, options);
    obtained();
    const deltas = [];
    const done = [];
    const toolCallsDone = [];
    let chunks = 0;
    stream.on("chunk", () => { chunks += 1; });
    stream.on("content.delta", ({ delta }) => { if (delta) deltas.push(delta); });
    stream.on("content.done", ({ content }) => { done.push(content); });
    stream.on("tool_calls.function.arguments.done", ({ index, name, arguments: args }) => {
      toolCallsDone.push({ index, name, arguments: args });
    });
    for await (const chunk of stream) events.push(chunk);
    const final = await stream.finalChatCompletion();
    const choice = final.choices?.[0];
    return { result: final, read: {
      helper: "client.chat.completions.stream", deltas, text: deltas.join(""), done,
      tool_calls_done: toolCallsDone, chunks, content: choice?.message?.content ?? null,
      finish_reason: choice?.finish_reason ?? null, request_id: null } };
  },
  async "responses.create"(client, params, options) {
    const { data, request_id } = await client.responses.create(params, options).withResponse();
    return {
      result: data,
      read: { output_text: typeof data.output_text === "string" ? data.output_text : null,
              ...readResponse(data),
              request_id: data._request_id ?? null, response_request_id: request_id ?? null },
    };
  },
  async "responses.stream"(client, params, options, events, obtained) {
    const { data: stream, request_id } = await client.responses
      .create({ ...params, stream: true }, options).withResponse();
    obtained();
    const deltas = [];
    for await (const event of stream) {
      events.push(event);
      // The doc's loop: if (event.type === 'response.output_text.delta' && event.delta) ...
      if (event.type === "response.output_text.delta" && event.delta) deltas.push(event.delta);
    }
    return { result: null, read: { deltas, text: deltas.join(""), request_id: null,
                                   response_request_id: request_id ?? null } };
  },
  // The doc's error-handling example (Python / Error handling): a fine-tuning job.
  async "fine_tuning.jobs.create"(client, params, options) {
    const { data, request_id } = await client.fineTuning.jobs.create(params, options)
      .withResponse();
    return {
      result: data,
      read: { request_id: data._request_id ?? null, response_request_id: request_id ?? null },
    };
  },
  async "embeddings.create"(client, params, options) {
    const { data, request_id } = await client.embeddings.create(params, options).withResponse();
    return {
      result: data,
      read: { embedding: data.data?.[0]?.embedding ?? null,
              // Every vector and its index, and the usage, as user code reads them.
              embeddings: (data.data ?? []).map((item) => item.embedding ?? null),
              indices: (data.data ?? []).map((item) => item.index ?? null),
              usage: data.usage == null ? null : { prompt_tokens: data.usage.prompt_tokens ?? null,
                                                   total_tokens: data.usage.total_tokens ?? null },
              request_id: data._request_id ?? null, response_request_id: request_id ?? null },
    };
  },
};

// A completion's usage as user code reads it, with the reasoning tokens of a reasoning model.
function readChatUsage(usage) {
  if (usage == null) return null;
  return { prompt_tokens: usage.prompt_tokens ?? null,
           completion_tokens: usage.completion_tokens ?? null,
           total_tokens: usage.total_tokens ?? null,
           reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? null };
}

// What user code reads from a Response (docs/driver-protocol.md, read): the response's own
// fields, each output item's fields by its type, the usage with its reasoning tokens, and the
// content_filters Azure adds (JavaScript keeps unknown fields on the object).
function readResponse(data) {
  const items = (data.output ?? []).map((item) => {
    const read = { type: item.type ?? null, id: item.id ?? null };
    if (item.type === "reasoning") {
      read.summary = (item.summary ?? []).map((s) => ({ type: s.type ?? null, text: s.text ?? null }));
      read.encrypted_content = item.encrypted_content ?? null;
    } else if (item.type === "mcp_list_tools") {
      read.server_label = item.server_label ?? null;
      read.tools = (item.tools ?? []).map((t) => ({ name: t.name ?? null,
                                                    input_schema: t.input_schema ?? null }));
    } else if (item.type === "mcp_call" || item.type === "mcp_approval_request") {
      for (const name of ["server_label", "name", "arguments"]) read[name] = item[name] ?? null;
      if (item.type === "mcp_call") {
        for (const name of ["output", "error", "status"]) read[name] = item[name] ?? null;
      }
    }
    return read;
  });
  const usage = data.usage;
  return {
    response: { id: data.id ?? null, object: data.object ?? null, status: data.status ?? null,
                model: data.model ?? null, created_at: data.created_at ?? null,
                incomplete_reason: data.incomplete_details?.reason ?? null },
    output_items: items,
    usage: usage == null ? null : {
      input_tokens: usage.input_tokens ?? null, output_tokens: usage.output_tokens ?? null,
      total_tokens: usage.total_tokens ?? null,
      reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? null },
    content_filters: data.content_filters ?? null,
  };
}

function classChain(error) {
  const names = [];
  let proto = Object.getPrototypeOf(error);
  while (proto && proto !== Object.prototype) {
    names.push(proto.constructor?.name ?? "?");
    proto = Object.getPrototypeOf(proto);
  }
  return names; // nearest first, the class itself at [0]
}

function describeError(error, inStream) {
  const chain = classChain(error);
  let kind = "other";
  if (error instanceof OpenAI.APIConnectionTimeoutError) kind = "timeout";
  else if (error instanceof OpenAI.APIConnectionError) kind = "connection";
  else if (error instanceof OpenAI.APIError && error.status != null) kind = "status";
  else if (inStream) kind = "stream";
  const code = error?.code ?? null;
  return {
    kind,
    class: chain[0] ?? "Error",
    bases: chain.slice(1),
    status: typeof error?.status === "number" ? error.status : null,
    code,
    code_type: code === null ? "null" : typeof code === "number" ? "number" : "string",
    param: error?.param ?? null,
    type: error?.type ?? null,
    message: String(error?.message ?? error),
    request_id: error?.requestID ?? null,
  };
}

async function run(id, scenario) {
  const started = Date.now();
  const tokenCalls = [];
  const providerCalls = { count: 0, byCall: [] };
  const events = [];
  const operation = scenario.operation ?? {};
  const perform = OPERATIONS[operation.name];
  if (!perform) {
    send({ type: "driver_error", id, message: `unknown operation ${JSON.stringify(operation.name)}` });
    return;
  }
  const streaming = operation.name.includes(".stream");
  const construction = scenario.client?.construction;
  const restore = setEnvironment(construction?.environment);
  try {
    await performScenario(id, scenario, operation, perform, streaming, started, tokenCalls,
      providerCalls, events);
  } finally {
    restore();
  }
}

async function performScenario(id, scenario, operation, perform, streaming, started,
  tokenCalls, providerCalls, events) {
  let client;
  let refused = null; // the SDK refused the construction itself: the outcome's error
  try {
    client = clientFor(scenario, tokenCalls, providerCalls);
  } catch (error) {
    if (!scenario.client?.construction || error instanceof DriverError) {
      send({ type: "driver_error", id, message: `could not build the client: ${error.message}` });
      return;
    }
    refused = error;
    client = null;
  }
  const abort = new AbortController();
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve("deadline"), scenario.deadline_ms ?? 30000);
  });
  let result = null;
  let read = {};
  let error = null;
  let obtained = false; // the stream object was returned: later errors are stream errors
  // `repeat` calls on the one client, one after the other or all at once (`concurrent`),
  // call n with params_each[n] where given: the last call's result, the first error any call
  // raised (docs/driver-protocol.md).
  const repeat = Math.max(1, Number(operation.repeat ?? 1));
  const call = (n) => currentCall.run(n, () => perform(client,
    (Array.isArray(operation.params_each) ? operation.params_each[n] : operation.params) ?? {},
    requestOptions(operation, abort.signal), events, () => { obtained = true; }));
  const work = (async () => {
    if (refused !== null) throw refused;
    const settled = [];
    if (operation.concurrent) {
      settled.push(...await Promise.allSettled(Array.from({ length: repeat }, (_, n) => call(n))));
    } else {
      for (let n = 0; n < repeat; n += 1) {
        events.length = 0; // the outcome's events are the last call's
        settled.push(...await Promise.allSettled([call(n)]));
      }
    }
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    return settled[settled.length - 1].value;
  })();
  try {
    const winner = await Promise.race([work, deadline]);
    if (winner === "deadline") {
      abort.abort();
      work.catch(() => {});
      error = { ...describeError(new Error("driver deadline"), false), kind: "other",
                message: "driver deadline" };
    } else {
      result = winner.result;
      read = winner.read;
    }
  } catch (caught) {
    error = describeError(caught, streaming && (obtained || events.length > 0));
  } finally {
    clearTimeout(timer);
  }
  send({
    type: "outcome",
    id,
    outcome: {
      result: result === null ? null : JSON.parse(JSON.stringify(result)),
      events: streaming ? JSON.parse(JSON.stringify(events)) : [],
      error,
      // The result's _request_id; a stream has only the id .withResponse() hands out.
      request_id: (streaming ? read.response_request_id : read.request_id) ?? null,
      read: JSON.parse(JSON.stringify(read)),
      token_calls: tokenCalls,
      ...(scenario.client?.auth?.kind === "token_provider"
        ? { provider_calls: providerCalls.count,
            calls: Array.from({ length: repeat },
              (_, n) => ({ provider_tokens: providerCalls.byCall[n] ?? [] })) }
        : {}),
      sdk_retry_count: null,
      ...(scenario.client?.construction ? { constructed: true } : {}),
      elapsed_ms: Date.now() - started,
    },
  });
}

async function main() {
  send({
    type: "hello",
    protocol: PROTOCOL,
    sdk: "javascript",
    sdk_version: VERSION,
    runtime: `node ${process.version}`,
  });
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let message;
    try {
      message = JSON.parse(line);
    } catch (error) {
      send({ type: "driver_error", id: null, message: `not JSON: ${error.message}` });
      continue;
    }
    if (message.type === "shutdown") break;
    if (message.type !== "run") {
      send({ type: "driver_error", id: message.id ?? null,
             message: `unknown message type ${JSON.stringify(message.type)}` });
      continue;
    }
    try {
      await run(message.id, message.scenario ?? {});
    } catch (error) {
      log("scenario failed:", error?.stack ?? String(error));
      send({ type: "driver_error", id: message.id, message: String(error?.message ?? error) });
    }
  }
  process.exit(0);
}

main().catch((error) => {
  log("fatal:", error?.stack ?? String(error));
  process.exit(1);
});
