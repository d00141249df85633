"""Our lean user-agent stylesheet (reports/user_agent.css) must print exactly what WeasyPrint's
own would: the same winning UA declarations on every element of our three reports, and the same pixels."""

import hashlib
import shutil
import subprocess

import pytest

import reports.issuing
import reports.period_issuing
from reports import pdf
from tests.conftest import AuthActions, _make_app
from tests.helpers import answer_all_in_one_go, published_items, scores_by, start, submit

needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm"), reason="apt-get install poppler-utils")


@pytest.fixture(scope="module")
def printed_html(sqlite_template, tmp_path_factory):
    """The HTML of an inspection report (with a photo-free finding and a signature), a workshop report and
    a plant report, as the app hands it to the renderer. Made once for both tests (it renders three reports)."""
    folder = tmp_path_factory.mktemp("user-agent")
    shutil.copyfile(sqlite_template, folder / "sixs.db")
    app = _make_app(f"sqlite:///{folder / 'sixs.db'}", folder)
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _capture_reports(app, monkeypatch)
    app.extensions["engine"].dispose()


def _capture_reports(app, monkeypatch) -> dict:
    captured = {}
    real_render = pdf.render_pdf

    def capture(html, *args, **kwargs):
        captured[len(captured)] = (html, args, kwargs)
        return real_render(html, *args, **kwargs)

    monkeypatch.setattr(reports.period_issuing, "render_pdf", capture)  # the period reports
    monkeypatch.setattr(reports.issuing, "render_pdf", capture)  # issued inspection reports
    client = app.test_client()
    AuthActions(client).login("sup1")
    items = published_items(app)
    for low in (1, 3):
        inspection_id = start(client, "W1")
        answer_all_in_one_go(app, inspection_id,
                             scores=scores_by(items, lambda i, item, low=low: low if i % 7 == 0 else 4))
        assert submit(client, inspection_id).status_code == 303
    assert client.get(f"/inspections/{inspection_id}/report.pdf").status_code == 200
    AuthActions(client).login("manager")
    assert client.get("/workshops/W1/report.pdf").status_code == 200
    assert client.get("/plants/P1/report.pdf").status_code == 200
    assert len(captured) == 3
    return dict(zip(("inspection", "workshop", "plant"), captured.values(), strict=True))


# Footnote and note pseudo-elements exist only for boxes floated as footnotes/notes, which we never print
# (checked below), so user_agent.css leaves their rules out.
UNUSED_PSEUDO_ELEMENTS = ("footnote-call", "footnote-marker", "note-call", "note-marker", "note-callback")


def _winning_ua_values(sheet, element) -> dict:
    """{(pseudo type, property): value} that the sheet's matching rules leave standing, cascade order."""
    matches = sorted(sheet.matcher.match(element), key=lambda match: (match[0], match[1]))
    values = {}
    for _specificity, _order, pseudo_type, (declarations, _layer) in matches:
        if pseudo_type in UNUSED_PSEUDO_ELEMENTS:
            continue
        for name, value, _important in declarations:
            values[pseudo_type, name] = repr(value)
    return values


def test_every_element_gets_the_same_user_agent_styles(printed_html):
    from weasyprint import HTML

    weasyprint_own = HTML(string="<p>x</p>")._ua_stylesheets()[0]
    lean = pdf._report_html_class()(string="<p>x</p>")._ua_stylesheets()[0]
    assert lean is not weasyprint_own
    assert "footnote" not in pdf.PRINT_CSS.read_text() and "float: note" not in pdf.PRINT_CSS.read_text()
    for report, (html, _args, _kwargs) in printed_html.items():
        elements = list(HTML(string=html).wrapper_element.iter_subtree())
        assert len(elements) > 100
        for element in elements:
            assert _winning_ua_values(lean, element) == _winning_ua_values(weasyprint_own, element), (
                f"{report}: <{element.local_name} class={element.etree_element.get('class')!r}> is styled "
                "differently by user_agent.css; copy WeasyPrint's rules for it")


@needs_poppler
def test_reports_print_the_same_pixels_with_either_user_agent_sheet(printed_html, tmp_path):
    def page_hashes(rendering: tuple, full_user_agent: bool, name: str) -> list[str]:
        html, args, kwargs = rendering
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf.render_pdf(html, *args, **kwargs, full_user_agent=full_user_agent))
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / name)], check=True)
        pages = sorted(tmp_path.glob(f"{name}-*.png"))
        return [hashlib.sha256(page.read_bytes()).hexdigest() for page in pages]

    for report, rendering in printed_html.items():
        ours = page_hashes(rendering, False, f"{report}-lean")
        weasyprint_own = page_hashes(rendering, True, f"{report}-full")
        assert ours and ours == weasyprint_own, report
