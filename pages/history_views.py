"""An inspection's own history on a page of its own (the history itself: pages/history.py). Its route joins
the inspections blueprint."""

from __future__ import annotations

from database import db
from inspections.views import get_inspection_or_404
from pages.history import inspection_history
from pages.views import bp
from web import render_page


@bp.get("/inspections/<int:inspection_id>/history")
def history(inspection_id: int):
    """Whoever may see the inspection may read what happened to it."""
    inspection = get_inspection_or_404(inspection_id)
    return render_page("pages/history.html", inspection=inspection, workshop=inspection.workshop,
                       entries=inspection_history(session=db(), inspection=inspection))
