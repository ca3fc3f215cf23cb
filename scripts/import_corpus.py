"""Import recorded exchanges from public projects' vcrpy cassettes into ``tests/corpus/real/``.

Each corpus file holds ONE interaction, as a plain vcrpy cassette.
``tests/corpus/real-manifest.yaml`` names, per file, the source repository, commit, path
and interaction index, the licence, the platform (``azure`` or ``openai``), the features it
shows, and what the import altered.
Only scrubbing is applied:

- Azure hosts become ``RESOURCE.openai.azure.com``; ``api.openai.com`` stays (a public host);
- request headers are reduced to ``content-type`` and ``accept`` (credentials, cookies,
  telemetry and client fingerprints go);
- response headers are reduced to an allow-list (ids, content type, rate limits, retry hints,
  Azure's region and model-session headers); cookies, organisation and project names go;
- compressed or ``parsed_body`` bodies are written back as the decoded text;
- secret-shaped values in bodies (resource hosts, keys, bearer values, MCP authorization
  headers and connector tokens) are replaced.

    python scripts/import_corpus.py survey DIR...                  # candidates in source trees
    python scripts/import_corpus.py import OWNER+NAME=GITDIR ...   # re-derive every listed file
    python scripts/import_corpus.py table                          # the README's table

``import`` reads the sources with ``git show COMMIT:PATH`` from local clones (GITDIR), so the
corpus can be re-derived from its manifest; nothing else of the source projects is used.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from conformance.wire import safe_yaml  # noqa: E402  (the one YAML reader)

CORPUS = ROOT / "tests" / "corpus" / "real"
MANIFEST = CORPUS.parent / "real-manifest.yaml"
PLACEHOLDER = "RESOURCE.openai.azure.com"

KEEP_REQUEST_HEADERS = {"content-type", "accept"}
KEEP_RESPONSE_HEADERS = {
    "content-type", "x-request-id", "apim-request-id", "openai-processing-ms",
    "openai-version", "retry-after", "retry-after-ms", "x-should-retry",
    "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
    "x-ms-region", "x-ms-rai-invoked", "x-ms-deployment-name", "azureml-model-session",
    "x-ms-client-request-id", "openai-model", "x-content-type-options",
    "strict-transport-security", "cmp-upstream-response-duration", "ms-azureml-model-time",
}
AZURE_HOST = re.compile(
    r"\b[a-z0-9][a-z0-9-]*\.(openai\.azure\.com|cognitiveservices\.azure\.com|"
    r"services\.ai\.azure\.com|openai\.azure-api\.net)\b", re.I)
SECRETS = [
    (re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{16,}"), "sk-REDACTED"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{12,}"), "Bearer REDACTED"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"), "REDACTED.JWT"),
    (re.compile(r"(?i)/subscriptions/[0-9a-f-]{36}"),
     "/subscriptions/00000000-0000-0000-0000-000000000000"),
    (re.compile(r"(?i)/resourceGroups/[^/\"'\s]+"), "/resourceGroups/RESOURCE-GROUP"),
]


# -- reading ---------------------------------------------------------------------------------


def _raw_body(part: dict[str, Any], response: bool) -> bytes | None:
    if "parsed_body" in part:
        return json.dumps(part["parsed_body"]).encode()
    body = part.get("body")
    if response:
        body = (body or {}).get("string") if isinstance(body, dict) else body
    if body is None:
        return None
    return body.encode() if isinstance(body, str) else bytes(body)


def _headers(part: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, values in (part.get("headers") or {}).items():
        values = values if isinstance(values, list) else [values]
        out[str(name).lower()] = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return out


def _decode(raw: bytes, encoding: str | None) -> tuple[bytes, bool]:
    if not encoding or raw.lstrip()[:1] in (b"{", b"[", b"d", b"e"):
        return raw, False
    if encoding == "gzip":
        return gzip.decompress(raw), True
    if encoding == "deflate":
        return zlib.decompress(raw), True
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return brotli.decompress(raw), True
    raise ValueError(f"cannot decode {encoding}")


def host_of(uri: str) -> str:
    return re.sub(r"^[a-z]+://", "", uri).split("/", 1)[0].split(":")[0].lower()


def platform_of(uri: str) -> str | None:
    host = host_of(uri)
    if host == "api.openai.com":
        return "openai"
    if AZURE_HOST.fullmatch(host):
        return "azure"
    return None


# -- what an interaction shows ---------------------------------------------------------------


def features(uri: str, request: Any, status: int, body: str) -> list[str]:
    path = uri.split("?")[0].rstrip("/")
    found: list[str] = []
    stream = "data:" in body[:200] or body.lstrip().startswith("event:")
    if status >= 400:
        return [f"error-{status}"]
    if re.search(r'"logprobs"\s*:\s*\[\s*\{', body) or re.search(r'"logprobs"\s*:\s*\{', body):
        found.append("logprobs")
    if '"image_url"' in json.dumps(request) or '"input_image"' in json.dumps(request):
        found.append("image-input")
    if path.endswith("/chat/completions"):
        found.append("chat-stream" if stream else "chat")
        req = request if isinstance(request, dict) else {}
        if req.get("tools") or '"tool_calls"' in body:
            found.append("chat-tool-calls")
        if (req.get("n") or 1) > 1:
            found.append("chat-n")
        if req.get("logprobs"):
            found.append("chat-logprobs")
        if '"refusal":"' in body.replace(" ", "") or '"refusal": "' in body:
            found.append("chat-refusal")
        if "content_filter_results" in body or "prompt_filter_results" in body:
            found.append("azure-content-filter")
    elif "/responses" in path:
        found.append("responses-stream" if stream else "responses")
        if '"reasoning"' in body and '"summary_text"' in body:
            found.append("reasoning-summary")
        if '"encrypted_content":"' in body.replace(" ", ""):
            found.append("encrypted-reasoning")
        if '"function_call"' in body:
            found.append("function-call")
        for kind in ("mcp_list_tools", "mcp_call", "mcp_approval_request"):
            if f'"{kind}"' in body:
                found.append(kind.replace("_", "-"))
        tools = request.get("tools") if isinstance(request, dict) else None
        if any(isinstance(t, dict) and t.get("connector_id") for t in tools or []):
            found.append("mcp-connector")
        if isinstance(request, dict) and any(
                isinstance(i, dict) and i.get("type") == "mcp_approval_response"
                for i in request.get("input") or [] if isinstance(request.get("input"), list)):
            found.append("mcp-approval-response")
        if '"status":"incomplete"' in body.replace(" ", ""):
            found.append("incomplete")
    elif path.endswith("/embeddings"):
        fmt = (request or {}).get("encoding_format") if isinstance(request, dict) else None
        found.append("embeddings-base64" if fmt == "base64" else "embeddings-float")
    return found


# -- scrubbing -------------------------------------------------------------------------------


def _scrub_text(text: str, altered: set[str]) -> str:
    new = AZURE_HOST.sub(PLACEHOLDER, text)
    if new != text:
        altered.add("Azure resource hostnames in the body replaced by the placeholder")
    for pattern, replacement in SECRETS:
        newer = pattern.sub(replacement, new)
        if newer != new:
            altered.add(f"secret-shaped values replaced by {replacement!r}")
        new = newer
    return new


def _scrub_request_json(request: Any, altered: set[str]) -> Any:
    if not isinstance(request, dict):
        return request
    for n, tool in enumerate(request.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            if tool.get("authorization"):
                tool["authorization"] = "REDACTED"
                altered.add(f"request tools[{n}].authorization replaced by 'REDACTED'")
            if isinstance(tool.get("headers"), dict):
                tool["headers"] = {k: "REDACTED" for k in tool["headers"]}
                altered.add(f"request tools[{n}].headers values replaced by 'REDACTED'")
    return request


def convert(interaction: dict[str, Any]) -> tuple[dict[str, Any], list[str], str, list[str]]:
    """One source interaction -> (scrubbed interaction, alterations, platform, features)."""
    altered: set[str] = set()
    req, resp = interaction["request"], interaction["response"]
    uri = str(req["uri"])
    platform = platform_of(uri)
    if platform is None:
        raise ValueError(f"not an OpenAI or Azure OpenAI host: {host_of(uri)}")
    if platform == "azure" and host_of(uri) != PLACEHOLDER.lower():
        uri = re.sub(r"^(https?://)[^/]+", rf"\g<1>{PLACEHOLDER}", uri)
        altered.add("request host replaced by the placeholder RESOURCE.openai.azure.com")
    req_headers, resp_headers = _headers(req), _headers(resp)
    dropped_req = sorted(set(req_headers) - KEEP_REQUEST_HEADERS)
    if dropped_req:
        altered.add("request headers dropped: " + ", ".join(dropped_req))
    raw_req = _raw_body(req, response=False)
    if "parsed_body" in req:
        altered.add("request parsed_body written back as a JSON string")
    request_json: Any = None
    request_body: str | None = None
    if raw_req:
        raw_req, was = _decode(raw_req, (req_headers.get("content-encoding") or [None])[0])
        if was:
            altered.add("request body decompressed")
        text = raw_req.decode("utf-8")
        try:
            request_json = json.loads(text)
        except ValueError:
            request_body = _scrub_text(text, altered)
        else:
            request_json = _scrub_request_json(request_json, altered)
            request_body = _scrub_text(json.dumps(request_json), altered)
    raw_resp = _raw_body(resp, response=True) or b""
    if "parsed_body" in resp:
        altered.add("response parsed_body written back as a string")
    raw_resp, was = _decode(raw_resp, (resp_headers.get("content-encoding") or [None])[0])
    if was:
        altered.add("response body decompressed (content-encoding header dropped)")
    body = _scrub_text(raw_resp.decode("utf-8"), altered)
    kept = {k: v for k, v in resp_headers.items() if k in KEEP_RESPONSE_HEADERS}
    dropped_resp = sorted(set(resp_headers) - set(kept))
    if dropped_resp:
        altered.add("response headers dropped: " + ", ".join(dropped_resp))
    for name in ("x-request-id", "apim-request-id"):
        if name in kept:
            kept[name] = [_scrub_text(v, altered) for v in kept[name]]
    out = {
        "request": {
            "body": request_body,
            "headers": {k: v for k, v in req_headers.items() if k in KEEP_REQUEST_HEADERS},
            "method": req["method"],
            "uri": uri,
        },
        "response": {
            "body": {"string": body},
            "headers": kept,
            "status": {"code": int(resp["status"]["code"]),
                       "message": str(resp["status"].get("message") or "")},
        },
    }
    return out, sorted(altered), platform, features(uri, request_json,
                                                     int(resp["status"]["code"]), body)


def load_source(text: str) -> list[dict[str, Any]]:
    data = safe_yaml.loads(text)
    return list(data.get("interactions") or [])


def write(path: Path, interaction: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({"interactions": [interaction], "version": 1}, sort_keys=True,
                          allow_unicode=False, width=100)
    path.write_text(text, encoding="utf-8")


# -- commands --------------------------------------------------------------------------------


def survey(dirs: list[str]) -> int:
    for base in dirs:
        for path in sorted(Path(base).rglob("*.yaml")):
            try:
                interactions = load_source(path.read_text(encoding="utf-8"))
            except Exception:  # a survey skips what it cannot read
                continue
            for n, item in enumerate(interactions):
                try:
                    _, _, platform, found = convert(item)
                except Exception:
                    continue
                print(f"{platform}\t{int(item['response']['status']['code'])}\t"
                      f"{','.join(found)}\t{path}:{n}")
    return 0


def import_all(mirrors: list[str]) -> int:
    where = dict(m.split("=", 1) for m in mirrors)
    manifest = safe_yaml.loads(MANIFEST.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        src = entry["source"]
        gitdir = where.get(src["repository"].replace("/", "+"))
        if gitdir is None:
            continue  # another repository's entry: left as it is
        text = subprocess.run(["git", "-C", gitdir, "show", f"{src['commit']}:{src['path']}"],
                              check=True, capture_output=True, text=True).stdout
        item = load_source(text)[src["interaction"]]
        converted, altered, platform, found = convert(item)
        write(CORPUS / entry["file"], converted)
        entry["altered"] = altered
        entry["platform"] = platform
        entry["features"] = found
    MANIFEST.write_text(yaml.safe_dump(manifest, sort_keys=False, width=100), encoding="utf-8")
    return 0


def add(args: list[str]) -> int:
    """``add REPO COMMIT LICENCE GITDIR PATH:INDEX=NAME ...``: append entries and import them."""
    repo, commit, licence, gitdir, *items = args
    manifest = (safe_yaml.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists()
                else {"files": []})
    known = {e["file"] for e in manifest["files"]}
    for item in items:
        spec, name = item.rsplit("=", 1)
        path, index = spec.rsplit(":", 1)
        if name in known:
            continue
        manifest["files"].append({"file": name, "source": {
            "repository": repo, "commit": commit, "path": path, "interaction": int(index)},
            "licence": licence})
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(yaml.safe_dump(manifest, sort_keys=False, width=100), encoding="utf-8")
    return import_all([f"{repo.replace('/', '+')}={gitdir}"])


def table(manifest: dict[str, Any]) -> str:
    """The corpus README's table: exchanges per feature (rows) and source project (columns)."""
    entries = manifest["files"]
    sources = sorted({e["source"]["repository"] for e in entries})
    features_seen = sorted({f for e in entries for f in e["features"]})
    short = [s.split("/")[1] for s in sources]
    lines = ["| feature | " + " | ".join(short) + " | total |",
             "|---|" + "---:|" * (len(sources) + 1)]
    for feature in features_seen:
        counts = [sum(1 for e in entries if e["source"]["repository"] == s
                      and feature in e["features"]) for s in sources]
        lines.append(f"| {feature} | " + " | ".join(str(c or "") for c in counts)
                     + f" | {sum(counts)} |")
    for platform in ("azure", "openai"):
        counts = [sum(1 for e in entries if e["source"]["repository"] == s
                      and e["platform"] == platform) for s in sources]
        lines.append(f"| **{platform} exchanges** | " + " | ".join(str(c or "") for c in counts)
                     + f" | {sum(counts)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("command", choices=["survey", "import", "add", "table"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.command == "survey":
        return survey(args.args)
    if args.command == "add":
        return add(args.args)
    if args.command == "table":
        print(table(safe_yaml.loads(MANIFEST.read_text(encoding="utf-8"))), end="")
        return 0
    return import_all(args.args)


if __name__ == "__main__":
    raise SystemExit(main())
