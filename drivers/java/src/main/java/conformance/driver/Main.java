package conformance.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.azure.AzureOpenAIServiceVersion;
import com.openai.azure.credential.AzureApiKeyCredential;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.core.RequestOptions;
import com.openai.core.http.AsyncStreamResponse;
import com.openai.core.http.Headers;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.credential.BearerTokenCredential;
import com.openai.errors.OpenAIIoException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.SseException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.Embedding;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.finetuning.jobs.FineTuningJob;
import com.openai.models.finetuning.jobs.JobCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseOutputMessage;
import com.openai.models.responses.ResponseReasoningItem;
import com.openai.models.responses.ResponseStreamEvent;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The aoai-conformance driver (protocol v2) for openai-java.
 *
 * <p>Reads one JSON object per line on stdin ({"type":"run"|"shutdown"}), performs each scenario
 * with the SDK's public API as the doc's Java samples do, and writes one JSON object per line on
 * stdout (hello, outcome, driver_error). Logs go to stderr. See docs/driver-protocol.md.
 */
public final class Main {
  private static final int PROTOCOL = 2;
  private static final ObjectMapper MAPPER = ObjectMappers.jsonMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final PrintStream OUT =
      new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
          StandardCharsets.UTF_8);
  private static final ExecutorService WORKERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "scenario");
    t.setDaemon(true);
    return t;
  });

  /** Which of a scenario's calls (operation.repeat) this thread performs. */
  private static final ThreadLocal<Integer> CURRENT_CALL = new ThreadLocal<>();

  private Main() {}

  /** The SDK cannot do what the scenario asks (an option it does not have). */
  static final class Unsupported extends RuntimeException {
    Unsupported(String message) {
      super(message);
    }
  }

  /** The scenario itself is wrong for this driver (unknown operation, params that do not fit). */
  static final class BadScenario extends RuntimeException {
    BadScenario(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static synchronized void send(ObjectNode message) {
    try {
      OUT.println(MAPPER.writeValueAsString(message));
    } catch (Exception e) {
      System.err.println("[java-driver] cannot write: " + e);
      System.exit(1);
    }
  }

  /**
   * A bearer-token supplier that never leaves the process: it stands for the doc's
   * getBearerTokenSupplier(credential, scope), hands out the scenario's tokens in order
   * (repeating the last) and records each call with the scope it was made for.
   */
  static final class FakeTokenSupplier implements Supplier<String> {
    private final List<String> tokens;
    private final String scope;
    final List<List<String>> calls = Collections.synchronizedList(new ArrayList<>());
    /** The tokens handed out while each of the scenario's calls ran (operation.repeat). */
    final java.util.Map<Integer, List<String>> byCall = new java.util.TreeMap<>();

    FakeTokenSupplier(List<String> tokens, String scope) {
      this.tokens = tokens.isEmpty() ? List.of("fake-token") : tokens;
      this.scope = scope;
    }

    @Override
    public String get() {
      synchronized (calls) {
        String token = tokens.get(Math.min(calls.size(), tokens.size() - 1));
        calls.add(List.of(scope));
        Integer n = CURRENT_CALL.get();
        byCall.computeIfAbsent(n == null ? 0 : n, k -> new ArrayList<>()).add(token);
        return token;
      }
    }
  }

  /**
   * The virtual clock (docs/driver-protocol.md): where the release has the public
   * OpenAIOkHttpClient.Builder.sleeper(Sleeper), a sleeper that keeps each delay the SDK asks
   * it to wait before a retry and returns at once. A retry scenario then takes no wall time and
   * its delays are the SDK's own numbers, as openai-python's virtual clock keeps them. Looked up
   * by reflection, a capability probed and not assumed: a release without it still builds the
   * driver, and its delays are timed at the wire.
   */
  static final class VirtualClock implements java.lang.reflect.InvocationHandler {
    final List<Double> delays = Collections.synchronizedList(new ArrayList<>());

    static VirtualClock install(OpenAIOkHttpClient.Builder builder) {
      try {
        Class<?> sleeper = Class.forName("com.openai.core.Sleeper");
        java.lang.reflect.Method set =
            OpenAIOkHttpClient.Builder.class.getMethod("sleeper", sleeper);
        VirtualClock clock = new VirtualClock();
        set.invoke(builder, java.lang.reflect.Proxy.newProxyInstance(
            sleeper.getClassLoader(), new Class<?>[] {sleeper}, clock));
        return clock;
      } catch (ReflectiveOperationException e) {
        return null;
      }
    }

    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) {
      switch (method.getName()) {
        case "sleep":
          delays.add(((Duration) args[0]).toNanos() / 1e9);
          return null;
        case "sleepAsync":
          delays.add(((Duration) args[0]).toNanos() / 1e9);
          return java.util.concurrent.CompletableFuture.completedFuture(null);
        case "close":
          return null;
        case "hashCode":
          return System.identityHashCode(proxy);
        case "equals":
          return proxy == args[0];
        case "toString":
          return "VirtualClock";
        default:
          throw new UnsupportedOperationException(method.getName());
      }
    }
  }

  private static Integer optInt(JsonNode node, String field) {
    JsonNode value = node == null ? null : node.get(field);
    return value == null || value.isNull() ? null : value.asInt();
  }

  /**
   * The environment variables openai-java's fromEnv() reads through a system property first
   * ("System properties take precedence over environment variables"): a JVM cannot change its
   * own environment, so the driver sets the property fromEnv() reads for that variable.
   */
  private static final Map<String, String> ENV_PROPERTIES = Map.of(
      "OPENAI_BASE_URL", "openai.baseUrl",
      "OPENAI_API_KEY", "openai.apiKey",
      "OPENAI_ORG_ID", "openai.orgId",
      "OPENAI_PROJECT_ID", "openai.projectId");

  private static String optText(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  /**
   * The construction (docs/driver-protocol.md): OpenAIOkHttpClient.builder() (or
   * builder().fromEnv() when the user's environment is part of it) with baseUrl(...);
   * the Azure client is the same builder given AzureApiKeyCredential and
   * azureServiceVersion(...), openai-java choosing its Azure paths by the URL's host.
   */
  private static OpenAIOkHttpClient.Builder constructed(JsonNode construction, JsonNode auth,
      FakeTokenSupplier[] supplier) {
    boolean azure = construction.path("client").asText("openai").equals("azure");
    if (optText(construction, "deployment") != null) {
      throw new Unsupported("openai-java has no deployment option (the deployment is the body's model)");
    }
    if (!azure && optText(construction, "api_version") != null) {
      throw new BadScenario("api_version is the Azure client's argument", null);
    }
    JsonNode environment = construction.path("environment");
    List<String> set = new ArrayList<>();
    OpenAIOkHttpClient.Builder builder;
    try {
      for (Iterator<String> names = environment.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        String property = ENV_PROPERTIES.get(name);
        if (property == null) {
          throw new Unsupported("the JVM cannot set " + name + " in its own environment, and "
              + "fromEnv() reads no system property for it");
        }
        System.setProperty(property, environment.get(name).asText());
        set.add(property);
      }
      builder = OpenAIOkHttpClient.builder();
      if (construction.path("from_environment").asBoolean(false) || environment.size() > 0) {
        builder.fromEnv();
      }
    } finally {
      set.forEach(System::clearProperty);
    }
    String baseUrl = optText(construction, "base_url");
    String endpoint = optText(construction, "endpoint");
    if (baseUrl != null) {
      builder.baseUrl(baseUrl);
    } else if (endpoint != null) {
      builder.baseUrl(endpoint); // openai-java's one URL: the Azure endpoint is the base URL
    }
    String version = optText(construction, "api_version");
    if (version != null) {
      builder.azureServiceVersion(AzureOpenAIServiceVersion.fromString(version));
    }
    String query = optText(construction, "api_version_query");
    if (query != null) {
      builder.putQueryParam("api-version", query);
    }
    String kind = auth.path("kind").asText("key");
    if (kind.equals("key")) {
      String key = auth.path("key").asText("conformance-key");
      if (azure) {
        builder.credential(AzureApiKeyCredential.create(key));
      } else {
        builder.apiKey(key);
      }
    } else if (kind.equals("token_provider")) {
      List<String> tokens = new ArrayList<>();
      auth.path("tokens").forEach(t -> tokens.add(t.asText()));
      supplier[0] = new FakeTokenSupplier(tokens, auth.path("scope").asText());
      builder.credential(BearerTokenCredential.create(supplier[0]));
    } else if (!kind.equals("none")) {
      throw new BadScenario("unknown auth kind " + kind, null);
    }
    return builder;
  }

  private static OpenAIClient clientFor(JsonNode scenario, FakeTokenSupplier[] supplier,
      VirtualClock[] clock) {
    JsonNode client = scenario.path("client");
    JsonNode auth = client.path("auth");
    String kind = auth.path("kind").asText("key");
    JsonNode construction = client.get("construction");
    OpenAIOkHttpClient.Builder builder;
    if (construction != null && construction.isObject()) {
      builder = constructed(construction, auth, supplier);
    } else {
      builder = OpenAIOkHttpClient.builder().baseUrl(scenario.path("base_url").asText());
      if (kind.equals("key")) {
        builder.apiKey(auth.path("key").asText("conformance-key"));
      } else if (kind.equals("token_provider")) {
        List<String> tokens = new ArrayList<>();
        auth.path("tokens").forEach(t -> tokens.add(t.asText()));
        supplier[0] = new FakeTokenSupplier(tokens, auth.path("scope").asText());
        builder.credential(BearerTokenCredential.create(supplier[0]));
      } else {
        throw new BadScenario("unknown auth kind " + kind, null);
      }
    }
    Integer retries = optInt(client, "max_retries");
    // A misbehaving SDK build for the suite's own tests (never set in a real run):
    // AOAI_CONFORMANCE_DRIVER_MUTANT=max_retries:N makes every client retry N times.
    String mutant = System.getenv("AOAI_CONFORMANCE_DRIVER_MUTANT");
    if (mutant != null && mutant.matches("max_retries:\\d+")) {
      retries = Integer.valueOf(mutant.substring("max_retries:".length()));
    }
    if (retries != null) {
      builder.maxRetries(retries);
    }
    Integer timeout = optInt(client, "timeout_ms");
    if (timeout != null) {
      builder.timeout(Duration.ofMillis(timeout));
    }
    clock[0] = VirtualClock.install(builder);
    return builder.build();
  }

  /**
   * The scenario's client option {"async": true}: the same client's async view,
   * client.async() (OpenAIClientAsync, its own retry loop), for chat.completions.create; what
   * the future fails with is what the caller's get() unwraps.
   */
  private static void performAsync(OpenAIClient client, JsonNode operation, Performed p)
      throws Exception {
    String name = operation.path("name").asText();
    if (!name.equals("chat.completions.create")) {
      throw new BadScenario("the async client performs chat.completions.create only, not "
          + name, null);
    }
    ChatCompletionCreateParams body = ChatCompletionCreateParams.builder()
        .body(params(operation, ChatCompletionCreateParams.Body.class)).build();
    noteDropped(operation.path("params"), body._body(), p);
    HttpResponseFor<ChatCompletion> raw;
    try {
      raw = client.async().chat().completions().withRawResponse()
          .create(body, requestOptions(operation)).get();
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException
          && e.getCause().getCause() != null ? e.getCause().getCause() : e.getCause();
      if (cause instanceof Exception) {
        throw (Exception) cause;
      }
      throw e;
    }
    ChatCompletion completion = raw.parse();
    p.requestId = requestId(raw);
    p.result = MAPPER.valueToTree(completion);
    p.read.put("content", completion.choices().isEmpty() ? null
        : completion.choices().get(0).message().content().orElse(null));
  }

  private static RequestOptions requestOptions(JsonNode operation) {
    JsonNode given = operation.path("request_options");
    if (optInt(given, "max_retries") != null) {
      throw new Unsupported("openai-java has no per-request max retries (RequestOptions has "
          + "timeout and responseValidation only)");
    }
    RequestOptions.Builder builder = RequestOptions.builder();
    Integer timeout = optInt(given, "timeout_ms");
    if (timeout != null) {
      builder.timeout(Duration.ofMillis(timeout));
    }
    return builder.build();
  }

  /** The top-level params the SDK's request type did not keep (an observation, not re-added). */
  private static void noteDropped(JsonNode given, Object body, Performed p) {
    JsonNode kept = MAPPER.valueToTree(body);
    given.fieldNames().forEachRemaining(name -> {
      if (!kept.has(name)) {
        System.err.println("[java-driver] params." + name + " not kept by the SDK's type");
        p.dropped.add(name);
      }
    });
  }

  private static <T> T params(JsonNode operation, Class<T> type) {
    try {
      return MAPPER.treeToValue(operation.path("params"), type);
    } catch (Exception e) {
      throw new BadScenario("params do not fit " + type.getName() + ": " + e.getMessage(), e);
    }
  }

  /** The request id as openai-java hands it to the caller: {@code requestId()}. */
  private static String requestId(HttpResponseFor<?> raw) {
    return raw.requestId().orElse(null);
  }

  private static String requestId(Headers headers) {
    List<String> values = headers.values("x-request-id");
    return values.isEmpty() ? null : values.get(0);
  }

  /** What an operation produced; filled as it goes, so a stream's events survive an error. */
  static final class Performed {
    JsonNode result = NullNode.getInstance();
    final ArrayNode events = NODES.arrayNode();
    /** What the doc's samples read, through the SDK's typed accessors. */
    final ObjectNode read = NODES.objectNode();
    final StringBuilder text = new StringBuilder();
    final ArrayNode dropped = NODES.arrayNode();
    String requestId;
    volatile boolean inStream;
  }

  private static void perform(OpenAIClient client, JsonNode operation, Performed p)
      throws Exception {
    String name = operation.path("name").asText();
    switch (name) {
      case "chat.completions.create": {
        ChatCompletionCreateParams body = ChatCompletionCreateParams.builder()
            .body(params(operation, ChatCompletionCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        HttpResponseFor<ChatCompletion> raw =
            client.chat().completions().withRawResponse().create(body, requestOptions(operation));
        ChatCompletion completion = raw.parse();
        p.requestId = requestId(raw);
        p.result = MAPPER.valueToTree(completion);
        // The typed id and usage the checks compare (the result is Jackson's view of the
        // fields, not what the accessors return).
        p.read.put("id", completion.id());
        completion.usage().ifPresent(u -> p.read.put("total_tokens", u.totalTokens()));
        // The value the chat samples print: choices().get(0).message().content().
        p.read.put("content", completion.choices().isEmpty() ? null
            : completion.choices().get(0).message().content().orElse(null));
        p.read.set("usage", readChatUsage(completion));
        return;
      }
      case "chat.completions.stream": {
        ChatCompletionCreateParams body = ChatCompletionCreateParams.builder()
            .body(params(operation, ChatCompletionCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw = client.chat().completions()
            .withRawResponse().createStreaming(body, requestOptions(operation));
        p.requestId = requestId(raw);
        ArrayNode deltas = p.read.putArray("deltas");
        try (StreamResponse<ChatCompletionChunk> stream = raw.parse()) {
          p.inStream = true;
          stream.stream().forEach(chunk -> {
            p.events.add(MAPPER.valueToTree(chunk));
            if (!chunk.choices().isEmpty()) {
              chunk.choices().get(0).delta().content().filter(d -> !d.isEmpty()).ifPresent(d -> {
                deltas.add(d);
                p.text.append(d);
              });
            }
          });
        }
        p.read.put("text", p.text.toString());
        return;
      }
      case "chat.completions.stream_helper": {
        // openai-java's stream helper as its README uses it: every chunk of createStreaming goes
        // to a ChatCompletionAccumulator, the loop prints each chunk's delta().content(), and
        // chatCompletion() is the final completion. It has no content.done or
        // tool_calls.function.arguments.done events: read.done and read.tool_calls_done stay out.
        ChatCompletionCreateParams body = ChatCompletionCreateParams.builder()
            .body(params(operation, ChatCompletionCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        p.read.put("helper", "ChatCompletionAccumulator");
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        ArrayNode deltas = p.read.putArray("deltas");
        try (StreamResponse<ChatCompletionChunk> stream =
            client.chat().completions().createStreaming(body, requestOptions(operation))) {
          p.inStream = true;
          stream.stream().peek(accumulator::accumulate).forEach(chunk -> {
            p.events.add(MAPPER.valueToTree(chunk));
            if (!chunk.choices().isEmpty()) {
              chunk.choices().get(0).delta().content().filter(d -> !d.isEmpty()).ifPresent(d -> {
                deltas.add(d);
                p.text.append(d);
              });
            }
          });
        }
        p.read.put("text", p.text.toString());
        ChatCompletion completion = accumulator.chatCompletion();
        p.result = MAPPER.valueToTree(completion);
        if (!completion.choices().isEmpty()) {
          ChatCompletion.Choice choice = completion.choices().get(0);
          p.read.put("content", choice.message().content().orElse(null));
          p.read.put("finish_reason", choice.finishReason().asString());
        }
        return;
      }
      case "chat.completions.stream_async": {
        // The async client (client.async()): createStreaming hands back an AsyncStreamResponse;
        // the doc's loop is its subscribe() handler, and onCompleteFuture() ends it.
        ChatCompletionCreateParams body = ChatCompletionCreateParams.builder()
            .body(params(operation, ChatCompletionCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        ArrayNode deltas = p.read.putArray("deltas");
        AsyncStreamResponse<ChatCompletionChunk> stream = client.async().chat().completions()
            .createStreaming(body, requestOptions(operation));
        try {
          stream.subscribe(chunk -> {
            p.inStream = true;
            p.events.add(MAPPER.valueToTree(chunk));
            if (!chunk.choices().isEmpty()) {
              chunk.choices().get(0).delta().content().filter(d -> !d.isEmpty()).ifPresent(d -> {
                deltas.add(d);
                p.text.append(d);
              });
            }
          }).onCompleteFuture().get();
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        } finally {
          stream.close();
        }
        p.read.put("text", p.text.toString());
        return;
      }
      case "responses.create": {
        ResponseCreateParams body = ResponseCreateParams.builder()
            .body(params(operation, ResponseCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        HttpResponseFor<Response> raw =
            client.responses().withRawResponse().create(body, requestOptions(operation));
        Response response = raw.parse();
        p.requestId = requestId(raw);
        p.result = MAPPER.valueToTree(response);
        p.read.put("id", response.id());
        response.status().ifPresent(s -> p.read.put("status", s.asString()));
        // openai-java has no output_text helper: the output text as Java code reads it,
        // output() -> message() -> content() -> outputText() -> text().
        StringBuilder text = new StringBuilder();
        for (ResponseOutputItem item : response.output()) {
          item.message().ifPresent(message -> {
            for (ResponseOutputMessage.Content part : message.content()) {
              part.outputText().ifPresent(t -> text.append(t.text()));
            }
          });
        }
        p.read.put("output_text", text.toString());
        readResponse(response, p.read);
        return;
      }
      case "responses.stream": {
        ResponseCreateParams body = ResponseCreateParams.builder()
            .body(params(operation, ResponseCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        HttpResponseFor<StreamResponse<ResponseStreamEvent>> raw = client.responses()
            .withRawResponse().createStreaming(body, requestOptions(operation));
        p.requestId = requestId(raw);
        ArrayNode deltas = p.read.putArray("deltas");
        try (StreamResponse<ResponseStreamEvent> stream = raw.parse()) {
          p.inStream = true;
          stream.stream().forEach(event -> {
            p.events.add(MAPPER.valueToTree(event));
            event.outputTextDelta().map(e -> e.delta()).filter(d -> !d.isEmpty()).ifPresent(d -> {
              deltas.add(d);
              p.text.append(d);
            });
          });
        }
        p.read.put("text", p.text.toString());
        return;
      }
      case "fine_tuning.jobs.create": { // the doc's error-handling example (Python)
        JobCreateParams body = JobCreateParams.builder()
            .body(params(operation, JobCreateParams.Body.class)).build();
        noteDropped(operation.path("params"), body._body(), p);
        HttpResponseFor<FineTuningJob> raw =
            client.fineTuning().jobs().withRawResponse().create(body, requestOptions(operation));
        FineTuningJob job = raw.parse();
        p.requestId = requestId(raw);
        p.result = MAPPER.valueToTree(job);
        return;
      }
      case "embeddings.create": {
        // The doc's Java sample builds its params with EmbeddingCreateParams.builder(): what the
        // params leave out keeps the builder's own default (encoding_format base64), which a
        // Body decoded by Jackson alone would not have.
        EmbeddingCreateParams.Body given = params(operation, EmbeddingCreateParams.Body.class);
        EmbeddingCreateParams.Builder builder = EmbeddingCreateParams.builder()
            .input(given._input()).model(given._model())
            .putAllAdditionalBodyProperties(given._additionalProperties());
        if (!given._dimensions().isMissing()) {
          builder.dimensions(given._dimensions());
        }
        if (!given._encodingFormat().isMissing()) {
          builder.encodingFormat(given._encodingFormat());
        }
        if (!given._user().isMissing()) {
          builder.user(given._user());
        }
        EmbeddingCreateParams body = builder.build();
        noteDropped(operation.path("params"), body._body(), p);
        HttpResponseFor<CreateEmbeddingResponse> raw =
            client.embeddings().withRawResponse().create(body, requestOptions(operation));
        CreateEmbeddingResponse embeddings = raw.parse();
        p.requestId = requestId(raw);
        ObjectNode result = MAPPER.valueToTree(embeddings);
        // The vectors as user code reads them: Embedding.embedding() (decoded from base64).
        ArrayNode data = NODES.arrayNode();
        for (Embedding embedding : embeddings.data()) {
          ObjectNode item = MAPPER.valueToTree(embedding);
          ArrayNode vector = NODES.arrayNode();
          for (Float value : embedding.embedding()) {
            vector.add(value.doubleValue());
          }
          item.set("embedding", vector);
          data.add(item);
        }
        result.set("data", data);
        p.result = result;
        if (data.size() > 0) {
          p.read.set("embedding", data.get(0).get("embedding"));
        }
        // Every vector and index through embedding() and index(), and usage().
        ArrayNode vectors = p.read.putArray("embeddings");
        ArrayNode indices = p.read.putArray("indices");
        for (int n = 0; n < data.size(); n++) {
          Embedding item = embeddings.data().get(n);
          vectors.add(data.get(n).get("embedding"));
          indices.add(typed(item::index));
        }
        ObjectNode usage = p.read.putObject("usage");
        usage.set("prompt_tokens", typed(() -> embeddings.usage().promptTokens()));
        usage.set("total_tokens", typed(() -> embeddings.usage().totalTokens()));
        return;
      }
      default:
        throw new BadScenario("unknown operation \"" + name + "\"", null);
    }
  }

  /** A typed accessor's value, or an {"accessor_error": ...} when the accessor throws. */
  private static JsonNode typed(Supplier<Object> accessor) {
    try {
      Object value = accessor.get();
      return value == null ? NullNode.getInstance() : MAPPER.valueToTree(value);
    } catch (RuntimeException e) {
      ObjectNode failed = NODES.objectNode();
      failed.put("accessor_error", e.getClass().getSimpleName() + ": " + e.getMessage());
      return failed;
    }
  }

  /** A completion's usage() with completionTokensDetails().reasoningTokens(). */
  private static JsonNode readChatUsage(ChatCompletion completion) {
    return completion.usage().<JsonNode>map(usage -> {
      ObjectNode read = NODES.objectNode();
      read.set("prompt_tokens", typed(usage::promptTokens));
      read.set("completion_tokens", typed(usage::completionTokens));
      read.set("total_tokens", typed(usage::totalTokens));
      read.set("reasoning_tokens", typed(() -> usage.completionTokensDetails()
          .flatMap(d -> d.reasoningTokens()).orElse(null)));
      return read;
    }).orElse(NullNode.getInstance());
  }

  /**
   * What Java code reads from a Response through its accessors: id(), status(), model(),
   * createdAt(), each output item through its variant (reasoning(), mcpListTools(), mcpCall(),
   * mcpApprovalRequest()), usage() with outputTokensDetails().reasoningTokens(), and the
   * content_filters Azure adds (_additionalProperties()).
   */
  private static void readResponse(Response response, ObjectNode read) {
    ObjectNode fields = read.putObject("response");
    fields.set("id", typed(response::id));
    fields.set("object", typed(response::_object_));
    fields.set("status", typed(() -> response.status().map(Object::toString).orElse(null)));
    fields.set("model", typed(response::model));
    fields.set("created_at", typed(response::createdAt));
    fields.set("incomplete_reason", typed(() -> response.incompleteDetails()
        .flatMap(d -> d.reason()).map(Object::toString).orElse(null)));
    ArrayNode items = read.putArray("output_items");
    for (ResponseOutputItem item : response.output()) {
      ObjectNode entry = items.addObject();
      JsonNode serialized = MAPPER.valueToTree(item);
      entry.set("type", serialized.path("type").isMissingNode() ? NullNode.getInstance()
          : serialized.get("type"));
      entry.set("id", serialized.path("id").isMissingNode() ? NullNode.getInstance()
          : serialized.get("id"));
      item.reasoning().ifPresent(v -> {
        entry.set("id", typed(v::id));
        ArrayNode summary = entry.putArray("summary");
        for (ResponseReasoningItem.Summary s : v.summary()) {
          ObjectNode part = summary.addObject();
          part.set("type", typed(s::_type));
          part.set("text", typed(s::text));
        }
        entry.set("encrypted_content", typed(() -> v.encryptedContent().orElse(null)));
      });
      item.mcpListTools().ifPresent(v -> {
        entry.set("id", typed(v::id));
        entry.set("server_label", typed(v::serverLabel));
        ArrayNode tools = entry.putArray("tools");
        for (ResponseOutputItem.McpListTools.Tool t : v.tools()) {
          ObjectNode tool = tools.addObject();
          tool.set("name", typed(t::name));
          tool.set("input_schema", typed(t::_inputSchema));
        }
      });
      item.mcpCall().ifPresent(v -> {
        entry.set("id", typed(v::id));
        entry.set("server_label", typed(v::serverLabel));
        entry.set("name", typed(v::name));
        entry.set("arguments", typed(v::arguments));
        entry.set("output", typed(() -> v.output().orElse(null)));
        entry.set("error", typed(() -> v.error().orElse(null)));
        entry.set("status", typed(() -> v.status().map(Object::toString).orElse(null)));
      });
      item.mcpApprovalRequest().ifPresent(v -> {
        entry.set("id", typed(v::id));
        entry.set("server_label", typed(v::serverLabel));
        entry.set("name", typed(v::name));
        entry.set("arguments", typed(v::arguments));
      });
    }
    read.set("usage", response.usage().<JsonNode>map(usage -> {
      ObjectNode u = NODES.objectNode();
      u.set("input_tokens", typed(usage::inputTokens));
      u.set("output_tokens", typed(usage::outputTokens));
      u.set("total_tokens", typed(usage::totalTokens));
      u.set("reasoning_tokens", typed(() -> usage.outputTokensDetails().reasoningTokens()));
      return u;
    }).orElse(NullNode.getInstance()));
    JsonValue filters = response._additionalProperties().get("content_filters");
    read.set("content_filters", filters == null ? NullNode.getInstance()
        : MAPPER.valueToTree(filters));
  }

  private static List<String> bases(Class<?> type) {
    List<String> names = new ArrayList<>();
    for (Class<?> c = type.getSuperclass(); c != null && c != Object.class; c = c.getSuperclass()) {
      names.add(c.getSimpleName());
    }
    return names;
  }

  private static boolean causedByTimeout(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        return true;
      }
      if (t instanceof InterruptedIOException
          && String.valueOf(t.getMessage()).toLowerCase().contains("timeout")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Read one of the exception's field accessors as user code would. An accessor that throws
   * (openai-java throws OpenAIInvalidDataException for a field present as JSON null) reads as
   * null, and what it threw is kept under "accessor_errors".
   */
  private static String accessor(ObjectNode info, String name, Supplier<String> read) {
    try {
      return read.get();
    } catch (RuntimeException e) {
      ObjectNode failures = info.has("accessor_errors")
          ? (ObjectNode) info.get("accessor_errors") : info.putObject("accessor_errors");
      failures.put(name, e.getClass().getSimpleName() + ": " + e.getMessage());
      return null;
    }
  }

  private static ObjectNode describe(Throwable error, boolean inStream) {
    ObjectNode info = NODES.objectNode();
    String kind = "other";
    Integer status = null;
    String code = null;
    String param = null;
    String type = null;
    String requestId = null;
    String message = String.valueOf(error.getMessage());
    if (error instanceof OpenAIServiceException) {
      OpenAIServiceException service = (OpenAIServiceException) error;
      kind = error instanceof SseException || (inStream && service.statusCode() < 400)
          ? "stream" : "status";
      status = service.statusCode();
      code = accessor(info, "code", () -> service.code().orElse(null));
      param = accessor(info, "param", () -> service.param().orElse(null));
      type = accessor(info, "type", () -> service.type().orElse(null));
      requestId = requestId(service.headers());
    } else if (causedByTimeout(error)) {
      kind = "timeout";
    } else if (error instanceof OpenAIIoException) {
      kind = "connection";
    } else if (inStream) {
      kind = "stream";
    }
    info.put("kind", kind);
    info.put("class", error.getClass().getSimpleName());
    ArrayNode baseNames = info.putArray("bases");
    bases(error.getClass()).forEach(baseNames::add);
    if (status == null) {
      info.putNull("status");
    } else {
      info.put("status", status);
    }
    info.put("code", code);
    info.put("code_type", code == null ? "null" : "string");
    info.put("param", param);
    info.put("type", type);
    info.put("message", message);
    info.put("request_id", requestId);
    return info;
  }

  private static ObjectNode driverError(String id, String message, boolean unsupported) {
    ObjectNode reply = NODES.objectNode();
    reply.put("type", "driver_error");
    reply.put("id", id);
    reply.put("message", message);
    if (unsupported) {
      reply.put("unsupported", true);
    }
    return reply;
  }

  private static void run(String id, JsonNode scenario) {
    long started = System.nanoTime();
    FakeTokenSupplier[] supplier = new FakeTokenSupplier[1];
    VirtualClock[] clock = new VirtualClock[1];
    OpenAIClient built = null;
    RuntimeException refusal = null; // the SDK refused the construction: the outcome's error
    try {
      built = clientFor(scenario, supplier, clock);
    } catch (Unsupported e) {
      send(driverError(id, "unsupported: " + e.getMessage(), true));
      return;
    } catch (RuntimeException e) {
      if (e instanceof BadScenario || !scenario.path("client").has("construction")) {
        send(driverError(id, "could not build the client: " + e.getMessage(), false));
        return;
      }
      refusal = e;
    }
    OpenAIClient client = built;
    RuntimeException refused = refusal;
    Performed p = new Performed();
    JsonNode operation = scenario.path("operation");
    ObjectNode error = null;
    long deadline = scenario.path("deadline_ms").asLong(30000);
    // `repeat` calls on the one client, one after the other or all at once (`concurrent`),
    // call n with params_each[n] where given: the last call's result, the first error any
    // call raised (docs/driver-protocol.md).
    int repeat = Math.max(1, operation.path("repeat").asInt(1));
    boolean concurrent = operation.path("concurrent").asBoolean(false);
    boolean async = scenario.path("client").path("async").asBoolean(false);
    Future<?> work = WORKERS.submit(() -> {
      if (refused != null) {
        throw refused;
      }
      List<Future<?>> calls = new ArrayList<>();
      Exception first = null;
      for (int n = 0; n < repeat; n++) {
        int call = n;
        JsonNode one = operation;
        if (operation.path("params_each").isArray()) {
          one = operation.deepCopy();
          ((ObjectNode) one).set("params", operation.path("params_each").get(n));
        }
        JsonNode performed = one;
        java.util.concurrent.Callable<Object> task = () -> {
          CURRENT_CALL.set(call);
          try {
            Performed into = call == repeat - 1 ? p : new Performed();
            if (async) {
              performAsync(client, performed, into);
            } else {
              perform(client, performed, into);
            }
          } finally {
            CURRENT_CALL.remove();
          }
          return null;
        };
        if (concurrent) {
          calls.add(WORKERS.submit(task));
          continue;
        }
        try {
          task.call();
        } catch (Exception e) {
          first = first == null ? e : first;
        }
      }
      for (Future<?> call : calls) {
        try {
          call.get();
        } catch (ExecutionException e) {
          first = first == null ? (Exception) e.getCause() : first;
        }
      }
      if (first != null) {
        throw first;
      }
      return null;
    });
    try {
      work.get(deadline, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      work.cancel(true);
      error = describe(new RuntimeException("driver deadline"), false);
      error.put("kind", "other");
      error.put("message", "driver deadline");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Unsupported) {
        send(driverError(id, "unsupported: " + cause.getMessage(), true));
        closeQuietly(client);
        return;
      }
      if (cause instanceof BadScenario) {
        send(driverError(id, cause.getMessage(), false));
        closeQuietly(client);
        return;
      }
      error = describe(cause, p.inStream);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error = describe(e, false);
    }
    closeQuietly(client);
    ObjectNode outcome = NODES.objectNode();
    boolean streaming = operation.path("name").asText().contains(".stream");
    // A stream has no result, but for its helper's final completion (stream_helper).
    outcome.set("result", error == null ? p.result : NullNode.getInstance());
    outcome.set("events", streaming ? p.events : NODES.arrayNode());
    outcome.set("error", error == null ? NullNode.getInstance() : error);
    outcome.put("request_id", error == null ? p.requestId : null);
    ObjectNode read = p.read.deepCopy();
    read.put("request_id", error == null ? p.requestId : null);
    read.set("dropped_params", p.dropped.deepCopy());
    outcome.set("read", read);
    ArrayNode calls = outcome.putArray("token_calls");
    if (supplier[0] != null) {
      synchronized (supplier[0].calls) {
        for (List<String> scopes : supplier[0].calls) {
          ArrayNode list = calls.addObject().putArray("scopes");
          scopes.forEach(list::add);
        }
        // The supplier is the credential (no provider_calls): the tokens it handed out by call.
        ArrayNode byCall = outcome.putArray("calls");
        for (int n = 0; n < repeat; n++) {
          ArrayNode tokens = byCall.addObject().putArray("provider_tokens");
          supplier[0].byCall.getOrDefault(n, List.of()).forEach(tokens::add);
        }
      }
    }
    outcome.putNull("sdk_retry_count");
    if (clock[0] != null) {
      ArrayNode delays = outcome.putArray("virtual_delays_s");
      synchronized (clock[0].delays) {
        clock[0].delays.forEach(delays::add);
      }
    }
    if (scenario.path("client").path("construction").isObject()) {
      outcome.put("constructed", true); // the client was built from the construction
    }
    outcome.put("elapsed_ms", (System.nanoTime() - started) / 1_000_000);
    ObjectNode reply = NODES.objectNode();
    reply.put("type", "outcome");
    reply.put("id", id);
    reply.set("outcome", outcome);
    send(reply);
  }

  private static void closeQuietly(OpenAIClient client) {
    if (client == null) {
      return;
    }
    WORKERS.submit(() -> {
      try {
        client.close();
      } catch (RuntimeException e) {
        System.err.println("[java-driver] close: " + e);
      }
    });
  }

  private static String sdkVersion() {
    Properties properties = new Properties();
    try (InputStream in = Main.class.getResourceAsStream("/driver.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (Exception e) {
      System.err.println("[java-driver] no driver.properties: " + e);
    }
    return properties.getProperty("sdk.version", "unknown");
  }

  /**
   * Load the SDK's classes before saying hello (a cold JVM takes seconds for the first client
   * and the first params), so the first scenario's deadline measures the SDK, not class loading.
   * Nothing is sent anywhere.
   */
  private static void warmUp() {
    try {
      JsonNode operation = MAPPER.readTree("{\"params\":{\"model\":\"m\",\"messages\":"
          + "[{\"role\":\"user\",\"content\":\"hi\"}]}}");
      ChatCompletionCreateParams.builder()
          .body(params(operation, ChatCompletionCreateParams.Body.class)).build();
      OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:9/openai/v1/")
          .apiKey("warm-up").build();
      client.chat().completions().withRawResponse();
      client.close();
    } catch (Exception e) {
      System.err.println("[java-driver] warm-up: " + e);
    }
  }

  public static void main(String[] args) throws Exception {
    warmUp();
    ObjectNode hello = NODES.objectNode();
    hello.put("type", "hello");
    hello.put("protocol", PROTOCOL);
    hello.put("sdk", "java");
    hello.put("sdk_version", sdkVersion());
    hello.put("runtime", "java " + System.getProperty("java.version"));
    send(hello);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode message;
      try {
        message = MAPPER.readTree(line);
      } catch (Exception e) {
        send(driverError(null, "not JSON: " + e.getMessage(), false));
        continue;
      }
      String type = message.path("type").asText();
      if (type.equals("shutdown")) {
        break;
      }
      String id = message.path("id").isNull() ? null : message.path("id").asText(null);
      if (!type.equals("run") || id == null) {
        send(driverError(id, "unknown message type \"" + type + "\"", false));
        continue;
      }
      try {
        run(id, message.path("scenario"));
      } catch (RuntimeException e) {
        e.printStackTrace();
        send(driverError(id, String.valueOf(e), false));
      }
    }
    System.exit(0);
  }
}
