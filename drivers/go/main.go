// Command driver is the aoai-conformance driver (protocol v2) for openai-go.
//
// It reads one JSON object per line on stdin ({"type":"run"|"shutdown"}), performs each
// scenario with the SDK's public API as the doc's Go samples do, and writes one JSON object per
// line on stdout (hello, outcome, driver_error). Logs go to stderr. See docs/driver-protocol.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/responses"
)

const protocol = 2
const sdkModule = "github.com/openai/openai-go/v3"

type auth struct {
	Kind       string   `json:"kind"`
	Key        string   `json:"key"`
	Scope      string   `json:"scope"`
	Tokens     []string `json:"tokens"`
	ExpiresInS *int     `json:"expires_in_s"`
}

type clientOptions struct {
	Auth         *auth         `json:"auth"`
	MaxRetries   *int          `json:"max_retries"`
	TimeoutMs    *int          `json:"timeout_ms"`
	Async        bool          `json:"async"`
	Construction *construction `json:"construction"`
}

// construction is how the user built the client (docs/driver-protocol.md, "Construction"):
// which client, the URL and api-version arguments, and the environment the SDK reads.
type construction struct {
	Client          string            `json:"client"`
	BaseURL         *string           `json:"base_url"`
	Endpoint        *string           `json:"endpoint"`
	APIVersion      *string           `json:"api_version"`
	Deployment      *string           `json:"deployment"`
	APIVersionQuery *string           `json:"api_version_query"`
	Environment     map[string]string `json:"environment"`
}

type requestOptions struct {
	MaxRetries *int `json:"max_retries"`
	TimeoutMs  *int `json:"timeout_ms"`
}

type operation struct {
	Name           string            `json:"name"`
	Params         json.RawMessage   `json:"params"`
	RequestOptions requestOptions    `json:"request_options"`
	Repeat         int               `json:"repeat"`
	Concurrent     bool              `json:"concurrent"`
	ParamsEach     []json.RawMessage `json:"params_each"`
}

type scenario struct {
	BaseURL    string        `json:"base_url"`
	Client     clientOptions `json:"client"`
	Operation  operation     `json:"operation"`
	DeadlineMs int           `json:"deadline_ms"`
}

type message struct {
	Type     string   `json:"type"`
	ID       *string  `json:"id"`
	Scenario scenario `json:"scenario"`
}

type tokenCall struct {
	Scopes []string `json:"scopes"`
}

type errorInfo struct {
	Kind      string   `json:"kind"`
	Class     string   `json:"class"`
	Bases     []string `json:"bases"`
	Status    *int     `json:"status"`
	Code      any      `json:"code"`
	CodeType  string   `json:"code_type"`
	Param     any      `json:"param"`
	Type      any      `json:"type"`
	Message   string   `json:"message"`
	RequestID *string  `json:"request_id"`
}

// read holds the values the doc's Go samples read, through the SDK's typed fields:
// Choices[0].Message.Content, a chunk's Choices[0].Delta.Content, OutputText(), a Responses
// event's Delta, Data[0].Embedding, the x-request-id of option.WithResponseInto; and the typed
// ID, Status and Usage.TotalTokens the checks compare (the result is the raw JSON).
type read struct {
	ID            *string   `json:"id,omitempty"`
	Status        *string   `json:"status,omitempty"`
	TotalTokens   *int64    `json:"total_tokens,omitempty"`
	Content       *string   `json:"content,omitempty"`
	OutputText    *string   `json:"output_text,omitempty"`
	Deltas        []string  `json:"deltas,omitempty"`
	Text          *string   `json:"text,omitempty"`
	Embedding     []float64 `json:"embedding,omitempty"`
	RequestID     *string   `json:"request_id"`
	DroppedParams []string  `json:"dropped_params"`
	// chat.completions.stream_helper: what openai.ChatCompletionAccumulator hands the caller.
	Helper        *string        `json:"helper,omitempty"`
	Done          []string       `json:"done"`
	ToolCallsDone []toolCallDone `json:"tool_calls_done"`
	FinishReason  *string        `json:"finish_reason,omitempty"`
	// responses.create: the Response's fields, its output items by type, its usage and the
	// content_filters Azure adds (JSON.ExtraFields); chat and embeddings: their usage; every
	// embedding vector and index (Data[i].Embedding, Data[i].Index).
	Response       map[string]any   `json:"response,omitempty"`
	OutputItems    []map[string]any `json:"output_items,omitempty"`
	Usage          map[string]any   `json:"usage,omitempty"`
	ContentFilters any              `json:"content_filters,omitempty"`
	Embeddings     [][]float64      `json:"embeddings,omitempty"`
	Indices        []int64          `json:"indices,omitempty"`
}

