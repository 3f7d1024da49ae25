"""Server-rendered inline SVG charts for the admin: no JavaScript, no external assets."""

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

STATUS_COLOURS = {
    "completed": "#2e7d32",
    "confirmed": "#1976d2",
    "pending": "#f9a825",
    "no_show": "#6d4c41",
    "cancelled": "#c62828",
    "referred": "#7b1fa2",
}
FONT = 'font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12"'


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def stacked_bars(buckets: Sequence[tuple[str, dict[str, int]]], *, width: int = 760, height: int = 280) -> SafeString:
    """One bar per bucket, stacked by status, with a legend and a labelled y axis."""
    left, right, top, bottom = 44, 12, 34, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(counts.values()) for _, counts in buckets]
    peak = max([*totals, 1])
    step = max(1, -(-peak // 4))  # gridlines at whole numbers
    ceiling = step * 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Appointments by status per week" {FONT}>'
    ]
    x = left
    for status, colour in STATUS_COLOURS.items():
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="18">{escape(status.replace("_", "-"))}</text>')
        x += 22 + 7 * len(status) + 14
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{step * k}</text>')
    slot = plot_w / max(len(buckets), 1)
    bar = min(slot * 0.7, 48)
    for index, (label, counts) in enumerate(buckets):
        x = left + slot * index + (slot - bar) / 2
        y = top + plot_h
        for status, colour in STATUS_COLOURS.items():
            count = counts.get(status, 0)
            if not count:
                continue
            h = plot_h * count / ceiling
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {count} {escape(status)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#333">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 30}" text-anchor="middle" fill="#777">'
            f"{totals[index]}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text above is escaped


def horizontal_bars(
    rows: Sequence[tuple[str, float | None]], *, colour: str, label: str, width: int = 420
) -> SafeString:
    """One bar per row for a rate between 0 and 1; a row without a value says so instead of drawing 0."""
    name_w, value_w, row_h, top = 140, 56, 26, 8
    bar_w = width - name_w - value_w
    height = top + row_h * max(len(rows), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" {FONT}>'
    ]
    for index, (name, value) in enumerate(rows):
        y = top + row_h * index
        short = name if len(name) <= 20 else name[:19] + "…"
        parts.append(f'<text x="{name_w - 8}" y="{y + 16}" text-anchor="end" fill="#333">{escape(short)}</text>')
        parts.append(f'<rect x="{name_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 8}" fill="#eee"/>')
        if value is not None:
            w = bar_w * min(max(value, 0.0), 1.0)
            parts.append(
                f'<rect x="{name_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}">'
                f"<title>{escape(name)}: {percent(value)}</title></rect>"
            )
        parts.append(f'<text x="{name_w + bar_w + 6}" y="{y + 16}" fill="#333">{percent(value)}</text>')
    if not rows:
        parts.append(f'<text x="8" y="{top + 16}" fill="#777">No doctors in this selection.</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text above is escaped
