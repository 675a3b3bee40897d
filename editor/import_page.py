"""The import page: a legal adviser pastes or uploads a law and gets a live document to edit."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, Regexp

from akoma_ntoso import AkomaNtosoError

from . import permissions
from .documents import SLUG, DocumentError
from .import_findings import describe_all
from .interchange import IMPORTERS, format_for, import_document
from .services import current_services

bp = Blueprint("importing", __name__)


class ImportForm(FlaskForm):
    text = TextAreaField(_l("Paste the text of the law"), validators=[Optional()])
    file = FileField(_l("…or upload a file (plain text, Akoma Ntoso XML or a Word document)"))
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice(importer.key, importer.label) for importer in IMPORTERS.values()],
        default=next(iter(IMPORTERS)),
    )
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    slug = StringField(
        _l("Address (optional)"),
        validators=[Optional(), Regexp(SLUG, message=_l("Lower-case letters, digits and dashes only."))],
    )
    doctype = SelectField(_l("Type"), choices=[SelectChoice("bill", _l("Bill (a draft)")), SelectChoice("act", _l("Act (in force)"))],
                          default="bill")
    language = SelectField(
        _l("Language of the text"),
        choices=[SelectChoice("", _l("Detect from the text")), SelectChoice("spa", _l("Spanish")),
                 SelectChoice("eng", _l("English")), SelectChoice("por", _l("Portuguese")),
                 SelectChoice("fra", _l("French"))],
        default="",
    )
    publish = BooleanField(_l("Readable by the public at once"))


def _count(kind: str, n: int) -> str:
    """"3 artículos", "1 apartado": the kinds of unit as the committee names them."""
    forms = {
        "preamble": ngettext("%(num)d preamble", "%(num)d preambles", n),
        "title": ngettext("%(num)d title", "%(num)d titles", n),
        "chapter": ngettext("%(num)d chapter", "%(num)d chapters", n),
        "article": ngettext("%(num)d article", "%(num)d articles", n),
        "paragraph": ngettext("%(num)d apartado", "%(num)d apartados", n),
        "subparagraph": ngettext("%(num)d numeral", "%(num)d numerals", n),
        "point": ngettext("%(num)d fracción", "%(num)d fracciones", n),
        "indent": ngettext("%(num)d inciso", "%(num)d incisos", n),
        "transitional": ngettext("%(num)d group of transitional provisions", "%(num)d groups of transitional provisions", n),
        "transitory article": ngettext("%(num)d transitory article", "%(num)d transitory articles", n),
        "attachment": ngettext("%(num)d schedule", "%(num)d schedules", n),
        "crossHeading": ngettext("%(num)d cross-heading", "%(num)d cross-headings", n),
    }
    return forms[kind]


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    if not permissions.can_create_documents(current_user):
        abort(403)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else (form.text.data or "").encode("utf-8")
        if not data.strip():
            form.text.errors = [*form.text.errors, _l("Paste a text or choose a file.")]
            return render_template("import.html", form=form), 400
        fmt = format_for(upload.filename if upload else None, default=form.format.data)
        try:
            result = import_document(
                current_services(), data, fmt, slug=form.slug.data or None, title=form.title.data or None,
                doctype=form.doctype.data, published=form.publish.data, language=form.language.data or None,
            )
        except (AkomaNtosoError, DocumentError) as exc:
            current_services().db.rollback()
            return render_template("import.html", form=form, problem=str(exc)), 400
        summary = [_count(kind, n) for kind, n in result.counts().items()]
        return render_template("import_report.html", document=result.document, summary=summary,
                               findings=describe_all(result.built)), 201
    return render_template("import.html", form=form), (400 if form.errors else 200)
