"""``report.html``: one self-contained page (no network assets) with the checks of one or more
runs in a table, filterable by feature, verdict and SDK; a click on a check opens its claim,
doc section, observations and message."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from ..registry import FEATURES, Verdict
from ..results import CheckResult, Results
from .text import first_line, scrub

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1f2328}
h1{font-size:1.4em;margin:0 0 .3em}
.runs{margin:.4em 0 1em;padding:0;list-style:none}
.runs li{margin:.15em 0}
.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:center;margin:.8em 0;
  position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #d0d7de}
.filters label{font-weight:600}
select,input{font:inherit;padding:.15em .3em}
table{border-collapse:collapse;width:100%}
th{text-align:left;border-bottom:2px solid #d0d7de;padding:.3em .5em}
tr.row td{border-top:1px solid #eaeef2;padding:.3em .5em;vertical-align:top;cursor:pointer}
tr.row:hover td{background:#f6f8fa}
td.sdk{white-space:nowrap}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
td.msg{color:#57606a}
.v{display:inline-block;min-width:6.5em;padding:0 .4em;border-radius:1em;text-align:center;
  font-weight:600;font-size:.9em}
.v-pass{background:#dafbe1;color:#116329}.v-fail{background:#ffebe9;color:#a40e26}
.v-error{background:#fff1e5;color:#953800}.v-unsupported{background:#ddf4ff;color:#0550ae}
.v-skipped{background:#eaeef2;color:#57606a}
tr.more td{background:#f6f8fa;padding:.6em 1em 1em}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}
dt{font-weight:600}dd{margin:0}
.gate{border:2px solid #d0d7de;border-radius:6px;padding:.6em 1em;margin:.6em 0 1em}
.gate-blocked{border-color:#cf222e;background:#fff8f7}.gate-passed{border-color:#1a7f37}
.gate h2{font-size:1.1em;margin:.7em 0 .3em}.decision{font-size:1.15em;margin:.2em 0}
.d{font-weight:700;text-transform:uppercase;padding:.1em .5em;border-radius:4px;color:#fff}
.d-blocked{background:#cf222e}.d-passed{background:#1a7f37}
.changes{padding-left:1.2em}.changes li{margin:.3em 0}.why{color:#57606a}
table.values{width:auto;margin:.2em 0 .4em;font-size:.92em}
table.values td,table.values th{border:1px solid #eaeef2;padding:.1em .5em;vertical-align:top}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font-size:12.5px;
  font-family:ui-monospace,Menlo,Consolas,monospace;background:#fff;border:1px solid #d0d7de;
  padding:.5em;border-radius:4px;max-height:28em;overflow:auto}
"""

_SCRIPT = """
(function(){
  const pick = {feature: document.getElementById('f-feature'),
                verdict: document.getElementById('f-verdict'),
                sdk: document.getElementById('f-sdk')};
  const text = document.getElementById('f-text');
  const shown = document.getElementById('shown');
  const checks = Array.from(document.querySelectorAll('tbody.check'));
  function apply(){
    let n = 0;
    const needle = text.value.trim().toLowerCase();
    for (const body of checks){
      let ok = true;
      for (const key in pick){
        if (pick[key].value && body.dataset[key] !== pick[key].value) ok = false;
      }
      if (ok && needle && !body.textContent.toLowerCase().includes(needle)) ok = false;
      body.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = n + ' of ' + checks.length + ' checks';
  }
  for (const key in pick) pick[key].addEventListener('change', apply);
  text.addEventListener('input', apply);
  for (const body of checks){
    body.querySelector('tr.row').addEventListener('click', function(){
      const more = body.querySelector('tr.more');
      more.hidden = !more.hidden;
    });
  }
  const params = new URLSearchParams(location.hash.slice(1));
  for (const key in pick){ if (params.get(key)) pick[key].value = params.get(key); }
  if (params.get('open') === 'all'){
    for (const more of document.querySelectorAll('tr.more')) more.hidden = false;
  }
  apply();
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _sdk(results: Results) -> str:
    """The SDK(s) the run judged: a driver SDK's run is named after it, not this Python."""
    from .diff import judged

    return judged(results)


