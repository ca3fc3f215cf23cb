"""The catalogue of broken JavaScript, Go and Java SDK builds the audit scores
(``benchmarks/driver_mutants.py``; a few of them are tests: tests/test_driver_mutants.py).

One row per broken build: its id, the SDK, the category of the issue-18 audit it stands for,
the edit of the *installed SDK's* code (never of the driver) and what user code then sees.
An edit is data: for JavaScript and Go ``(file, text found exactly once, its replacement)``
(each Go edit guarded by ``mutantOn(its id)``, so one compile of openai-go holds them all);
for Java a ``JarPatcher.java`` patch of one SDK class (``KIND:Class#method:ARGUMENT``). An
edit whose text is not found exactly once stops the build (``_edit``): a catalogue that no
longer fits the pinned SDK says so instead of scoring an unbroken build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.drivers import build as driver_build

from . import go, java, javascript

# The issue's categories (issue 18, "Done when"), plus the request id the issue's text lists.
CATEGORIES = (
    "backoff",          # no exponential backoff between attempts
    "realistic-hint",   # an Azure-sized Retry-After (seconds) refused, misread or ignored
    "typed-field",      # a typed value the doc's samples read is not decoded
    "stream-text",      # the text a streaming loop prints is emptied
    "token-provider",   # the Entra token provider called once per client, not per request
    "azure-url",        # the doc's *.openai.azure.com/openai/v1 URL routed elsewhere
    "dropped-param",    # a parameter the doc's code passes dropped by the request type
    "request-id",       # a request-id accessor broken
)

Edit = tuple[str, str, str]
GO_RETRY = "internal/requestconfig/requestconfig.go"
JS_CLIENT = "client.mjs"


@dataclass(frozen=True)
class Mutant:
    """One broken build of an SDK."""

    id: str
    sdk: str
    category: str
    edits: tuple[Edit, ...] | tuple[str, ...]  # source edits (js, go) or jar patches (java)
    sees: str  # what user code sees that the pinned release does not do

    def build(self, directory: Path) -> driver_build.Built:
        """The broken build (Go and Java kept in the mutant cache; JavaScript in
        ``directory``)."""
        if self.sdk == "javascript":
            return javascript(directory, self.edits)  # type: ignore[arg-type]
        if self.sdk == "go":  # one build with every Go row, this one switched on
            edits = [e for m in CATALOGUE if m.sdk == "go" for e in m.edits]
            return go(directory, edits, files=GO_SWITCH_FILES,  # type: ignore[arg-type]
                      run_env={"AOAI_SDK_MUTANT": self.id})
        return java(directory, self.edits)  # type: ignore[arg-type]


def _js(id_: str, category: str, sees: str, *edits: Edit) -> Mutant:
    return Mutant(f"javascript-{id_}", "javascript", category, edits, sees)


def _go(id_: str, category: str, sees: str, *edits: Edit) -> Mutant:
    mutant_id = f"go-{id_}"
    return Mutant(mutant_id, "go", category,
                  tuple((f, old, new.replace("mutantOn(ID)", f'mutantOn("{mutant_id}")'))
                        for f, old, new in edits),
                  sees)


def _after(path: str, anchor: str, added: str) -> Edit:
    """An edit that keeps ``anchor`` and adds lines after it (so other rows may add there)."""
    return (path, anchor, anchor + added)


def _decoded(path: str, type_name: str, statement: str) -> Edit:
    """After ``type_name``'s UnmarshalJSON has run, ``statement`` undoes one field."""
    return _after(path, f"func (r *{type_name}) UnmarshalJSON(data []byte) error {{\n",
                  f"\tdefer func() {{\n\t\tif mutantOn(ID) {{\n\t\t\t{statement}\n"
                  "\t\t}\n\t}()\n")