type toolCallDone struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// unsupported: the SDK lacks what the scenario asks for (a driver_error with unsupported: true).
type unsupported struct{ reason string }

func (u unsupported) Error() string { return "unsupported: " + u.reason }

// callTokens is what the credential handed out while one of the scenario's calls ran.
type callTokens struct {
	ProviderTokens []string `json:"provider_tokens"`
}

// callKey marks a call's context with its index (operation.repeat): the credential reads it.
type callKey struct{}

type outcome struct {
	Calls         []callTokens      `json:"calls,omitempty"`
	Result        json.RawMessage   `json:"result"`
	Read          read              `json:"read"`
	Events        []json.RawMessage `json:"events"`
	Error         *errorInfo        `json:"error"`
	RequestID     *string           `json:"request_id"`
	TokenCalls    []tokenCall       `json:"token_calls"`
	SdkRetryCount *int              `json:"sdk_retry_count"`
	ElapsedMs     int64             `json:"elapsed_ms"`
	// Constructed says the client was built from the scenario's construction.
	Constructed bool `json:"constructed,omitempty"`
}

var out = json.NewEncoder(os.Stdout)
var outMu sync.Mutex

func send(v any) {
	outMu.Lock()
	defer outMu.Unlock()
	if err := out.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "[go-driver] cannot write: %v\n", err)
		os.Exit(1)
	}
}

// fakeCredential is an azcore.TokenCredential that never leaves the process: it hands out the
// scenario's tokens in order, repeating the last, and records each call's scopes.
type fakeCredential struct {
	mu      sync.Mutex
	tokens  []string
	expires time.Duration
	calls   []tokenCall
	byCall  map[int][]string
}

var _ azcore.TokenCredential = (*fakeCredential)(nil)

func (c *fakeCredential) GetToken(ctx context.Context, options policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tokens := c.tokens
	if len(tokens) == 0 {
		tokens = []string{"fake-token"}
	}
	n := len(c.calls)
	if n >= len(tokens) {
		n = len(tokens) - 1
	}
	c.calls = append(c.calls, tokenCall{Scopes: append([]string{}, options.Scopes...)})
	call, _ := ctx.Value(callKey{}).(int)
	if c.byCall == nil {
		c.byCall = map[int][]string{}
	}
	c.byCall[call] = append(c.byCall[call], tokens[n])
	return azcore.AccessToken{Token: tokens[n], ExpiresOn: time.Now().Add(c.expires)}, nil
}

func (c *fakeCredential) recorded() []tokenCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]tokenCall{}, c.calls...)
}

