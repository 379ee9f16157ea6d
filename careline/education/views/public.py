"""The recipient's side: the texted link counts an open and leads to the item's page, no sign-in, no patient data.

Both links are signed (careline/education/links.py); a tampered or unknown one answers 404 and counts
nothing. The item's page names no patient and lists nothing else.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from careline.education.article import article_html
from careline.education.links import item_id_of, item_token, send_id_of
from careline.education.models import EducationItem, ItemKind
from careline.education.services import education_link_open


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def open_link(request: HttpRequest, token: str) -> HttpResponseBase:
    """A texted link: count the open, then show the item."""
    send_id = send_id_of(token)
    item_id = education_link_open(send_id=send_id) if send_id is not None else None
    if item_id is None:
        raise Http404("This link is not valid.")
    return _private(redirect("education_public:item", token=item_token(item_id)))


@require_GET
def item_page(request: HttpRequest, token: str) -> HttpResponseBase:
    """The item: an article rendered, a PDF served, a video link followed."""
    item_id = item_id_of(token)
    item = EducationItem.objects.filter(pk=item_id, is_active=True).first() if item_id is not None else None
    if item is None:
        raise Http404("This link is not valid.")
    if item.kind == ItemKind.PDF:
        if not item.file:
            raise Http404("This item has no file.")
        try:
            handle = item.file.open("rb")
        except FileNotFoundError:
            raise Http404("This item's file is missing.") from None
        response = FileResponse(handle, content_type="application/pdf", filename=f"education-{item.pk}.pdf")
        response["Content-Disposition"] = f'inline; filename="education-{item.pk}.pdf"'
        return _private(response)
    if item.kind == ItemKind.VIDEO:
        return _private(HttpResponseRedirect(item.video_url))
    return _private(
        render(
            request,
            "education/public_item.html",
            {"item": item, "html": article_html(item.body), "language": item.language},
        )
    )
