"""The page an emailed survey links to (no sign-in: the signed, expiring link is the key; it names the
survey only and shows no patient data). A score, then the optional comment; the patient's language."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import pgettext

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import text_language
from careline.surveys.forms import AnswerForm
from careline.surveys.links import answer_token_survey
from careline.surveys.models import SCALE_RANGE, Scale, SurveyRequest, SurveyState
from careline.surveys.services.answers import survey_comment_record, survey_score_record


def answer_page(request: HttpRequest) -> HttpResponse:
    """Show the question (GET) or record the answer (POST) of the survey the link names."""
    token = request.POST.get("t") or request.GET.get("t") or ""
    pk = answer_token_survey(token)
    survey = SurveyRequest.objects.select_related("patient", "location").filter(pk=pk).first() if pk else None
    if survey is None or survey.state not in (SurveyState.SENT, SurveyState.COMMENTING, SurveyState.ANSWERED):
        return render(request, "surveys/answer_gone.html", status=404)
    with translation.override(text_language(survey.patient.language)):
        return _answer(request, survey, token)


def _answer(request: HttpRequest, survey: SurveyRequest, token: str) -> HttpResponse:
    low, high = SCALE_RANGE[survey.scale]
    question = (
        pgettext("survey web question", "How likely are you to recommend us to a friend?")
        if survey.scale == Scale.NPS
        else pgettext("survey web question", "How was your visit?")
    )
    form = AnswerForm(
        request.POST if request.method == "POST" else None, low=low, high=high, score_label=question,
        comment_label=pgettext("survey web question", "What is the main reason for your score? (optional)"),
    )  # fmt: skip
    status = 200
    if survey.state == SurveyState.COMMENTING:
        form.fields["score"].required = False
    if request.method == "POST":
        if form.is_valid():
            now = timezone.now()
            comment = form.cleaned_data["comment"] or ""
            if survey.state == SurveyState.SENT:
                survey_score_record(survey=survey, score=form.cleaned_data["score"], comment=comment, now=now)
            elif survey.state == SurveyState.COMMENTING and comment:
                survey_comment_record(survey=survey, comment=comment, now=now)
            audit_record(
                action=AuditAction.UPDATE, actor=Actor.patient(survey.patient_id), obj=survey,
                patient_id=survey.patient_id, detail="survey answered on the web page",
            )  # fmt: skip
            survey.refresh_from_db()
        else:
            status = 400
    return render(
        request, "surveys/answer.html",
        {"form": form, "survey": survey, "token": token, "low": low, "high": high}, status=status,
    )  # fmt: skip
