"""What a report shows, gathered once (database → plain values) so templates never query."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

import clock
from accounts.days import plant_days
from accounts.models import User
from actions.models import CorrectiveAction, Finding
from charts import category_chart, line_chart
from checklists.models import Checklist, ChecklistCategory
from checklists.schemes import DEFAULT_GRADES, scheme_from_dict
from clock.periods import previous_month
from inspections.markup import layers_of, overlay_svg
from inspections.models import Inspection, InspectionStatus, is_finding_answer
from inspections.photo_uploads import photos_by_item
from inspections.service import answers_by_key
from inspections.signatures import signatures_of
from inspections.submission import corrections_of
from inspections.trends import (
    category_names_in_order,
    mean,
    series_from_points,
    trends_by_workshop,
    version_changes,
    workshop_trend,
)
from plans.figures import plan_figures, trend_with_missed
from quality.charts import MAX_PARETO_BARS, pareto_chart
from quality.charts import control_chart as control_chart_svg
from quality.service import control_chart, pareto_of_findings, signal_words
from redtags.models import OUTCOME_NAMES_ZH, REASON_NAMES_ZH, RedTag
from reports.language import ReportLanguage
from reports.periods import band_colour, finding_rows, heat_level, league_table, top_findings


def previous_inspection(*, session: Session, inspection: Inspection) -> Inspection | None:
    return session.exec(
        select(Inspection)
        .where(Inspection.workshop_id == inspection.workshop_id,
               Inspection.status == InspectionStatus.submitted,
               Inspection.submitted_at < inspection.submitted_at)
        .order_by(Inspection.submitted_at.desc())
    ).first()


def inspection_report_context(*, session: Session, inspection: Inspection, words: ReportLanguage | None = None) -> dict:
    """Rendered from the version the inspection used, never the current one; names and chart labels in `words`'
    language (the screen's by default)."""
    words = words or ReportLanguage.of_screen()
    version = inspection.version
    scheme = scheme_from_dict(version.scheme)
    answers = answers_by_key(inspection)
    photos = photos_by_item(session=session, inspection=inspection)
    results = list(inspection.category_results)
    previous = previous_inspection(session=session, inspection=inspection)
    previous_by_key = {r.category_key: r.percent for r in previous.category_results} if previous else {}
    category_of = {category.key: category for category in version.categories}
    labels = [words.name(category_of[r.category_key]) if r.category_key in category_of else r.category_name
              for r in results]
    radar = category_chart(
        labels, [r.percent for r in results],
        [previous_by_key.get(r.category_key) for r in results] if previous else None,
        size=300, title=words.plain("各类别得分"),
    )
    zone = clock.zone_of(inspection.workshop.plant)
    history = [p for p in workshop_trend(session=session, workshop_id=inspection.workshop_id)
               if p.submitted_at <= inspection.submitted_at][-12:]
    sparkline = line_chart(
        [clock.local(p.submitted_at, zone).strftime("%m-%d") for p in history],
        [(words.plain("总分"), [p.overall_percent for p in history])], width=420, height=170,
        title=words.plain("近期总分"),
    ) if len(history) > 1 else None
    categories = [
        {
            "key": category.key,
            "name": words.name(category),
            "result": next((r for r in results if r.category_key == category.key), None),
            "previous_percent": previous_by_key.get(category.key),
            "items": [{"item": item, "answer": answers.get(item.key), "photos": photos.get(item.id, [])}
                      for item in category.items],
        }
        for category in version.categories
    ]
    corrections = correction_rows(session=session, inspection=inspection)
    corrected_keys = {c["item"].key for c in corrections}
    for category in categories:
        for row in category["items"]:
            row["corrected"] = row["item"].key in corrected_keys
            row["is_finding"] = is_finding_answer(row["answer"], scheme)
        category["findings"] = [row for row in category["items"] if row["is_finding"]]
    return {
        "inspection": inspection,
        "workshop": inspection.workshop,
        "plant": inspection.workshop.plant,
        "version": version,
        "checklist": version.checklist,
        "scheme": scheme,
        "categories": categories,
        "radar": radar,
        "sparkline": sparkline,
        "previous": previous,
        "findings_count": sum(len(c["findings"]) for c in categories),
        # what a paper sheet adds up: the applicable categories' points out of their maxima
        "totals": (sum(r.points for r in results if r.percent is not None),
                   sum(r.max_points for r in results if r.percent is not None)),
        # inspector first, then the countersign and the approval
        "signatures": list(signatures_of(session, inspection).values()),
        "corrections": corrections,
        "actions": actions_by_item(session=session, inspection=inspection),
        "markups": layers_of(session, [p.id for listed in photos.values() for p in listed]),
        "overlay": overlay_svg,
    }


def actions_by_item(*, session: Session, inspection: Inspection) -> dict:

    rows = session.exec(select(CorrectiveAction, Finding).join(Finding, CorrectiveAction.finding_id == Finding.id)
                        .where(Finding.inspection_id == inspection.id)).all()
    return {finding.item_key: action for action, finding in rows}


def correction_rows(*, session: Session, inspection: Inspection) -> list[dict]:
    """Each correction with its item and the manager who made it, oldest first."""
    corrections = corrections_of(session, inspection)
    if not corrections:
        return []
    items = {item.id: item for category in inspection.version.categories for item in category.items}
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_({c.user_id for c in corrections})))}
    return [{"correction": c, "item": items[c.item_id], "by": users[c.user_id]} for c in corrections]