// constructionOptions builds the client the way the scenario's construction says, with the
// SDK's public options only: openai.NewClient(option.WithBaseURL(...)) (the doc's way, reading
// OPENAI_BASE_URL and OPENAI_API_KEY as NewClient does), or the Azure client,
// azure.WithEndpoint(endpoint, apiVersion) with azure.WithAPIKey / azure.WithTokenCredential.
func constructionOptions(c *construction, a *auth, credential *fakeCredential) ([]option.RequestOption, error) {
	var opts []option.RequestOption
	azureClient := c.Client == "azure"
	if c.Deployment != nil {
		return nil, unsupported{"openai-go's Azure client has no deployment option (the deployment is the body's model)"}
	}
	if azureClient {
		if c.Endpoint != nil {
			version := ""
			if c.APIVersion != nil {
				version = *c.APIVersion
			}
			opts = append(opts, azure.WithEndpoint(*c.Endpoint, version))
		} else if c.APIVersion != nil {
			return nil, unsupported{"openai-go takes the Azure api-version only with azure.WithEndpoint"}
		}
		if c.BaseURL != nil {
			opts = append(opts, option.WithBaseURL(*c.BaseURL))
		}
	} else {
		if c.Endpoint != nil || c.APIVersion != nil {
			return nil, unsupported{"endpoint and api_version are the Azure client's arguments"}
		}
		if c.BaseURL != nil {
			opts = append(opts, option.WithBaseURL(*c.BaseURL))
		}
	}
	if c.APIVersionQuery != nil {
		opts = append(opts, option.WithQuery("api-version", *c.APIVersionQuery))
	}
	switch a.Kind {
	case "key":
		if azureClient {
			opts = append(opts, azure.WithAPIKey(a.Key))
		} else {
			opts = append(opts, option.WithAPIKey(a.Key))
		}
	case "token_provider":
		setCredential(credential, a)
		opts = append(opts, azure.WithTokenCredential(credential))
	case "none": // the SDK reads its key variable (OPENAI_API_KEY), or sends none
	default:
		return nil, fmt.Errorf("unknown auth kind %q", a.Kind)
	}
	return opts, nil
}

func setCredential(credential *fakeCredential, a *auth) {
	credential.tokens = a.Tokens
	credential.expires = time.Hour
	if a.ExpiresInS != nil {
		credential.expires = time.Duration(*a.ExpiresInS) * time.Second
	}
}

// withEnvironment sets the construction's variables in this process's environment (the SDK
// reads them in NewClient) and returns what puts the previous environment back.
func withEnvironment(values map[string]string) func() {
	saved := map[string]*string{}
	for name, value := range values {
		if old, ok := os.LookupEnv(name); ok {
			o := old
			saved[name] = &o
		} else {
			saved[name] = nil
		}
		os.Setenv(name, value)
	}
	return func() {
		for name, old := range saved {
			if old == nil {
				os.Unsetenv(name)
			} else {
				os.Setenv(name, *old)
			}
		}
	}
}

func clientFor(s scenario, credential *fakeCredential) (openai.Client, error) {
	a := s.Client.Auth
	if a == nil {
		a = &auth{Kind: "key", Key: "conformance-key"}
	}
	var opts []option.RequestOption
	if c := s.Client.Construction; c != nil {
		built, err := constructionOptions(c, a, credential)
		if err != nil {
			return openai.Client{}, err
		}
		opts = built
	} else {
		opts = append(opts, option.WithBaseURL(s.BaseURL))
		switch a.Kind {
		case "key":
			opts = append(opts, option.WithAPIKey(a.Key))
		case "token_provider":
			setCredential(credential, a)
			// The doc's sample as written: option.WithBaseURL(...) + azure.WithTokenCredential.
			// openai-go decides whether that works (v3.100.0 refuses it before sending anything).
			opts = append(opts, azure.WithTokenCredential(credential))
		default:
			return openai.Client{}, fmt.Errorf("unknown auth kind %q", a.Kind)
		}
	}
	if s.Client.MaxRetries != nil {
		opts = append(opts, option.WithMaxRetries(*s.Client.MaxRetries))
	}
	if s.Client.TimeoutMs != nil {
		opts = append(opts, option.WithRequestTimeout(time.Duration(*s.Client.TimeoutMs)*time.Millisecond))
	}
	// A misbehaving SDK build for the suite's own tests (never set in a real run):
	// AOAI_CONFORMANCE_DRIVER_MUTANT=max_retries:N makes every client retry N times.
	var forced int
	if mutant := os.Getenv("AOAI_CONFORMANCE_DRIVER_MUTANT"); mutant != "" {
		if _, err := fmt.Sscanf(mutant, "max_retries:%d", &forced); err == nil && forced >= 0 {
			opts = append(opts, option.WithMaxRetries(forced))
		}
	}
	return openai.NewClient(opts...), nil
}

