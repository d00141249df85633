"""What a report shows, gathered once (database → plain values) so templates never query."""

from __future__ import annotations

from sqlmodel import Session, select

from checklists.schemes import scheme_from_dict
from inspections.models import Inspection, InspectionStatus
from inspections.reports.charts import line_chart, radar_chart
from inspections.service import answers_by_key, photos_by_item
from inspections.signatures import signatures_of
from inspections.trends import workshop_trend


def previous_inspection(*, session: Session, inspection: Inspection) -> Inspection | None:
    return session.exec(
        select(Inspection)
        .where(Inspection.workshop_id == inspection.workshop_id,
               Inspection.status == InspectionStatus.submitted,
               Inspection.submitted_at < inspection.submitted_at)
        .order_by(Inspection.submitted_at.desc())
    ).first()


def inspection_report_context(*, session: Session, inspection: Inspection) -> dict:
    """Rendered from the version the inspection used, never the current one."""
    version = inspection.version
    scheme = scheme_from_dict(version.scheme)
    answers = answers_by_key(inspection)
    photos = photos_by_item(session=session, inspection=inspection)
    results = list(inspection.category_results)
    previous = previous_inspection(session=session, inspection=inspection)
    previous_by_key = {r.category_key: r.percent for r in previous.category_results} if previous else {}
    labels = [r.category_name for r in results]
    radar = radar_chart(
        labels, [r.percent for r in results],
        [previous_by_key.get(r.category_key) for r in results] if previous else None,
        size=300, title="各类别得分",
    )
    history = [p for p in workshop_trend(session=session, workshop_id=inspection.workshop_id)
               if p.submitted_at <= inspection.submitted_at][-12:]
    sparkline = line_chart(
        [p.submitted_at.strftime("%m-%d") for p in history],
        [("总分", [p.overall_percent for p in history])], width=420, height=170, title="近期总分",
    ) if len(history) > 1 else None
    categories = [
        {
            "key": category.key,
            "name": category.name,
            "result": next((r for r in results if r.category_key == category.key), None),
            "previous_percent": previous_by_key.get(category.key),
            "items": [{"item": item, "answer": answers.get(item.key), "photos": photos.get(item.id, [])}
                      for item in category.items],
        }
        for category in version.categories
    ]
    for category in categories:
        category["findings"] = [row for row in category["items"] if row["answer"] is not None
                                and not row["answer"].not_applicable and scheme.is_finding(row["answer"].score)]
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
        # inspector first, then the countersign
        "signatures": list(signatures_of(session, inspection).values()),
    }