def category_names(session: Session, inspection_ids: list[int], words: ReportLanguage) -> dict[str, str]:
    """key → the categories' names in `words`' language: name_en where the versions have one, both in a
    bilingual report, the Chinese (marked † in a report) where there is none."""

    chinese = category_names_in_order(session=session, inspection_ids=inspection_ids, english=False)
    if words.code == "zh":
        return chinese
    english = category_names_in_order(session=session, inspection_ids=inspection_ids, english=True)
    return {key: words.words(name, english.get(key) if english.get(key) != name else None)
            for key, name in chinese.items()}


def category_word(session: Session, inspection_ids: list[int], words: ReportLanguage):
    """A category's stored (Chinese) name → its name in `words`' language, for rows that carry only the name
    (findings, actions): the name_en of the versions these inspections used."""

    english: dict[str, str] = {}
    if words.code != "zh" and inspection_ids:
        versions = select(Inspection.version_id).where(Inspection.id.in_(inspection_ids)).distinct()
        for name, name_en in session.exec(select(ChecklistCategory.name, ChecklistCategory.name_en)
                                          .where(ChecklistCategory.version_id.in_(versions))):
            if name_en:
                english.setdefault(name, name_en)
    return lambda name: name if words.code == "zh" else words.words(name, english.get(name))


def workshop_report_context(*, session: Session, workshop, period, words: ReportLanguage | None = None) -> dict:
    """A workshop's history over a period (days at its plant): trend, each inspection, the most frequent and the
    open findings, the actions and red tags of the period; its words in `words`' language (the screen's)."""
    words = words or ReportLanguage.of_screen()

    zone = clock.zone_of(workshop.plant)
    since, until = period.bounds(zone)
    points = workshop_trend(session=session, workshop_id=workshop.id, since=since, until=until)
    ids = [p.inspection_id for p in points]
    names = category_names(session, ids, words)
    inspections = {i.id: i for i in session.exec(select(Inspection).where(Inspection.id.in_(ids)))} if ids else {}

    planned = plan_figures(session, [workshop], period.start, period.end, plant_days(session))
    missed = planned.missed.get(workshop.id, [])
    axis = trend_with_missed([clock.local(p.submitted_at, zone).strftime("%m-%d") for p in points],
                             [(s.name, s.values) for s in series_from_points(points, names, words.plain("总分"))],
                             version_changes(points), [clock.local_day(p.submitted_at, zone) for p in points],
                             [o.window.opens_on for o in missed], lambda day: f"{day:%m-%d} " + words.plain("漏检"))
    chart = line_chart(
        axis.labels, axis.series, markers=axis.markers, marker_label=words.plain("检查表换版"), missed=axis.missed,
        missed_label=words.plain("计划内漏检"), width=720, height=330,
        title=words.plain("%(name)s 6S 得分趋势", name=workshop.name),
    ) if points or missed else None
    findings = finding_rows(session=session, inspection_ids=ids)
    latest_id = ids[-1] if ids else None
    category_means = {key: mean(p.category_percents.get(key) for p in points) for key in names}
    ranked = sorted(((v, k) for k, v in category_means.items() if v is not None))
    return {
        "workshop": workshop,
        "plant": workshop.plant,
        "period": period,
        "points": points,
        "inspections": inspections,
        "category_names": names,
        "category_word": category_word(session, ids, words),
        "chart": chart,
        "average": mean(p.overall_percent for p in points),
        "first": points[0] if points else None,
        "last": points[-1] if points else None,
        "weakest": ranked[0] if ranked else None,
        "strongest": ranked[-1] if ranked else None,
        "category_means": category_means,
        "top_findings": top_findings(findings, 10),
        "open_findings": [f for f in findings if f.inspection_id == latest_id],
        "version_changes": {points[i].inspection_id for i in version_changes(points)},
        "plan": planned.of(workshop.id),
        "missed": missed,
        **quality_pages(session=session, workshops=[workshop], period=period, workshop=workshop, words=words),
        **period_actions(session=session, workshop=workshop, since=since, until=until),
        **period_red_tags(session=session, workshop=workshop, period=period, since=since, until=until, words=words),
    }


