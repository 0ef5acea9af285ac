"""report.html of an evidence pack: one self-contained page, no script and no network
(its Content-Security-Policy forbids both), with the population's counts, its
privileged users, and charts over the retained history drawn as inline SVG."""

from collections import Counter
from html import escape
from typing import Any

from finspace_users.access_review.dormancy import dormant_before_ms, is_dormant
from finspace_users_cli.verified import tick_time

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
PRIVILEGED_COLUMNS = (
    "userId",
    "firstName",
    "lastName",
    "emailAddress",
    "status",
    "type",
    "apiAccess",
    "apiAccessPrincipalArn",
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def population_counts(users: list[dict[str, Any]], tick: str, dormant_days: int) -> dict[str, int]:
    """The figures of population.csv, counted from its own rows."""
    counts: Counter[str] = Counter(users=len(users))
    before_ms = dormant_before_ms(tick_time(tick), dormant_days)
    for user in users:
        counts[f"status {user.get('status')}"] += 1
        counts[f"type {user.get('type')}"] += 1
        counts["API access enabled"] += user.get("apiAccess") == "ENABLED"
        counts["dormant"] += is_dormant(user, before_ms)
    return dict(counts)


def _bars(title: str, ticks: list[str], series: dict[str, list[int]]) -> str:
    """A stacked bar chart: one bar per snapshot, one colour per series."""
    width, height, left, bottom = 720, 240, 50, 40
    totals = [sum(values[i] for values in series.values()) for i in range(len(ticks))] or [0]
    top = max(max(totals), 1)
    step = (width - left - 10) / max(len(ticks), 1)
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height + 30}" '
        f'viewBox="0 0 {width} {height + 30}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#333"/>',
        f'<text x="{left - 6}" y="14" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>',
    ]
    for index, tick in enumerate(ticks):
        base = float(height - bottom)
        for colour, (name, values) in zip(COLOURS, series.items(), strict=False):
            size = values[index] / top * (height - bottom - 10)
            base -= size
            parts.append(
                f'<rect x="{left + index * step + 1:.1f}" y="{base:.1f}" width="{max(step - 2, 1):.1f}" '
                f'height="{size:.1f}" fill="{colour}">'
                f"<title>{escape(tick)} {escape(name)}: {values[index]}</title></rect>"
            )
        if len(ticks) <= 12 or index % max(len(ticks) // 12, 1) == 0:
            parts.append(
                f'<text x="{left + index * step + step / 2:.1f}" y="{height - bottom + 14}" '
                f'text-anchor="middle" font-size="10">{escape(tick[:10])}</text>'
            )
    for number, (colour, name) in enumerate(zip(COLOURS, series, strict=False)):
        parts.append(f'<rect x="{left + number * 150}" y="{height}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + number * 150 + 14}" y="{height + 10}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _table(columns: list[str], rows: list[list[Any]], table_id: str) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if value is None else str(value))}</td>" for value in row) + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def report_html(
    source: str,
    tick: str,
    users: list[dict[str, Any]],
    summaries: list[tuple[str, dict[str, Any]]],
    dormant_days: int,
    left_out: list[str],
) -> str:
    counts = population_counts(users, tick, dormant_days)
    privileged = [
        [u.get(name) for name in PRIVILEGED_COLUMNS]
        for u in users
        if u.get("type") == "SUPER_USER" or u.get("apiAccess") == "ENABLED"
    ]
    ticks = [t for t, _ in summaries]

    def series(names: list[str], pick: Any) -> dict[str, list[int]]:
        return {name: [int(pick(summary, name) or 0) for _, summary in summaries] for name in names}

    statuses = sorted({name for _, s in summaries for name in (s.get("byStatus") or {})})
    types = sorted({name for _, s in summaries for name in (s.get("byType") or {})})
    charts = [
        _bars("Users by status", ticks, series(statuses, lambda s, n: (s.get("byStatus") or {}).get(n))),
        _bars("Users by type", ticks, series(types, lambda s, n: (s.get("byType") or {}).get(n))),
        _bars(
            "Grants per day",
            ticks,
            series(["superUserGrants", "apiAccessGrants"], lambda s, n: (s.get("changes") or {}).get(n)),
        ),
        _bars("Dormant users", ticks, series(["dormantUsers"], lambda s, n: s.get(n))),
    ]
    count_rows = [[name, value] for name, value in sorted(counts.items())]
    left = "".join(f"<li>{escape(tick)} does not verify and is left out</li>" for tick in left_out)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<link rel="icon" href="data:,">
<title>Access review {escape(tick)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; font-size: 13px; }}
figure {{ margin: 1em 0; }} figcaption {{ font-weight: bold; }}
</style></head><body>
<h1>Access review: snapshot {escape(tick)}</h1>
<p>Source <code>{escape(source)}</code>. Every snapshot shown verified: its signature, its chain link, its
objects' SHA-256. The population below is <code>population.csv</code> of this pack.</p>
<ul id="left-out">{left}</ul>
<h2>Counts</h2>
{_table(["what", "how many"], count_rows, "counts")}
<h2>Privileged users ({len(privileged)})</h2>
<p>Super users and users with API access.</p>
{
        _table(
            list(PRIVILEGED_COLUMNS),
            privileged,
            "privileged",
        )
    }
<h2>Over the retained history ({len(ticks)} verified snapshots)</h2>
{"".join(charts)}
</body></html>
"""
