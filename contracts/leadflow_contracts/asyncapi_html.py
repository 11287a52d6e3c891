"""A static, self-contained HTML page of the AsyncAPI document (no scripts, no CDN).

Channels with who sends and who receives, then every message with its key, headers,
envelope schema and example, then every schema; ``$ref`` links jump within the page.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1,h2,h3{line-height:1.2}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}code,pre{font:13px/1.4 ui-monospace,
monospace}pre{background:#f7f7f7;padding:.8em;overflow:auto;max-height:30em}
.send{color:#0a6b2c}.receive{color:#1a4fa0}
"""


def _anchor(ref: str) -> str:
    return ref.removeprefix("#/").replace("/", "-")


def _json(value: Any) -> str:
    """Pretty JSON with every ``$ref`` a link to its section of the page."""
    text = escape(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))
    for ref in sorted(_refs(value), key=len, reverse=True):
        quoted = escape(json.dumps(ref))
        text = text.replace(quoted, f'<a href="#{_anchor(ref)}">{quoted}</a>')
    return f"<pre>{text}</pre>"


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def _operations_by_channel(document: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"].removeprefix("#/channels/")
        found.setdefault(channel, []).append((operation["action"], name.split(".")[0]))
    return found


def render_html(document: dict[str, Any]) -> str:
    info = document["info"]
    ops = _operations_by_channel(document)
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>{escape(info['title'])} {escape(info['version'])}</title><style>{_CSS}</style>",
        f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>",
        f"<p>{escape(info['description'])}</p>",
        "<p>Generated from the topic registry (AsyncAPI "
        f"{escape(document['asyncapi'])}: <a href='asyncapi.json'>asyncapi.json</a>).</p>",
        "<h2 id='servers'>Servers</h2><table><tr><th>name</th><th>host</th><th>protocol</th>"
        "<th>notes</th></tr>",
    ]
    for name, server in document["servers"].items():
        parts.append(
            f"<tr><td>{escape(name)}</td><td><code>{escape(server['host'])}</code></td>"
            f"<td>{escape(server['protocol'])}</td><td>{escape(server['description'])}</td></tr>"
        )
    parts.append(
        "</table><h2 id='channels'>Channels</h2><table><tr><th>topic</th><th>message</th>"
        "<th>sent by / received by</th><th>partitions</th><th>description</th></tr>"
    )
    for key, channel in document["channels"].items():
        kafka = channel["bindings"]["kafka"]
        links = ", ".join(
            f"<a href='#{_anchor(m['$ref'])}'>{escape(m['$ref'].rsplit('/', 1)[1])}</a>"
            for m in channel["messages"].values()
        )
        who = " ".join(
            f"<span class='{action}'>{escape(action)}: {escape(service)}</span>"
            for action, service in ops.get(key, [])
        )
        parts.append(
            f"<tr id='channels-{escape(key)}'><td><code>{escape(channel['address'])}</code></td>"
            f"<td>{links}</td><td>{who}</td><td>{kafka['partitions']}</td>"
            f"<td>{escape(channel['description'])}</td></tr>"
        )
    parts.append("</table><h2 id='messages'>Messages</h2>")
    for key, message in document["components"]["messages"].items():
        parts.append(f"<h3 id='components-messages-{escape(key)}'>{escape(message['title'])}</h3>")
        parts.append(f"<p>{escape(message.get('summary', ''))}</p>")
        key_binding = message.get("bindings", {}).get("kafka", {}).get("key")
        if key_binding:
            parts.append(f"<p>Record key: {escape(key_binding['description'])}.</p>")
        headers = ", ".join(f"<code>{escape(h)}</code>" for h in message["headers"]["properties"])
        parts.append(f"<p>Headers: {headers}</p><p>Value:</p>{_json(message['payload'])}")
        for example in message.get("examples", []):
            parts.append(f"<p>Example ({escape(example['name'])}):</p>{_json(example['payload'])}")
    parts.append("<h2 id='schemas'>Schemas</h2>")
    for key, schema in document["components"]["schemas"].items():
        parts.append(f"<h3 id='components-schemas-{escape(key)}'>{escape(key)}</h3>{_json(schema)}")
    parts.append("</html>\n")
    return "\n".join(parts)