func perRequest(o operation, response **http.Response) []option.RequestOption {
	opts := []option.RequestOption{option.WithResponseInto(response)}
	if o.RequestOptions.MaxRetries != nil {
		opts = append(opts, option.WithMaxRetries(*o.RequestOptions.MaxRetries))
	}
	if o.RequestOptions.TimeoutMs != nil {
		opts = append(opts, option.WithRequestTimeout(time.Duration(*o.RequestOptions.TimeoutMs)*time.Millisecond))
	}
	return opts
}

type performed struct {
	result   json.RawMessage
	events   []json.RawMessage
	inStream bool
	read     read
}

type unknownOperation struct{ name string }

func (u unknownOperation) Error() string { return fmt.Sprintf("unknown operation %q", u.name) }

type badParams struct{ err error }

func (b badParams) Error() string { return fmt.Sprintf("params do not fit the SDK's type: %v", b.err) }

func perform(ctx context.Context, client openai.Client, o operation, opts []option.RequestOption, p *performed) error {
	params := o.Params
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	switch o.Name {
	case "chat.completions.stream_async":
		return unsupported{"openai-go has no async client: a stream is read with stream.Next() in " +
			"the caller's goroutine (chat.completions.stream)"}
	case "chat.completions.create", "chat.completions.stream", "chat.completions.stream_helper":
		var body openai.ChatCompletionNewParams
		if err := json.Unmarshal(params, &body); err != nil {
			return badParams{err}
		}
		p.read.DroppedParams = dropped(params, body)
		if o.Name == "chat.completions.create" {
			completion, err := client.Chat.Completions.New(ctx, body, opts...)
			if err != nil {
				return err
			}
			p.result = json.RawMessage(completion.RawJSON())
			id, total := completion.ID, completion.Usage.TotalTokens
			p.read.ID, p.read.TotalTokens = &id, &total
			if len(completion.Choices) > 0 {
				content := completion.Choices[0].Message.Content // what the sample prints
				p.read.Content = &content
			}
			p.read.Usage = readChatUsage(completion.Usage)
			return nil
		}
		if o.Name == "chat.completions.stream_helper" {
			return accumulate(ctx, client, body, opts, p)
		}
		stream := client.Chat.Completions.NewStreaming(ctx, body, opts...)
		defer stream.Close()
		text := ""
		for stream.Next() {
			p.inStream = true
			chunk := stream.Current()
			p.events = append(p.events, json.RawMessage(chunk.RawJSON()))
			if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
				p.read.Deltas = append(p.read.Deltas, chunk.Choices[0].Delta.Content)
				text += chunk.Choices[0].Delta.Content
			}
		}
		p.read.Text = &text
		return stream.Err()
	case "responses.create", "responses.stream":
		var body responses.ResponseNewParams
		if err := json.Unmarshal(params, &body); err != nil {
			return badParams{err}
		}
		typedInput(params, &body)
		p.read.DroppedParams = dropped(params, body)
		if o.Name == "responses.create" {
			response, err := client.Responses.New(ctx, body, opts...)
			if err != nil {
				return err
			}
			p.result = json.RawMessage(response.RawJSON())
			id, status := response.ID, string(response.Status)
			p.read.ID, p.read.Status = &id, &status
			text := response.OutputText() // the sample: println(resp.OutputText())
			p.read.OutputText = &text
			readResponse(response, &p.read)
			return nil
		}
		stream := client.Responses.NewStreaming(ctx, body, opts...)
		defer stream.Close()
		text := ""
		for stream.Next() {
			p.inStream = true
			event := stream.Current()
			p.events = append(p.events, json.RawMessage(event.RawJSON()))
			if event.Type == "response.output_text.delta" && event.Delta != "" {
				p.read.Deltas = append(p.read.Deltas, event.Delta)
				text += event.Delta
			}
		}
		p.read.Text = &text
		return stream.Err()
	case "fine_tuning.jobs.create": // the doc's error-handling example (Python / Error handling)
		var body openai.FineTuningJobNewParams
		if err := json.Unmarshal(params, &body); err != nil {
			return badParams{err}
		}
		p.read.DroppedParams = dropped(params, body)
		job, err := client.FineTuning.Jobs.New(ctx, body, opts...)
		if err != nil {
			return err
		}
		p.result = json.RawMessage(job.RawJSON())
		return nil
	case "embeddings.create":
		var body openai.EmbeddingNewParams
		if err := json.Unmarshal(params, &body); err != nil {
			return badParams{err}
		}
		p.read.DroppedParams = dropped(params, body)
		embeddings, err := client.Embeddings.New(ctx, body, opts...)
		if err != nil {
			return err
		}
		if len(embeddings.Data) > 0 {
			p.read.Embedding = append([]float64{}, embeddings.Data[0].Embedding...)
		}
		p.read.Embeddings, p.read.Indices = [][]float64{}, []int64{}
		for _, item := range embeddings.Data {
			p.read.Embeddings = append(p.read.Embeddings, append([]float64{}, item.Embedding...))
			p.read.Indices = append(p.read.Indices, item.Index)
		}
		if embeddings.JSON.Usage.Valid() {
			p.read.Usage = map[string]any{"prompt_tokens": embeddings.Usage.PromptTokens,
				"total_tokens": embeddings.Usage.TotalTokens}
		}
		// The typed value, not the raw JSON: the vectors as user code sees them (decoded).
		encoded, err := json.Marshal(embeddings)
		if err != nil {
			return err
		}
		p.result = encoded
		return nil
	}
	return unknownOperation{o.Name}
}