def quality_pages(*, session: Session, workshops, period, workshop=None, words: ReportLanguage | None = None) -> dict:
    """The control chart (one workshop: its overall score since the last version change, every signal rule) and
    the period's Pareto of findings, as the printed reports show them."""

    words = words or ReportLanguage.of_screen()
    found = pareto_of_findings(session=session, workshops=workshops, period=period, by="item")
    pages = {"pareto": found, "pareto_bars": MAX_PARETO_BARS, "pareto_chart": pareto_chart(
        found.rows, title=words.plain("问题排列图"), count_label=words.plain("问题次数"),
        share_label=words.plain("累计占比")) if found.rows else None}
    if workshop is not None:
        since, until = period.bounds(clock.zone_of(workshop.plant))
        control = control_chart(session=session, workshop=workshop, rules=(1, 2, 3, 4), since=since, until=until)
        label = lambda i: control.dates[i][5:]  # noqa: E731 - MM-DD
        pages["control"] = control
        pages["control_chart"] = control_chart_svg([d[5:] for d in control.dates], control.chart,
                                                   title=words.plain("%(name)s 过程控制图", name=workshop.name),
                                                   value_label=words.plain("得分率 %"),
                                                   range_label=words.plain("移动极差")) if control.points else None
        # in the locale the report is gathered in (period_issuing: English for an English report)
        pages["control_signals"] = [signal_words(s, label) for s in control.chart.signals]
    return pages


def period_actions(*, session: Session, workshop, since, until) -> dict:
    """The corrective actions the period opened (found in it) and closed (verified in it)."""

    query = (select(CorrectiveAction, Finding).join(Finding, CorrectiveAction.finding_id == Finding.id)
             .where(CorrectiveAction.workshop_id == workshop.id).order_by(Finding.created_at, CorrectiveAction.id))

    def within(t) -> bool:
        t = clock.as_utc(t)
        return t is not None and (since is None or t >= since) and (until is None or t < until)

    rows = session.exec(query).all()
    return {"actions_opened": [(a, f) for a, f in rows if within(f.created_at)],
            "actions_closed": [(a, f) for a, f in rows if a.status == "verified" and within(a.closed_at)]}


def period_red_tags(*, session: Session, workshop, period, since, until, words: ReportLanguage | None = None) -> dict:
    """The workshop's red tags in a period: raised in it, decided in it, and still undecided at its end (as the
    register stood then, so a later decision does not rewrite an old report), each with its state at the end."""

    words = words or ReportLanguage.of_screen()

    tags = session.exec(select(RedTag).where(RedTag.workshop_id == workshop.id, RedTag.tagged_on <= period.end)
                        .order_by(RedTag.tagged_on, RedTag.id)).all()

    def decided_by_end(tag) -> bool:
        return tag.decided_at is not None and clock.as_utc(tag.decided_at) < until

    def state_at_end(tag) -> str:
        if decided_by_end(tag):
            return words.plain(OUTCOME_NAMES_ZH[tag.outcome])
        return words.plain("已过留置期") if tag.hold_until < period.end else words.plain("留置中")

    raised = [t for t in tags if t.tagged_on >= period.start]
    decided = [t for t in tags if decided_by_end(t) and clock.as_utc(t.decided_at) >= since]
    undecided = [t for t in tags if not decided_by_end(t)]
    shown = sorted({t.id: t for t in raised + decided + undecided}.values(), key=lambda t: (t.tagged_on, t.id))
    return {"tags_raised": raised, "tags_decided": decided, "tags_undecided_at_end": undecided,
            "tags_overdue_at_end": [t for t in undecided if t.hold_until < period.end],
            "tag_rows": [(t, words.plain(REASON_NAMES_ZH[t.reason]), state_at_end(t), decided_by_end(t))
                         for t in shown]}


