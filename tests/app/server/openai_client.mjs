// Drives `sieve serve` with the official `openai` npm package (a client
// nobody here wrote): lists the models, a chat completion streamed and not,
// a text completion, and an error surfacing as the SDK's APIError.
// usage: node openai_client.mjs BASE_URL   (e.g. http://127.0.0.1:8080/v1)
// The same checks for `sieve serve` and the desktop app's local server.
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-test-key", maxRetries: 0, timeout: 30000 });

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
assert.deepEqual(ids, ["stories260K"]);
console.log("ok    models.list:", ids.join(", "));

const request = {
  model: ids[0],
  messages: [{ role: "system", content: "You tell stories." }, { role: "user", content: "Once upon a time" }],
  max_tokens: 20,
  seed: 7,
  temperature: 0.7,
};
const whole = await client.chat.completions.create(request);
const reply = whole.choices[0].message.content;
assert.equal(whole.object, "chat.completion");
assert.ok(reply.length > 0);
assert.equal(whole.usage.completion_tokens, 20);
assert.equal(whole.choices[0].finish_reason, "length");
console.log("ok    chat.completions.create:", JSON.stringify(reply), whole.usage);

const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
let streamed = "";
let finish = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? "";
    finish = choice.finish_reason ?? finish;
  }
}
assert.equal(streamed, reply, "the same seed streams the same reply");
assert.equal(finish, "length");
assert.deepEqual(usage, whole.usage);
console.log(`ok    chat.completions.create stream: ${chunks} chunks,`, JSON.stringify(streamed));

const text = await client.completions.create({ model: ids[0], prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
assert.ok(text.choices[0].text.startsWith(", there was"));
assert.equal(text.usage.completion_tokens, 12);
console.log("ok    completions.create:", JSON.stringify(text.choices[0].text));

await assert.rejects(
  client.chat.completions.create({ ...request, temperature: 5 }),
  (error) => error instanceof OpenAI.APIError && error.status === 400 && error.param === "temperature",
);
console.log("ok    a bad request is the SDK's APIError, status 400, param temperature");
console.log("all checks passed");