def _select(name: str, label: str, values: Sequence[str]) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (f'<label for="f-{name}">{label}</label> <select id="f-{name}">'
            f'<option value="">all</option>{options}</select>')


def _check(run: str, check: CheckResult) -> str:
    if check.sdk != "python":  # a driver SDK's verdict: name that SDK, not the run's python
        run = f"{check.sdk} {check.sdk_version}".rstrip()
    message = scrub(check.message)
    observations = json.dumps(scrub(check.observations), indent=2, ensure_ascii=False)
    verdict = check.verdict.value
    rows = [("claim", _e(check.claim)), ("doc section", _e(check.doc)), ("sdk", _e(run))]
    if check.cassette:
        rows.append(("cassette", f"<code>{_e(check.cassette)}</code>"))
    if message:
        rows.append(("message", f"<pre>{_e(message)}</pre>"))
    rows.append(("observations", f"<pre>{_e(observations)}</pre>"))
    details = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<tbody class="check" data-feature="{_e(check.feature)}" data-verdict="{verdict}" '
        f'data-sdk="{_e(run)}" id="{_e(run)}:{_e(check.id)}">'
        f'<tr class="row"><td class="id">{_e(check.id)}</td><td>{_e(check.feature)}</td>'
        f'<td class="sdk">{_e(run)}</td><td><span class="v v-{verdict}">{verdict}</span></td>'
        f'<td class="msg">{_e(first_line(message))}</td></tr>'
        f'<tr class="more" hidden><td colspan="5"><dl>{details}</dl></td></tr></tbody>'
    )


def _attention_first(run: Results) -> list[CheckResult]:
    ordered = [c for checks in run.by_feature().values() for c in checks]
    return sorted(ordered, key=lambda c: c.verdict not in (Verdict.FAIL, Verdict.ERROR))


def render(runs: Sequence[Results], lead: str = "") -> str:
    """The page; ``lead`` (HTML: a gate's decision and changes) heads it, above the runs."""
    names = [_sdk(r) for r in runs]
    title = "Azure OpenAI v1 conformance: " + ", ".join(names)
    features = sorted({c.feature for r in runs for c in r.checks},
                      key=lambda f: (FEATURES.index(f) if f in FEATURES else 99, f))
    summaries = []
    for run, name in zip(runs, names, strict=True):
        counts = ", ".join(f"{n} {v}" for v, n in run.summary.items() if n) or "none ran"
        where = run.target.get("endpoint") or run.target.get("cassettes") or ""
        summaries.append(
            f"<li><strong>{_e(name)}</strong> ({_e(run.sdk_info.get('http_library', '?'))} "
            f"{_e(run.sdk_info.get('http_library_version', '?'))}), "
            f"{_e(run.target.get('mode', '?'))}"
            f" {_e(where)}, started {_e(run.started_at or '?')}: {len(run.checks)} checks: "
            f"{_e(counts)}"
            + (f' <strong class="interrupted">INTERRUPTED: {_e(str(run.interrupted))}; the '
               "run did not finish and did not pass</strong>" if run.interrupted else "")
            + "</li>")
    # What needs a reader first: fail and error rows, then the rest, by feature.
    bodies = [_check(name, check) for run, name in zip(runs, names, strict=True)
              for check in _attention_first(run)]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        lead,
        f'<ul class="runs">{"".join(summaries)}</ul>',
        '<div class="filters">',
        _select("feature", "feature", features),
        _select("verdict", "verdict", [v.value for v in Verdict]),
        _select("sdk", "SDK", [*names, *dict.fromkeys(
            f"{c.sdk} {c.sdk_version}".rstrip() for r in runs for c in r.checks
            if c.sdk != "python")]),
        '<label for="f-text">text</label> <input id="f-text" type="search" '
        'placeholder="id, message, observation">',
        '<span id="shown"></span></div>',
        "<table><thead><tr><th>check</th><th>feature</th><th>SDK</th><th>verdict</th>"
        "<th>message</th></tr></thead>",
        *bodies,
        "</table>",
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
        "",
    ])