GO_BACKOFF = "\tbackoff := 0.5 * float64(time.Second) * math.Pow(2, float64(retryCount))\n"
# The switch each edited package gets: one build of openai-go carries every Go row, each off
# unless the driver process is started with AOAI_SDK_MUTANT set to its id.
GO_SWITCH = """package {package}

import "os"

// mutantOn reports whether the broken behaviour named id is switched on (AOAI_SDK_MUTANT).
func mutantOn(id string) bool {{ return os.Getenv("AOAI_SDK_MUTANT") == id }}
"""
GO_SWITCH_FILES = {f"{folder}/aoai_mutant_switch.go": GO_SWITCH.format(package=package)
                   for folder, package in ((".", "openai"), ("responses", "responses"),
                                           ("internal/requestconfig", "requestconfig"),
                                           ("internal/apierror", "apierror"))}


def _java(id_: str, category: str, sees: str, *patches: str) -> Mutant:
    return Mutant(f"java-{id_}", "java", category, patches, sees)


JAVA_RETRY = "com/openai/core/http/RetryingHttpClient"

CATALOGUE: Sequence[Mutant] = (
    # -- JavaScript (openai-node: node_modules/openai, one .mjs file edited) -----------------
    _js("backoff-removed", "backoff", "a retry without a hint follows at once (no 0.5 s backoff)",
        (JS_CLIENT, "const initialRetryDelay = 0.5;", "const initialRetryDelay = 0;")),
    _js("backoff-not-exponential", "backoff",
        "every retry without a hint waits about 0.5 s: the backoff does not double",
        (JS_CLIENT, "Math.pow(2, numRetries)", "Math.pow(1, numRetries)")),
    _js("hint-5s-refused", "realistic-hint",
        "a 429 carrying a hint of 5 s or more is raised at once, not retried",
        (JS_CLIENT, "if (retriesRemaining && shouldRetry && !hasStreamingBody) {",
         "if (retriesRemaining && shouldRetry && !hasStreamingBody && !(parseFloat("
         "response.headers.get('retry-after') ?? '0') >= 5 || parseFloat(response.headers"
         ".get('retry-after-ms') ?? '0') >= 5000)) {")),
    _js("retry-after-ms-ignored", "realistic-hint",
        "retry-after-ms is not read: the backoff (or retry-after) times the retry",
        (JS_CLIENT, "responseHeaders?.get('retry-after-ms')",
         "responseHeaders?.get('retry-after-ms-unread')")),
    _js("retry-after-seconds-as-ms", "realistic-hint",
        "retry-after: 5 waits 5 ms, not 5 s",
        (JS_CLIENT, "timeoutMillis = timeoutSeconds * 1000;", "timeoutMillis = timeoutSeconds;")),
    _js("output-text-emptied", "typed-field", "response.output_text is ''",
        ("lib/ResponsesParser.mjs", "rsp.output_text = texts.join('');", "rsp.output_text = '';")),
    _js("embedding-base64-misread", "typed-field",
        "the default (base64) embedding decodes to other floats (big-endian)",
        ("internal/utils/base64.mjs",
         "return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / "
         "Float32Array.BYTES_PER_ELEMENT));",
         "return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatBE(i * 4));")),
    _js("responses-stream-delta-emptied", "stream-text",
        "each Responses stream event's delta is '' (the doc's loop prints nothing)",
        ("core/streaming.mjs", "yield synthesizeEventData ? { event: sse.event, data } : data;",
         "if (data && typeof data.delta === 'string') data.delta = '';\n"
         "                        yield synthesizeEventData ? { event: sse.event, data } : data;")),
    _js("chat-stream-content-emptied", "stream-text",
        "each chat chunk's delta.content is '' (the streaming loop prints nothing)",
        ("core/streaming.mjs", "yield synthesizeEventData ? { event: sse.event, data } : data;",
         "if (data?.choices?.[0]?.delta?.content) data.choices[0].delta.content = '';\n"
         "                        yield synthesizeEventData ? { event: sse.event, data } : data;")),
    _js("token-once-per-client", "token-provider",
        "the apiKey function (getBearerTokenProvider) is called once per client; retries and "
        "later requests reuse its first token",
        (JS_CLIENT,
         "const apiKey = this._options.apiKey;\n        if (typeof apiKey !== 'function')",
         "const apiKey = this._options.apiKey;\n        if (this.apiKey)\n            return false;"
         "\n        if (typeof apiKey !== 'function')")),
    _js("azure-deployment-path", "azure-url",
        "on an *.openai.azure.com host, /openai/v1/X goes to /openai/deployments/gpt-4o/X"
        "?api-version=2024-10-21",
        (JS_CLIENT, "            url.search = this.stringifyQuery(query);\n        }\n"
         "        return url.toString();",
         "            url.search = this.stringifyQuery(query);\n        }\n"
         "        if (url.hostname.endsWith('.openai.azure.com')) {\n"
         "            url.pathname = url.pathname.replace('/openai/v1/', "
         "'/openai/deployments/gpt-4o/');\n"
         "            url.searchParams.set('api-version', '2024-10-21');\n        }\n"
         "        return url.toString();")),
    _js("max-tokens-dropped", "dropped-param",
        "chat.completions.create sends no max_tokens",
        ("resources/chat/completions/completions.mjs",
         "return this._client.post('/chat/completions', {\n            body,",
         "return this._client.post('/chat/completions', {\n"
         "            body: (({ max_tokens, ...rest }) => rest)(body),")),
    _js("request-id-dropped", "request-id", "data._request_id is undefined",
        ("internal/parse.mjs", "value: response.headers.get('x-request-id'),",
         "value: undefined,")),
    _js("request-id-from-apim", "request-id",
        "data._request_id falls back to Azure's apim-request-id when x-request-id is absent",
        ("internal/parse.mjs", "value: response.headers.get('x-request-id'),",
         "value: response.headers.get('x-request-id') ?? "
         "response.headers.get('apim-request-id'),")),
    _js("with-response-request-id-dropped", "request-id",
        "withResponse().request_id is null",
        ("core/api-promise.mjs", "request_id: response.headers.get('x-request-id') };",
         "request_id: null };")),
    _js("error-request-id-dropped", "request-id", "an APIError's requestID is undefined",
        ("core/error.mjs", "this.requestID = headers?.get('x-request-id');",
         "this.requestID = undefined;")),
    # -- Go (openai-go: the module copied with every row's edit, built once; each edit is
    # switched on by the row's id, mutantOn(ID): one compile of openai-go serves them all) ----
    _go("backoff-removed", "backoff", "a retry without a hint follows at once",
        _after(GO_RETRY, GO_BACKOFF, "\tif mutantOn(ID) {\n\t\tbackoff = 0\n\t}\n")),
    _go("backoff-not-exponential", "backoff",
        "every retry without a hint waits about 0.5 s: the backoff does not double",
        _after(GO_RETRY, GO_BACKOFF,
               "\tif mutantOn(ID) {\n\t\tbackoff = 0.5 * float64(time.Second)\n\t}\n")),
    _go("hint-5s-refused", "realistic-hint",
        "a Retry-After over 4 s is refused (the 429 is returned), not only over 2 min",
        _after(GO_RETRY, "\tif maxDelay <= 0 {\n\t\tmaxDelay = defaultMaxRetryAfterDelay\n\t}\n",
               "\tif mutantOn(ID) {\n\t\tmaxDelay = 4 * time.Second\n\t}\n")),
    _go("retry-after-ms-ignored", "realistic-hint", "retry-after-ms is not read",
        _after(GO_RETRY, "\t\tv := resp.Header.Get(retry.header)\n",
               '\t\tif mutantOn(ID) && retry.header == "Retry-After-Ms" {\n\t\t\tv = ""\n\t\t}\n')),
    _go("retry-after-seconds-as-ms", "realistic-hint", "retry-after: 5 waits 5 ms",
        (GO_RETRY, "units:  time.Second,",
         "units: func() time.Duration {\n\t\t\t\tif mutantOn(ID) {\n\t\t\t\t\treturn "
         "time.Millisecond\n\t\t\t\t}\n\t\t\t\treturn time.Second\n\t\t\t}(),")),
    _go("content-not-decoded", "typed-field",
        "Choices[0].Message.Content is '' (RawJSON() still has it)",
        _decoded("chatcompletion.go", "ChatCompletionMessage", 'r.Content = ""')),
    _go("completion-id-not-decoded", "typed-field", "ChatCompletion.ID is ''",
        _decoded("chatcompletion.go", "ChatCompletion", 'r.ID = ""')),
    _go("usage-not-decoded", "typed-field", "ChatCompletion.Usage.TotalTokens is 0",
        _decoded("chatcompletion.go", "ChatCompletion", "r.Usage = CompletionUsage{}")),
    _go("output-text-emptied", "typed-field", "Response.OutputText() is ''",
        _after("responses/response_helpers.go", "func (r Response) OutputText() string {\n",
               '\tif mutantOn(ID) {\n\t\treturn ""\n\t}\n')),
    _go("response-status-not-decoded", "typed-field", "Response.Status is ''",
        _decoded("responses/response.go", "Response", 'r.Status = ""')),
    _go("embedding-not-decoded", "typed-field", "Data[0].Embedding is empty",
        _decoded("embedding.go", "Embedding", "r.Embedding = nil")),
    _go("error-code-not-decoded", "typed-field", "an *openai.Error's Code is ''",
        _decoded("internal/apierror/apierror.go", "Error", 'r.Code = ""')),
    _go("responses-stream-delta-not-decoded", "stream-text",
        "a Responses stream event's Delta is '' (the loop prints nothing)",
        _decoded("responses/response.go", "ResponseStreamEventUnion", 'r.Delta = ""')),
    _go("chat-stream-content-not-decoded", "stream-text",
        "a chat chunk's Choices[0].Delta.Content is ''",
        _decoded("chatcompletion.go", "ChatCompletionChunkChoiceDelta", 'r.Content = ""')),
    _go("azure-deployment-path", "azure-url",
        "on an *.openai.azure.com host, /openai/v1/X goes to /openai/deployments/gpt-4o/X"
        "?api-version=2024-10-21",
        _after(GO_RETRY, '\tcfg.Request.URL, err = cfg.BaseURL.Parse(strings.TrimLeft('
               'cfg.Request.URL.String(), "/"))\n\tif err != nil {\n\t\treturn err\n\t}\n',
               '\tif mutantOn(ID) && strings.HasSuffix(cfg.Request.URL.Hostname(), '
               '".openai.azure.com") {\n'
               '\t\tcfg.Request.URL.Path = strings.Replace(cfg.Request.URL.Path, "/openai/v1/", '
               '"/openai/deployments/gpt-4o/", 1)\n'
               '\t\tcfg.Request.URL.RawQuery = "api-version=2024-10-21"\n\t}\n')),
    _go("max-tokens-dropped", "dropped-param", "ChatCompletionNewParams.MaxTokens is not sent",
        _after("chatcompletion.go",
               "func (r ChatCompletionNewParams) MarshalJSON() (data []byte, err error) {\n",
               "\tif mutantOn(ID) {\n\t\tr.MaxTokens = param.Opt[int64]{}\n\t}\n")),
    _go("responses-input-dropped", "dropped-param", "ResponseNewParams.Input is not sent",
        _after("responses/response.go",
               "func (r ResponseNewParams) MarshalJSON() (data []byte, err error) {\n",
               "\tif mutantOn(ID) {\n\t\tr.Input = ResponseNewParamsInputUnion{}\n\t}\n")),
    # Before response-into-unset, whose edit replaces the line after this anchor.
    _go("request-id-from-apim", "request-id",
        "the x-request-id the caller reads through option.WithResponseInto falls back to "
        "Azure's apim-request-id",
        _after(GO_RETRY, "\tif cfg.ResponseInto != nil {\n",
               '\t\tif mutantOn(ID) && res != nil && res.Header.Get("X-Request-Id") == "" {\n'
               '\t\t\tres.Header.Set("X-Request-Id", res.Header.Get("Apim-Request-Id"))\n'
               "\t\t}\n")),
    _go("response-into-unset", "request-id",
        "option.WithResponseInto leaves the *http.Response nil (no x-request-id to read)",
        (GO_RETRY, "\t\t*cfg.ResponseInto = res\n",
         "\t\tif !mutantOn(ID) {\n\t\t\t*cfg.ResponseInto = res\n\t\t}\n")),
    # -- Java (openai-java: driver.jar with one SDK class rewritten by ASM) ------------------
    _java("backoff-removed", "backoff", "a retry without a hint follows at once",
          f"swap-constant:{JAVA_RETRY}#getRetryBackoffDuration:0.5=0.0"),
    _java("backoff-not-exponential", "backoff",
          "every retry without a hint waits about 0.5 s: the backoff does not double",
          f"swap-constant:{JAVA_RETRY}#getRetryBackoffDuration:2.0=1.0"),
    _java("hint-clamped-4s", "realistic-hint",
          "an Azure 5 s hint is cut to 4 s (the release clamps at 8 s)",
          f"swap-constant:{JAVA_RETRY}#<clinit>:8=4"),
    _java("retry-after-ms-ignored", "realistic-hint", "Retry-After-Ms is not read",
          f"swap-constant:{JAVA_RETRY}#getRetryBackoffDuration:Retry-After-Ms=Retry-After-Unread"),
    _java("content-empty", "typed-field", "choices().get(0).message().content() is empty",
          "empty-optional:com/openai/models/chat/completions/ChatCompletionMessage#content"),
    _java("completion-id-empty", "typed-field", "ChatCompletion.id() is ''",
          "return-constant:com/openai/models/chat/completions/ChatCompletion#id:"),
    _java("usage-total-zero", "typed-field", "CompletionUsage.totalTokens() is 0",
          "return-constant:com/openai/models/completions/CompletionUsage#totalTokens:0"),
    _java("output-text-empty", "typed-field",
          "a response message part's outputText() is empty",
          "empty-optional:com/openai/models/responses/ResponseOutputMessage$Content#outputText"),
    _java("responses-stream-delta-empty", "stream-text",
          "a Responses stream event's outputTextDelta() is empty",
          "empty-optional:com/openai/models/responses/ResponseStreamEvent#outputTextDelta"),
    _java("chat-stream-content-empty", "stream-text",
          "a chat chunk's choices().get(0).delta().content() is empty",
          "empty-optional:com/openai/models/chat/completions/ChatCompletionChunk$Choice$Delta"
          "#content"),
    _java("token-once-per-client", "token-provider",
          "BearerTokenCredential asks its supplier once and keeps that token for the client",
          "memoize-field:com/openai/credential/BearerTokenCredential#token:tokenSupplier"),
    _java("azure-routed-as-legacy", "azure-url",
          "every Azure host is treated as a legacy one: /openai/deployments/{model}/..."
          "?api-version=...",
          "swap-static:com/openai/azure/AzureUrlCategory$Companion#categorizeBaseUrl:"
          "com/openai/azure/AzureUrlCategory.AZURE_UNIFIED=AZURE_LEGACY"),
    _java("max-tokens-dropped", "dropped-param", "the chat body's max_tokens is not sent",
          "return-static:com/openai/models/chat/completions/ChatCompletionCreateParams$Body"
          "#_maxTokens:com/openai/core/JsonMissing.of:()Lcom/openai/core/JsonMissing;"),
    _java("request-id-empty", "request-id", "HttpResponseFor.requestId() is empty",
          "empty-optional:com/openai/core/http/HttpResponse#requestId"),
    _java("request-id-from-apim", "request-id",
          "HttpResponseFor.requestId() reads Azure's apim-request-id, not x-request-id",
          "swap-constant:com/openai/core/http/HttpResponse#requestId:x-request-id="
          "apim-request-id"),
)


def by_id(mutant_id: str) -> Mutant:
    [found] = [m for m in CATALOGUE if m.id == mutant_id]
    return found


__all__ = ["CATALOGUE", "CATEGORIES", "Mutant", "by_id"]
