"""``vectros-usage config check`` and ``config path``: what the settings resolve to,
each with where it came from. Never contacts the API, never shows the token."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui import profiles
from tui.config import ConfigError, Resolved, resolve_explained
from tui.format import safe_text


def redacted(length: int) -> str:
    """The token as it is shown: its length, not one character of it."""
    return f"‹redacted, {length} chars›"


def report(resolved: Resolved) -> dict[str, Any]:
    s, src = resolved.settings, resolved.sources
    t = s.thresholds
    return {
        "config_file": {"path": str(resolved.config.path), "exists": resolved.config.exists},
        "profile": {"value": s.profile, "source": resolved.profile_source},
        "base_url": {"value": s.base_url, "source": src["base_url"]},
        "path": {"value": s.path, "source": src["path"]},
        # Always a float (5.0, not 5), whether from the default, a flag or the file.
        "interval": {"value": float(s.interval), "source": src["interval"]},
        "token": {"value": redacted(len(s.token.reveal())), "source": src["token"]},
        "ca_bundle": {"value": s.ca_bundle, "source": src["ca_bundle"]},
        "thresholds": {
            name: {"value": getattr(t, name), "source": where}
            for name, where in resolved.threshold_sources.items()
        },
        "api_contacted": False,
    }


def _shown(value: object) -> str:
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_text(str(value), limit=300)


def render(data: dict[str, Any]) -> str:
    file = data["config_file"]
    lines = [
        f"config file  {safe_text(file['path'], limit=300)}"
        + ("" if file["exists"] else "  (does not exist: no profiles)"),
        f"profile      {data['profile']['value'] or '—'}  ({data['profile']['source']})",
    ]
    rows = [
        ("base URL", data["base_url"]),
        ("path", data["path"]),
        ("interval", {**data["interval"], "value": f"{data['interval']['value']:g} s"}),
        ("token", data["token"]),
        ("CA bundle", {**data["ca_bundle"], "value": data["ca_bundle"]["value"] or "certifi's"}),
    ]
    lines += [
        f"{k:<12} {_shown(v['value'])}  ({safe_text(v['source'], limit=300)})" for k, v in rows
    ]
    lines.append("thresholds")
    width = max(len(n) for n in data["thresholds"])
    for name, v in data["thresholds"].items():
        lines.append(f"  {name:<{width}}  {_shown(v['value']):>6}  ({v['source']})")
    lines.append("(the API was not contacted)")
    return "\n".join(lines)


def run_config(args: argparse.Namespace) -> int:
    if args.config_command == "path":
        path, _ = profiles.config_path()
        print(path)
        return 0
    if args.demo:
        raise ConfigError("config check checks the settings for a real API: drop --demo")
    try:
        resolved = resolve_explained(
            base_url=getattr(args, "base_url", None),
            interval=getattr(args, "interval", None),
            path=getattr(args, "path", None),
            allow_insecure=getattr(args, "allow_insecure", False),
            ca_bundle=getattr(args, "ca_bundle", None),
            profile=getattr(args, "profile", None),
        )
    except ConfigError as exc:
        # What someone runs this to find out, even when nothing resolves: where the
        # file was looked for.
        path, named = profiles.config_path()
        where = "named by $VECTROS_USAGE_CONFIG" if named else "the default place"
        found = "found" if path.exists() else "not found"
        raise ConfigError(f"{exc}\n  config file: {path} ({where}; {found})") from None
    data = report(resolved)
    out = json.dumps(data, indent=2, ensure_ascii=False) if args.json else render(data)
    print(out)
    sys.stdout.flush()
    return 0
