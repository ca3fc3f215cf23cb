// Run with the stand-in's environment: aoai-conformance standin -- npm test
import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.AZURE_OPENAI_BASE_URL,
  apiKey: process.env.AZURE_OPENAI_API_KEY,
});
const messages = [{ role: "user", content: "How does rain form?" }];

// Azure sends a first chunk with no choices, and (Asynchronous Filter mode) annotation
// chunks whose choice has no delta: read both defensively.
async function collectText(stream) {
  let text = "";
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? "";
    }
  }
  return text;
}

test("the async-filter stream", async () => {
  const stream = await client.chat.completions.create({
    model: "scenario-async-filter--my-gpt-4o", messages, stream: true,
  });
  assert.equal(await collectText(stream), "Rain forms when water vapor condenses.");
});

test("a throttled request is retried after retry-after-ms", async () => {
  const { data, response } = await client.chat.completions
    .create({ model: "scenario-throttled--my-gpt-4o", messages })
    .withResponse();
  assert.ok(data.choices[0].message.content);
  assert.ok(response.headers.get("apim-request-id"));
});

test("an exhausted quota surfaces as a 429", async () => {
  // openai-node waits any retry-after hint in full: no retries for a day-long hint.
  await assert.rejects(
    client.chat.completions.create(
      { model: "scenario-quota-exhausted-hint--my-gpt-4o", messages },
      { maxRetries: 0 },
    ),
    (error) => error.status === 429 && /86400 seconds/.test(error.message),
  );
});