// accumulate is openai-go's stream helper as its README uses it: every chunk of NewStreaming
// goes to a ChatCompletionAccumulator (AddChunk), JustFinishedContent and JustFinishedToolCall
// are the content.done and tool_calls.function.arguments.done events, the loop prints each
// chunk's Choices[0].Delta.Content, and acc.ChatCompletion is the final completion.
func accumulate(ctx context.Context, client openai.Client, body openai.ChatCompletionNewParams, opts []option.RequestOption, p *performed) error {
	helper := "openai.ChatCompletionAccumulator"
	p.read.Helper = &helper
	p.read.Done, p.read.ToolCallsDone = []string{}, []toolCallDone{}
	stream := client.Chat.Completions.NewStreaming(ctx, body, opts...)
	defer stream.Close()
	acc := openai.ChatCompletionAccumulator{}
	text := ""
	for stream.Next() {
		p.inStream = true
		chunk := stream.Current()
		p.events = append(p.events, json.RawMessage(chunk.RawJSON()))
		acc.AddChunk(chunk)
		if content, ok := acc.JustFinishedContent(); ok {
			p.read.Done = append(p.read.Done, content)
		}
		if tool, ok := acc.JustFinishedToolCall(); ok {
			p.read.ToolCallsDone = append(p.read.ToolCallsDone,
				toolCallDone{Index: tool.Index, Name: tool.Name, Arguments: tool.Arguments})
		}
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			p.read.Deltas = append(p.read.Deltas, chunk.Choices[0].Delta.Content)
			text += chunk.Choices[0].Delta.Content
		}
	}
	p.read.Text = &text
	if err := stream.Err(); err != nil {
		return err
	}
	final, err := json.Marshal(acc.ChatCompletion)
	if err != nil {
		return err
	}
	p.result = final
	if len(acc.Choices) > 0 {
		content, reason := acc.Choices[0].Message.Content, acc.Choices[0].FinishReason
		p.read.Content, p.read.FinishReason = &content, &reason
	}
	return nil
}

// present is a typed field's value, or nil when the wire had it null or absent.
func present(value any, field respjson.Field) any {
	if !field.Valid() {
		return nil
	}
	return value
}

// readChatUsage is a completion's Usage as Go code reads it, with
// CompletionTokensDetails.ReasoningTokens (a reasoning model's hidden tokens).
func readChatUsage(u openai.CompletionUsage) map[string]any {
	if !u.JSON.TotalTokens.Valid() {
		return nil
	}
	return map[string]any{"prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens,
		"total_tokens": u.TotalTokens,
		"reasoning_tokens": present(u.CompletionTokensDetails.ReasoningTokens,
			u.CompletionTokensDetails.JSON.ReasoningTokens)}
}

