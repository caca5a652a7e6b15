"""Reports for people and spreadsheets: the stockholder ledger as CSV or HTML, and one
self-contained HTML report (cap table, warrants, stockholder ledger, charts).

Charts: matplotlib, rendered to SVG and inlined in the page. A report is a record that is
kept, mailed and archived, so it should be one small, static, deterministic file: an SVG is
tens of kilobytes, needs no JavaScript (plotly would inline about 4 MB of it), renders the
same offline in any browser, prints sharply, and keeps its text selectable. Matplotlib is the
long-standing, well-kept default for this. Every figure a person reads is exact text in the
tables; the charts convert to float only to place points, and each chart has a table of its
exact figures beside it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

import projections
from ledger.records import RecordedEntry
from ledger.values import Money
from projections import CapTable, WarrantView
from projections.register import Register, register
from projections.report_data import OwnershipPoint, WarrantWindows, ownership_series, warrant_windows

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REGISTER_COLUMNS = ("lot", "class", "holder", "holder_name", "date", "event", "shares", "balance",
                    "amount", "detail", "entry", "citation_document", "citation_dated", "citation_section")


def _money(amounts: Iterable[Money]) -> str:
    return "; ".join(f"{m.amount} {m.currency}" for m in amounts)


def register_csv(reg: Register) -> str:
    """One row per event of each lot (the first is its issue or receipt), exact figures."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REGISTER_COLUMNS)
    for lot in reg.lots:
        for e in lot.events:
            writer.writerow([lot.lot, lot.share_class, lot.holder, lot.holder_name, e.effective.isoformat(),
                             e.event, e.shares, e.balance, _money(e.amounts), e.detail, e.entry,
                             e.citation.document, e.citation.dated.isoformat(), e.citation.section])
    return buffer.getvalue()


# --- HTML ------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       margin: 2rem auto; max-width: 1200px; padding: 0 1.5rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
     border-bottom: 2px solid #2b5d8a; padding-bottom: .2rem; }