def monthly_league(*, session: Session, workshops, month, planned=None, words: ReportLanguage | None = None):
    """The month's league of these workshops from the rollups: (rows, category names, grade bands, count). Each
    workshop's month is the calendar month at its own plant (plants in several zones: one query per zone)."""

    by_zone: dict[str, list[int]] = {}
    for w in workshops:
        by_zone.setdefault(w.plant.timezone, []).append(w.id)
    this, last = {}, {}
    for zone_name, ids_of in by_zone.items():
        zone = clock.zone_named(zone_name)
        this.update(trends_by_workshop(session=session, workshop_ids=ids_of, **_between(month.bounds(zone))))
        last.update(trends_by_workshop(session=session, workshop_ids=ids_of,
                                       **_between(previous_month(month).bounds(zone))))
    this_month = {w.code: this.get(w.id, []) for w in workshops}
    last_month = {w.code: last.get(w.id, []) for w in workshops}
    ids = [p.inspection_id for points in this_month.values() for p in points]
    words = words or ReportLanguage.of_screen()
    checklists = list(dict.fromkeys(p.checklist_key for points in this_month.values() for p in points))
    if len(checklists) > 1:
        # several checklists: each one's categories are columns of their own (安全 of one sheet is not 安全 of
        # another, nor an English plant's Sort the 整理 of a Chinese sheet); versions of one checklist share theirs
        names = checklist_category_names(session, this_month, checklists, words)
        this_month = {code: [per_checklist(p) for p in points] for code, points in this_month.items()}
    else:
        names = category_names(session, ids, words)
    if planned is None:  # the plan figures of the month, when the caller has not worked them out already
        planned = month_plan_figures(session=session, workshops=workshops, month=month)
    league = league_table([(w.code, w.name) for w in workshops], this_month, last_month, list(names),
                          missed={w.code: planned.missed_count(w.id) for w in workshops},
                          zero_for_missed={w.code for w in workshops if w.plant.missed_counts_as_zero})
    grades = DEFAULT_GRADES
    if ids:
        newest = session.get(Inspection, max(ids))
        grades = tuple(scheme_from_dict(newest.version.scheme).grades)
    return league, names, grades, len(ids)


CHECKLIST_COLUMN = ":"  # "checklist:category": a heat map's column when a month mixes checklists


def per_checklist(point):
    """A trend point whose category percents are keyed by checklist and category."""

    return replace(point, category_percents={f"{point.checklist_key}{CHECKLIST_COLUMN}{key}": value
                                             for key, value in point.category_percents.items()})


def checklist_category_names(session: Session, points_by_workshop, checklists, words: ReportLanguage) -> dict:
    """The columns of a month that mixes checklists: each checklist's categories, named "整理 · 检查表名"."""

    titles = dict(session.exec(select(Checklist.key, Checklist.name).where(Checklist.key.in_(checklists))).all())
    names = {}
    for checklist in checklists:
        ids = [p.inspection_id for points in points_by_workshop.values() for p in points
               if p.checklist_key == checklist]
        for key, name in category_names(session, ids, words).items():
            names[f"{checklist}{CHECKLIST_COLUMN}{key}"] = f"{name} · {titles.get(checklist, checklist)}"
    return names


def month_plan_figures(*, session: Session, workshops, month):
    """The plan figures of the occurrences opening in the month (each plant's own days), states as of now."""

    return plan_figures(session, workshops, month.start, month.end, plant_days(session))


def _between(bounds) -> dict:
    return {"since": bounds[0], "until": bounds[1]}


def plant_report_context(*, session: Session, plant, workshops, month, for_print: bool = True,
                         words: ReportLanguage | None = None) -> dict:
    """The monthly 6S 评比 of a plant's workshops (those the reader may see), the month at the plant. The screen
    (for_print False) links to the Pareto instead of drawing it."""

    planned = month_plan_figures(session=session, workshops=workshops, month=month)
    league, names, grades, count = monthly_league(session=session, workshops=workshops, month=month,
                                                  planned=planned, words=words)
    ranked = [row for row in league if row.rank is not None]
    return {
        **(quality_pages(session=session, workshops=workshops, period=month, words=words) if for_print else {}),
        "plan": planned,
        "plan_by_code": {w.code: planned.of(w.id) for w in workshops},
        "missed_by_code": {w.code: planned.missed.get(w.id, []) for w in workshops},
        "plant": plant,
        "workshops": workshops,
        "month": month,
        "league": league,
        "category_names": names,
        "colour": lambda percent: band_colour(percent, grades),
        "heat": lambda percent: heat_level(percent, grades),  # screens use classes (no inline styles: CSP)
        "grade_for": lambda percent: next((label for m, label in grades if percent is not None and percent >= m),
                                          None),
        "grades": grades,
        "top": [row for row in ranked if not row.failed][:3],  # a workshop that failed is never on the podium
        "bottom": list(reversed(ranked[-3:])) if len(ranked) > 3 else [],
        "plant_average": mean(row.average for row in ranked),
        "inspection_count": count,
    }