// readResponse is what Go code reads from a Response through its typed fields: ID, Status,
// Model, CreatedAt, each output item through its As<Type>() variant, Usage with
// OutputTokensDetails.ReasoningTokens, and the content_filters Azure adds (JSON.ExtraFields).
func readResponse(r *responses.Response, into *read) {
	into.Response = map[string]any{"id": r.ID, "object": string(r.Object),
		"status": present(string(r.Status), r.JSON.Status), "model": string(r.Model),
		"created_at":        r.CreatedAt,
		"incomplete_reason": present(string(r.IncompleteDetails.Reason), r.IncompleteDetails.JSON.Reason)}
	into.OutputItems = []map[string]any{}
	for _, item := range r.Output {
		entry := map[string]any{"type": item.Type, "id": item.ID}
		switch item.Type {
		case "reasoning":
			v := item.AsReasoning()
			summary := []map[string]any{}
			for _, s := range v.Summary {
				summary = append(summary, map[string]any{"type": string(s.Type), "text": s.Text})
			}
			entry["summary"] = summary
			entry["encrypted_content"] = present(v.EncryptedContent, v.JSON.EncryptedContent)
		case "mcp_list_tools":
			v := item.AsMcpListTools()
			tools := []map[string]any{}
			for _, t := range v.Tools {
				tools = append(tools, map[string]any{"name": t.Name, "input_schema": t.InputSchema})
			}
			entry["server_label"], entry["tools"] = v.ServerLabel, tools
		case "mcp_call":
			v := item.AsMcpCall()
			entry["server_label"], entry["name"], entry["arguments"] = v.ServerLabel, v.Name, v.Arguments
			entry["output"] = present(v.Output, v.JSON.Output)
			entry["status"] = present(v.Status, v.JSON.Status)
			var failure any
			if v.JSON.Error.Valid() { // the SDK's McpToolCallErrorUnion: Type, Code, Message
				failure = map[string]any{"type": v.Error.Type, "code": v.Error.Code,
					"message": v.Error.Message}
			} else if v.JSON.Error.Raw() != "" && v.JSON.Error.Raw() != "null" {
				failure = map[string]any{"type": v.Error.Type, "code": v.Error.Code,
					"message": v.Error.Message, "undecoded": true}
			}
			entry["error"] = failure
		case "mcp_approval_request":
			v := item.AsMcpApprovalRequest()
			entry["server_label"], entry["name"], entry["arguments"] = v.ServerLabel, v.Name, v.Arguments
		}
		into.OutputItems = append(into.OutputItems, entry)
	}
	if r.JSON.Usage.Valid() {
		into.Usage = map[string]any{"input_tokens": r.Usage.InputTokens,
			"output_tokens": r.Usage.OutputTokens, "total_tokens": r.Usage.TotalTokens,
			"reasoning_tokens": present(r.Usage.OutputTokensDetails.ReasoningTokens,
				r.Usage.OutputTokensDetails.JSON.ReasoningTokens)}
	}
	if extra, ok := r.JSON.ExtraFields["content_filters"]; ok && extra.Raw() != "" {
		var filters any
		if json.Unmarshal([]byte(extra.Raw()), &filters) == nil {
			into.ContentFilters = filters
		}
	}
}

// typedInput gives a Responses `input` the SDK's typed union, as the doc's Go sample does
// (responses.ResponseNewParamsInputUnion{OfString: openai.String(question)}): json.Unmarshal
// picks an input item's variant by its "type", so a list of {role, content} messages (no
// type) is lost; each such message becomes responses.ResponseInputItemParamOfMessage, the
// SDK's constructor for it. The SDK serializes the result; the driver writes nothing itself.
func typedInput(params json.RawMessage, body *responses.ResponseNewParams) {
	if !param.IsOmitted(body.Input) {
		return
	}
	var given struct {
		Input json.RawMessage `json:"input"`
	}
	if json.Unmarshal(params, &given) != nil || len(given.Input) == 0 {
		return
	}
	var text string
	if json.Unmarshal(given.Input, &text) == nil {
		body.Input = responses.ResponseNewParamsInputUnion{OfString: openai.String(text)}
		return
	}
	var messages []struct {
		Type    string  `json:"type"`
		Role    string  `json:"role"`
		Content *string `json:"content"`
	}
	if json.Unmarshal(given.Input, &messages) != nil {
		return
	}
	items := responses.ResponseInputParam{}
	for _, m := range messages {
		if (m.Type != "" && m.Type != "message") || m.Content == nil || m.Role == "" {
			return // not the doc's shape: leave it to the SDK's own decoding
		}
		items = append(items, responses.ResponseInputItemParamOfMessage(*m.Content,
			responses.EasyInputMessageRole(m.Role)))
	}
	body.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: items}
}