.meta { color: #555; margin-top: 0; } .note { color: #555; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .86rem; margin: .6rem 0; }
th, td { border: 1px solid #d4d9de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef2f6; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; background: #f7f9fb; } tbody.lot tr:first-child td { background: #f4f8fc; }
tbody.lot tr:first-child td.lotid { font-weight: 600; }
.yes { color: #1d7a35; font-weight: 600; } .no { color: #a14a00; }
figure { margin: 1rem 0; } figcaption { color: #555; font-size: .85rem; }
svg { max-width: 100%; height: auto; }
"""


def _cell(value: object, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attr = f' class="{classes}"' if classes else ""
    return f"<td{attr}>{escape(str(value))}</td>"


def _head(*columns: str, numeric: Sequence[str] = ()) -> str:
    cells = "".join(f'<th class="n">{escape(c)}</th>' if c in numeric else f"<th>{escape(c)}</th>"
                    for c in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def _shares(value: int, signed: bool = False) -> str:
    return f"{value:+,}" if signed else f"{value:,}"


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def page(title: str, subtitle: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n<p class=\"meta\">{escape(subtitle)}</p>\n{body}\n</body>\n</html>\n")


def _as_of_text(as_of: date, known_at: datetime | None) -> str:
    return f"As of {as_of.isoformat()}" + (f", as known at {known_at.isoformat()}" if known_at else "")


def register_table(reg: Register) -> str:
    head = _head("Lot", "Holder", "Class", "Date", "Event", "Shares", "Balance", "Amount", "Detail",
                 "Entry", "Citation", numeric=("Shares", "Balance"))
    groups = []
    for lot in reg.lots:
        rows = []
        for i, e in enumerate(lot.events):
            first = i == 0
            rows.append("<tr>" + "".join([
                _cell(lot.lot if first else "", css="lotid"),
                _cell(f"{lot.holder_name} ({lot.holder})" if first else ""),
                _cell(reg.classes.get(lot.share_class, lot.share_class) if first else ""),
                _cell(_day(e.effective)), _cell(e.event),
                _cell(_shares(e.shares, signed=not first), numeric=True),
                _cell(_shares(e.balance), numeric=True),
                _cell(", ".join(str(m) for m in e.amounts) or "-"),
                _cell(e.detail + (f" (source: {lot.source}; held since {lot.held_since})" if first else "")),
                _cell(e.entry), _cell(str(e.citation)),
            ]) + "</tr>")
        groups.append(f'<tbody class="lot">{"".join(rows)}</tbody>')
    if not groups:
        groups.append('<tbody><tr><td colspan="11">No shares issued as of this date.</td></tr></tbody>')
    return f"<table>{head}{''.join(groups)}</table>"


def register_html(reg: Register) -> str:
    title = f"{reg.issuer_name or reg.issuer}: stockholder ledger"
    body = (register_table(reg) + '<p class="note">Each lot stands for a certificate: its issue, then '
            "every later change in the order it applies, with the running balance.</p>")
    return page(title, _as_of_text(reg.as_of, reg.known_at), body)


def cap_table_html(cap: CapTable, names: dict[str, str]) -> str:
    classes = sorted(cap.authorized)
    labels = [names.get(c, c) for c in classes]
    numeric = (*labels, "Warrant shares", "Fully diluted", "% fully diluted")
    rows = [
        "<tr>" + _cell(f"{row.name} ({row.holder})")
        + "".join(_cell(_shares(row.shares.get(c, 0)), True) for c in classes)
        + _cell(_shares(row.warrant_shares), True) + _cell(_shares(row.fully_diluted), True)
        + _cell(f"{row.percent_fully_diluted}%", True) + "</tr>"
        for row in cap.rows
    ]
    rows.append('<tr class="total">' + _cell("Outstanding")
                + "".join(_cell(_shares(cap.outstanding[c]), True) for c in classes)
                + _cell(_shares(cap.warrant_shares), True) + _cell(_shares(cap.fully_diluted), True)
                + _cell("100.0000%" if cap.fully_diluted else "-", True) + "</tr>")
    rows.append('<tr class="total">' + _cell("Authorized")
                + "".join(_cell(_shares(cap.authorized[c]), True) for c in classes)
                + _cell("") * 3 + "</tr>")
    head = _head("Holder", *labels, "Warrant shares", "Fully diluted", "% fully diluted", numeric=numeric)
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def warrants_html(views: Sequence[WarrantView], as_of: date) -> str:
    head = _head("Warrant", "Holder", "Class", "Status", "Shares", "Exercise price", "Exercisable from",
                 "Last day", f"Exercisable on {as_of}", "Next change", "Lineage",
                 numeric=("Shares", "Exercise price"))
    rows = []
    for w in views:
        lineage = "; ".join(filter(None, [
            f"replaces {w.replaces}" if w.replaces else "",
            f"replaced by {w.replaced_by}" if w.replaced_by else "",
            f"issued for {w.issued_for}" if w.issued_for else "",
            *(f"{a.entry}: {_shares(a.shares_before)} at {a.price_before} -> {_shares(a.shares_after)} "
              f"at {a.price_after}" for a in w.adjustments),
        ])) or "-"
        status = w.status + (f" since {w.status_date}" if w.status_date else "")
        rows.append("<tr>" + "".join([
            _cell(w.warrant), _cell(w.holder), _cell(w.share_class), _cell(status),
            _cell(_shares(w.shares), True), _cell(str(w.exercise_price), True),
            _cell(_day(w.exercisable_from)),
            _cell(_day(w.expires) if w.expires else "none stated"),
            _cell("yes" if w.exercisable else "no", css="yes" if w.exercisable else "no"),
            _cell(_day(w.next_change)), _cell(lineage),
        ]) + "</tr>")
    if not rows:
        rows.append('<tr><td colspan="11">No warrants issued as of this date.</td></tr>')
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def ownership_table(points: Sequence[OwnershipPoint], names: dict[str, str]) -> str:
    holders = sorted({h for p in points for h in p.shares})
    head = _head("From", *(names.get(h, h) for h in holders), "Fully diluted total", "Changed by",
                 numeric=(*(names.get(h, h) for h in holders), "Fully diluted total"))
    rows = [
        "<tr>" + _cell(_day(p.day))
        + "".join(_cell(f"{_shares(p.shares.get(h, 0))} ({p.percents.get(h, Decimal('0.0000'))}%)", True)
                  for h in holders)
        + _cell(_shares(p.total), True) + _cell(", ".join(p.entries)) + "</tr>"
        for p in points
    ]
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def windows_table(windows: Sequence[WarrantWindows], as_of: date) -> str:
    head = _head("Warrant", "Holder", "State", "From", "Through", "Shares", "Basis", numeric=("Shares",))
    rows = []
    for w in windows:
        for s in w.segments:
            state = "exercisable" if s.state == "exercisable" else "outstanding, not exercisable"
            basis = f"terms in force on {as_of}" if s.projected else "as it happened"
            rows.append("<tr>" + "".join([
                _cell(w.warrant), _cell(w.holder),
                _cell(state, css="yes" if s.state == "exercisable" else "no"),
                _cell(_day(s.start)), _cell(_day(s.end) if s.end else "no end stated"),
                _cell(_shares(s.shares), True), _cell(basis)]) + "</tr>")
    if not rows:
        rows.append('<tr><td colspan="7">No warrants issued as of this date.</td></tr>')
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


# --- charts ----------------------------------------------------------------------------

PALETTE = ("#2b5d8a", "#d1742c", "#3a8a4f", "#9c3d54", "#6b5b95", "#8a7a2b", "#2b8a86", "#555555")


def _figure(height: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, height), dpi=96, layout="constrained")
    return fig, fig.add_subplot()


def _x(day: date) -> float:
    """A plotting coordinate: days since matplotlib's date epoch (1970-01-01 unless changed)."""
    import matplotlib

    epoch: str = matplotlib.rcParams["date.epoch"]
    return float((day - date.fromisoformat(epoch[:10])).days)


def _date_axis(ax: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()  # type: ignore[no-untyped-call]  # matplotlib.dates is untyped
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _svg(fig: Figure) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "capledger"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "capledger (matplotlib)"})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: drop the XML declaration and DOCTYPE


def ownership_svg(points: Sequence[OwnershipPoint], as_of: date, names: dict[str, str]) -> str:
    """Fully diluted % per holder as a step chart, from the first change to ``as_of``."""
    fig, ax = _figure(3.4)
    holders = sorted({h for p in points for h in p.shares})
    days = [_x(p.day) for p in points]
    for i, holder in enumerate(holders):
        colour = PALETTE[i % len(PALETTE)]
        values = [float(p.percents.get(holder, 0)) for p in points]  # plotting coordinates only
        final = points[-1].percents.get(holder, Decimal("0.0000"))
        ax.step([*days, _x(as_of)], [*values, values[-1]], where="post", color=colour, linewidth=2,
                label=f"{names.get(holder, holder)}: {final}% on {as_of}")
        ax.plot(days, values, "o", color=colour, markersize=4)
    ax.set_ylim(0, 105)
    ax.set_ylabel("% fully diluted")
    ax.yaxis.set_major_formatter(lambda value, _: f"{value:.0f}%")
    ax.grid(True, color="#e3e7eb")
    if points:
        ax.set_xlim(_x(points[0].day) - 3, max(_x(as_of), _x(points[0].day) + 30) + 3)
        ax.legend(loc="lower left", frameon=True)
    else:
        ax.text(0.5, 0.5, "no shares or warrants as of this date", ha="center", transform=ax.transAxes)
    _date_axis(ax)
    ax.set_title(f"Ownership, fully diluted, to {as_of}", loc="left")
    return _svg(fig)


def windows_svg(windows: Sequence[WarrantWindows], as_of: date, start: date | None) -> str:
    """One row per warrant: outstanding but not exercisable (grey), exercisable (green); after
    the as-of date the terms in force on it (hatched). Open ends run to the chart's edge."""
    from matplotlib.colors import to_rgba

    fig, ax = _figure(1.3 + 0.6 * max(len(windows), 1))
    segments = [s for w in windows for s in w.segments]
    dated = [s.start for s in segments] + [s.end for s in segments if s.end]
    first = min([start, *dated] if start else dated, default=as_of)
    last = max([as_of, *dated])
    right = _x(last) + max(45, (_x(last) - _x(first)) / 5)
    for row, w in enumerate(windows):
        for s in w.segments:
            end = _x(s.end) + 1 if s.end else right
            colour, edge = ("#3a8a4f", "#1f5a30") if s.state == "exercisable" else ("#b9c0c8", "#6f7780")
            ax.barh(row, end - _x(s.start), left=_x(s.start), height=0.5,
                    color=to_rgba(colour, 0.45 if s.projected else 1.0), hatch="//" if s.projected else None,
                    edgecolor=edge if s.projected else "#ffffff", linewidth=0.5)
            if s.state == "exercisable":
                ax.text(_x(s.start), row - 0.3, f" exercisable from {s.start}"
                        + (f" through {s.end}" if s.end else ""), fontsize=8, va="bottom")
    ax.axvline(_x(as_of), color="#9c3d54", linestyle="--", linewidth=1)
    ax.text(_x(as_of), 0.02, f" as of {as_of}", color="#9c3d54", fontsize=8, va="bottom",
            transform=ax.get_xaxis_transform())
    ax.set_yticks(range(len(windows)), [f"{w.warrant}\n{w.holder}" for w in windows], fontsize=8)
    ax.set_ylim(len(windows) - 0.1, -0.8)
    ax.set_xlim(_x(first) - 5, right)
    ax.grid(True, axis="x", color="#e3e7eb")
    _date_axis(ax)
    ax.set_title("Warrants: outstanding (grey), exercisable (green); hatched: per the terms in force "
                 f"on {as_of}", loc="left")
    return _svg(fig)


# --- the whole report --------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    issuer: str
    issuer_name: str
    as_of: date
    known_at: datetime | None
    entries: int
    last_recorded: datetime | None
    cap: CapTable
    warrants: list[WarrantView]
    register: Register
    ownership: list[OwnershipPoint]
    windows: list[WarrantWindows]


def gather(records: Sequence[RecordedEntry], as_of: date, known_at: datetime | None = None) -> Report:
    known = [r for r in records if known_at is None or r.recorded_at <= known_at]
    reg = register(records, as_of, known_at)
    return Report(
        reg.issuer, reg.issuer_name, as_of, known_at, len(known),
        max((r.recorded_at for r in known), default=None),
        projections.cap_table(records, as_of, known_at), projections.warrants(records, as_of, known_at),
        reg, ownership_series(records, as_of, known_at), warrant_windows(records, as_of, known_at),
    )


def report_html(report: Report) -> str:
    names = {row.holder: row.name for row in report.cap.rows}
    names |= {lot.holder: lot.holder_name for lot in report.register.lots}
    class_names = report.register.classes
    first = report.ownership[0].day if report.ownership else None
    recorded = (f"; {report.entries} recorded entries, the last recorded at "
                f"{report.last_recorded.isoformat()}" if report.last_recorded else "")
    body = "\n".join([
        "<h2>Cap table</h2>",
        cap_table_html(report.cap, class_names),
        '<p class="note">Fully diluted = outstanding shares + shares under outstanding warrants, '
        "exercisable or not. Percentages are exact ratios rounded half-even to 4 places.</p>",
        "<h2>Warrants</h2>", warrants_html(report.warrants, report.as_of),
        "<h2>Ownership over time</h2>",
        f"<figure>{ownership_svg(report.ownership, report.as_of, names)}"
        "<figcaption>Fully diluted % per holder from each date on which it changed.</figcaption></figure>",
        ownership_table(report.ownership, names),
        "<h2>Warrant exercisability</h2>",
        f"<figure>{windows_svg(report.windows, report.as_of, first)}"
        "<figcaption>Each warrant's windows; the table gives the exact dates.</figcaption></figure>",
        windows_table(report.windows, report.as_of),
        "<h2>Stockholder ledger</h2>", register_table(report.register),
        '<p class="note">Figures are exact and computed from the cited ledger entries; charts place them '
        "approximately. Run <code>capledger explain HOLDER</code> for the entries behind each figure.</p>",
    ])
    title = f"{report.issuer_name or report.issuer}: capitalization report"
    return page(title, _as_of_text(report.as_of, report.known_at) + recorded, body)