// dropped names the top-level params the SDK's request type did not keep: an observation
// (the request on the wire then lacks them), never something the driver adds back.
func dropped(params json.RawMessage, body any) []string {
	names := []string{}
	var given map[string]json.RawMessage
	if json.Unmarshal(params, &given) != nil {
		return names
	}
	encoded, err := json.Marshal(body)
	if err != nil {
		return names
	}
	var kept map[string]json.RawMessage
	if json.Unmarshal(encoded, &kept) != nil {
		return names
	}
	for key, raw := range given {
		if key == "stream" && string(raw) == "false" {
			continue // said by calling New, not NewStreaming: the SDK's types have no stream field
		}
		if _, ok := kept[key]; !ok {
			fmt.Fprintf(os.Stderr, "[go-driver] params.%s not kept by the SDK's type\n", key)
			names = append(names, key)
		}
	}
	sort.Strings(names)
	return names
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	prefix := ""
	for t.Kind() == reflect.Pointer {
		prefix += "*"
		t = t.Elem()
	}
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	if pkg == "" {
		return prefix + t.Name()
	}
	return prefix + pkg + "." + t.Name()
}

func describe(err error, inStream bool, driverDeadline bool) *errorInfo {
	info := &errorInfo{Kind: "other", Class: typeName(err), Bases: []string{}, CodeType: "null",
		Message: err.Error()}
	// Go has no inheritance: "bases" lists the types of the errors it wraps, nearest first.
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
		info.Bases = append(info.Bases, typeName(inner))
	}
	var apiErr *openai.Error
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case driverDeadline:
		info.Kind, info.Message = "other", "driver deadline"
	case errors.As(err, &apiErr):
		info.Class = "*openai.Error" // the public name of the alias (internal/apierror.Error)
		info.Kind = "status"
		if apiErr.StatusCode == 0 && inStream {
			info.Kind = "stream"
		}
		if apiErr.StatusCode != 0 {
			status := apiErr.StatusCode
			info.Status = &status
		}
		if apiErr.JSON.Code.Valid() {
			info.Code, info.CodeType = apiErr.Code, "string"
		}
		if apiErr.JSON.Param.Valid() {
			info.Param = apiErr.Param
		}
		if apiErr.JSON.Type.Valid() {
			info.Type = apiErr.Type
		}
		if apiErr.JSON.Message.Valid() {
			info.Message = apiErr.Message
		}
		if apiErr.Response != nil {
			if id := apiErr.Response.Header.Get("x-request-id"); id != "" {
				info.RequestID = &id
			}
		}
	case errors.Is(err, context.DeadlineExceeded):
		info.Kind = "timeout"
	case errors.As(err, &netErr) && netErr.Timeout():
		info.Kind = "timeout"
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		info.Kind = "connection"
	case inStream:
		info.Kind = "stream"
	}
	return info
}

func run(id string, s scenario) {
	started := time.Now()
	credential := &fakeCredential{}
	if s.Client.Async { // openai-go has one client: every call blocks its goroutine
		send(map[string]any{"type": "driver_error", "id": id, "unsupported": true,
			"message": "unsupported: openai-go has no async client (every call blocks; a goroutine is the caller's own)"})
		return
	}
	if c := s.Client.Construction; c != nil && len(c.Environment) > 0 {
		defer withEnvironment(c.Environment)()
	}
	client, err := clientFor(s, credential)
	var inexpressible unsupported
	if errors.As(err, &inexpressible) {
		send(map[string]any{"type": "driver_error", "id": id, "unsupported": true, "message": inexpressible.Error()})
		return
	}
	if err != nil {
		send(map[string]any{"type": "driver_error", "id": id, "message": "could not build the client: " + err.Error()})
		return
	}
	deadline := s.DeadlineMs
	if deadline <= 0 {
		deadline = 30000
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(deadline)*time.Millisecond)
	defer cancel()
	// `repeat` calls on the one client, one after the other or all at once (`concurrent`),
	// call n with params_each[n] where given: the last call's result, the first error any
	// call raised (docs/driver-protocol.md).
	repeat := s.Operation.Repeat
	if repeat < 1 {
		repeat = 1
	}
	responses := make([]*http.Response, repeat)
	results := make([]*performed, repeat)
	errs := make([]error, repeat)
	call := func(n int) {
		o := s.Operation
		if n < len(o.ParamsEach) {
			o.Params = o.ParamsEach[n]
		}
		results[n] = &performed{}
		errs[n] = perform(context.WithValue(ctx, callKey{}, n), client, o,
			perRequest(o, &responses[n]), results[n])
	}
	if s.Operation.Concurrent {
		var group sync.WaitGroup
		for n := 0; n < repeat; n++ {
			group.Add(1)
			go func(n int) {
				defer group.Done()
				call(n)
			}(n)
		}
		group.Wait()
	} else {
		for n := 0; n < repeat; n++ {
			call(n)
		}
	}
	for _, callErr := range errs {
		if callErr != nil {
			err = callErr
			break
		}
	}
	p, response := results[repeat-1], responses[repeat-1]
	var unknown unknownOperation
	var bad badParams
	var lacking unsupported
	if errors.As(err, &lacking) {
		send(map[string]any{"type": "driver_error", "id": id, "message": err.Error(), "unsupported": true})
		return
	}
	if errors.As(err, &unknown) || errors.As(err, &bad) {
		send(map[string]any{"type": "driver_error", "id": id, "message": err.Error()})
		return
	}
	o := outcome{Result: p.result, Events: p.events, Read: p.read, TokenCalls: credential.recorded(),
		Constructed: s.Client.Construction != nil}
	if s.Client.Auth != nil && s.Client.Auth.Kind == "token_provider" {
		credential.mu.Lock()
		for n := 0; n < repeat; n++ {
			o.Calls = append(o.Calls, callTokens{ProviderTokens: append([]string{}, credential.byCall[n]...)})
		}
		credential.mu.Unlock()
	}
	if o.Read.DroppedParams == nil {
		o.Read.DroppedParams = []string{}
	}
	if o.Result == nil {
		o.Result = json.RawMessage("null")
	}
	if o.Events == nil {
		o.Events = []json.RawMessage{}
	}
	if err != nil {
		o.Error = describe(err, p.inStream, ctx.Err() != nil)
	}
	if err == nil && response != nil {
		if rid := response.Header.Get("x-request-id"); rid != "" {
			o.RequestID = &rid
			o.Read.RequestID = &rid
		}
	}
	o.ElapsedMs = time.Since(started).Milliseconds()
	send(map[string]any{"type": "outcome", "id": id, "outcome": o})
}

func sdkVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == sdkModule {
				// A module replaced by a folder (a patched copy of a release) has no version
				// of its own ("(devel)"): it is the version go.mod requires.
				if dep.Replace != nil && strings.HasPrefix(dep.Replace.Version, "v") {
					return dep.Replace.Version
				}
				return dep.Version
			}
		}
	}
	return "unknown"
}

func main() {
	send(map[string]any{"type": "hello", "protocol": protocol, "sdk": "go",
		"sdk_version": strings.TrimPrefix(sdkVersion(), "v"), "runtime": runtime.Version()})
	reader := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, readErr := reader.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var m message
			if err := json.Unmarshal(line, &m); err != nil {
				send(map[string]any{"type": "driver_error", "id": nil, "message": "not JSON: " + err.Error()})
			} else if m.Type == "shutdown" {
				os.Exit(0)
			} else if m.Type != "run" || m.ID == nil {
				send(map[string]any{"type": "driver_error", "id": m.ID, "message": fmt.Sprintf("unknown message type %q", m.Type)})
			} else {
				run(*m.ID, m.Scenario)
			}
		}
		if readErr != nil {
			os.Exit(0)
		}
	}
}
